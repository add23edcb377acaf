import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** User and system CPU time of a process, all its threads (/proc/PID/stat: utime, stime). */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a /proc/PID/stat text, in seconds. */
function statCpuSeconds(stat: string): number {
  // The fields after the command name (in parentheses, which may hold spaces): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * User and system CPU time of every process on this machine whose command name starts with
 * `command` (a database server's processes: its backends, writers, autovacuum), those alive
 * now: a process that has exited takes its time with it. Null when there is none.
 */
export function commandCpuSeconds(command: string): number | null {
  let seconds = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith(command)) continue;
    seconds += statCpuSeconds(stat);
    found = true;
  }
  return found ? seconds : null;
}

/** The machine's CPU time so far, all cores (/proc/stat): busy, and in all. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is counted in user already)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

/** What a run cost: CPU per request of the server and of the load generator, and how busy the whole machine was. */
export interface RunCpu {
  /** µs of CPU (all threads) per request: the whole run's CPU, warm-up included, over every request it completed. */
  readonly serverMicros: number;
  readonly loadGeneratorMicros: number;
  /** Share of all the machine's cores that was busy during the run, 0..1 (every process, the bench's own included). */
  readonly machineBusy: number;
}

/**
 * Runs `run` and measures, from /proc, the CPU its server and its load generator spent per
 * request (every request the run completed, warm-up included), and how busy the machine was. On a machine whose cores the server and
 * the load generator share, a run that keeps it near 100% busy is CPU-bound: its rate is the
 * cores divided by what both spend per request.
 */
export async function measureCpu<R extends { readonly completed: number }>(processes: { readonly server: () => number; readonly loadGenerator: () => number }, run: () => Promise<R>): Promise<{ report: R; cpu: RunCpu }> {
  const server = processes.server();
  const loadGenerator = processes.loadGenerator();
  const machine = machineTicks();
  const report = await run();
  const after = machineTicks();
  const per = (seconds: number): number => (seconds * 1e6) / Math.max(1, report.completed);
  return {
    report,
    cpu: {
      serverMicros: per(processes.server() - server),
      loadGeneratorMicros: per(processes.loadGenerator() - loadGenerator),
      machineBusy: after.total > machine.total ? (after.busy - machine.busy) / (after.total - machine.total) : 0,
    },
  };
}

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { measureCpu } from './cpu-meter';
import { startHttpFloorServer } from './http-floor-process';
import { FLOOR_REQUEST } from './floor-request';
import { startServer } from './joinery-cli';
import { prepareJoinRun } from './join-run';
import { LoadGeneratorProcess } from './load-generator-process';
import { formatSummary, summarize, type CpuProfile } from './profile-summary';
import { createRegistry } from './registry';

/**
 * The server alone under 1.0.3 joins at concurrency 64 (SQLite, 10,000 devices), profiled:
 * `node bench/dist/profile-joins.js [--seconds 10] [--out DIR] [--runs 1] [--perf]`. The server runs with
 * `--cpu-prof`; after a warm-up of a few seconds, each measured run's samples are summed by
 * function and by module (see profile-summary.ts), as µs per join, next to the HTTP floor's and
 * the server's CPU per request from /proc in runs alternated with it. DIR keeps the profiles
 * and the summary.
 *
 * V8's profiler samples wall time: a sample taken while the main thread waits for a core (on a
 * busy machine, right after a socket write woke the load generator) lands on the native call it
 * was in (`writev`). `--perf` (Linux perf, as root or with perf_event_paranoid <= 1) samples the
 * server's CPU time instead, kernel included, by shared object and symbol (node runs with
 * `--perf-basic-prof` so that JIT code is named).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, out: { type: 'string' }, runs: { type: 'string' }, devices: { type: 'string' }, perf: { type: 'boolean' } } });
  const seconds = Number(values.seconds ?? 10);
  const runs = Number(values.runs ?? 1);
  const work = mkdtempSync(path.join(os.tmpdir(), 'joinery-profile-'));
  const out = values.out ?? work;
  const profiles = path.join(out, 'profiles');
  mkdirSync(out, { recursive: true });
  const load = new LoadGeneratorProcess();
  try {
    const registry = await createRegistry(work, 'registry-profile', Number(values.devices ?? 10_000));
    const server = await startServer(registry.dataDir, [], ['--cpu-prof', '--cpu-prof-dir', profiles, ...(values.perf ? ['--perf-basic-prof'] : [])]);
    const floor = await startHttpFloorServer(registry.dataDir);
    const c = 64;
    const schedule = (s: number) => ({ kind: 'duration', seconds: s, warmupSeconds: 0 }) as const;
    // Warm-up: V8 compiles the hot path in the first seconds of a new process.
    await (await prepareJoinRun(load, server, registry, c, '1.0.3', schedule(4), { expectedPerSecond: 4_000 })).run();
    const windows: { from: bigint; to: bigint; joins: number }[] = [];
    const lines: string[] = [];
    for (let i = 0; i < runs; i++) {
      const f = await load.prepare({ urls: [floor.url], tls: registry.tls, concurrency: c, traffic: { kind: 'fixed', body: FLOOR_REQUEST }, schedule: schedule(seconds) });
      const fm = await measureCpu({ server: () => floor.cpuSeconds(), loadGenerator: () => load.cpuSeconds() }, () => f.run());
      const j = await prepareJoinRun(load, server, registry, c, '1.0.3', schedule(seconds), { expectedPerSecond: fm.report.perSecond });
      const perfData = path.join(out, `perf-${i + 1}.data`);
      const perf = values.perf ? spawn('perf', ['record', '-q', '-F', '2000', '-e', 'cpu-clock', '-p', String(server.pid), '-o', perfData], { stdio: 'ignore' }) : null;
      const perfExited = perf ? new Promise((r) => perf.once('exit', r)) : null;
      const from = process.hrtime.bigint();
      const jm = await measureCpu({ server: () => server.cpuSeconds(), loadGenerator: () => load.cpuSeconds() }, () => j.run());
      if (perf) {
        perf.kill('SIGINT');
        await perfExited;
        for (const sort of ['dso', 'dso,sym']) {
          const report = execFileSync('perf', ['report', '-i', perfData, '--stdio', '--sort', sort, '--percent-limit', '0.7'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          lines.push(
            `perf, run ${i + 1}, by ${sort} (share of the server's CPU samples, all threads):`,
            ...report
              .split('\n')
              .filter((l) => l.trim() !== '' && !l.startsWith('#'))
              .map((l) => l.slice(0, 160)),
          );
        }
      }
      windows.push({ from, to: process.hrtime.bigint(), joins: jm.report.completed });
      lines.push(
        `run ${i + 1}: HTTP floor ${fm.report.perSecond.toFixed(0)}/s, CPU ${fm.cpu.serverMicros.toFixed(0)} + ${fm.cpu.loadGeneratorMicros.toFixed(0)} µs/request; ` +
          `joins ${jm.report.perSecond.toFixed(0)}/s, CPU ${jm.cpu.serverMicros.toFixed(0)} + ${jm.cpu.loadGeneratorMicros.toFixed(0)} µs/join (server all threads, /proc); ` +
          `x floor ${(jm.report.perSecond / fm.report.perSecond).toFixed(2)}, server CPU x floor's ${(jm.cpu.serverMicros / fm.cpu.serverMicros).toFixed(2)}`,
      );
    }
    await floor.stop();
    await server.stop();
    // The main thread's profile: node names it CPU.<date>.<time>.<pid>.<thread id 0>.<seq>.cpuprofile.
    const main = readdirSync(profiles).find((f) => f.includes(`.${server.pid}.0.`));
    if (!main) throw new Error(`no main-thread profile of ${server.pid} in ${profiles}`);
    const p = JSON.parse(readFileSync(path.join(profiles, main), 'utf8')) as CpuProfile;
    // The profile's clock is the monotonic one process.hrtime reads (µs).
    const joins = windows.reduce((s, w) => s + w.joins, 0);
    const summaries = windows.map((w) => summarize(p, Number(w.from / 1000n) - p.startTime, Number(w.to / 1000n) - p.startTime));
    const text = [...lines, '', `main thread, ${runs} measured run(s) of ${seconds} s:`, formatSummary(merge(summaries), joins)].join('\n');
    writeFileSync(path.join(out, 'summary.txt'), `${text}\n`);
    console.log(text);
  } finally {
    load.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function merge(xs: ReturnType<typeof summarize>[]): ReturnType<typeof summarize> {
  const sum = (pick: (x: (typeof xs)[number]) => readonly { name: string; selfMicros: number; totalMicros: number }[]) => {
    const m = new Map<string, { name: string; selfMicros: number; totalMicros: number }>();
    for (const x of xs)
      for (const l of pick(x)) {
        const e = m.get(l.name) ?? { name: l.name, selfMicros: 0, totalMicros: 0 };
        m.set(l.name, { name: l.name, selfMicros: e.selfMicros + l.selfMicros, totalMicros: e.totalMicros + l.totalMicros });
      }
    return [...m.values()].sort((a, b) => b.selfMicros - a.selfMicros);
  };
  return {
    sampledMicros: xs.reduce((s, x) => s + x.sampledMicros, 0),
    idleMicros: xs.reduce((s, x) => s + x.idleMicros, 0),
    functions: sum((x) => x.functions),
    modules: sum((x) => x.modules),
    areas: sum((x) => x.areas),
  };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});

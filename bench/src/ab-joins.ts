import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchMACVersion } from './bench-devices';
import { measureCpu } from './cpu-meter';
import { FLOOR_REQUEST } from './floor-request';
import { startHttpFloorServer } from './http-floor-process';
import { startServer, type RunningServer } from './joinery-cli';
import { prepareJoinRun } from './join-run';
import { LoadGeneratorProcess } from './load-generator-process';
import { createRegistry } from './registry';

/**
 * A change measured in alternated runs: `node bench/dist/ab-joins.js --a-cli OTHER/core/dist/cli/main.js
 * [--b-cli ...] [--seconds 5] [--pairs 4] [--concurrency 64] [--mac 1.0.3] [--a-env K=V] [--b-env K=V]`.
 * Two `joinery serve` processes (A: another build, or this one with other environment variables;
 * B: this checkout), each on a registry of its own (alike), both warmed up, then pairs of runs,
 * each run right after an HTTP floor run, so every pair sees the same machine: per run the
 * joins/s, its ratio to the floor next to it, and the server's CPU per join (all threads, /proc);
 * per pair B / A, and their geometric mean.
 * `--fresh`: a new server for each run instead, and its first second's joins over its steady rate
 * (a fresh server's target).
 *
 * The pairs run A B, B A, A B, B A... (`runOrder`), so that a run's place in the sequence cannot
 * favour one side. It did (bench/README.md): with A and B alike and strictly alternated, the
 * second run of each pair came out cheaper and nearer its floor, until the load generator
 * collected its garbage before each run (load-generator.ts). The order is kept against any other
 * effect of place; the geometric mean of the pairs is the figure to read.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'a-cli': { type: 'string' },
      'b-cli': { type: 'string' },
      'a-env': { type: 'string', multiple: true },
      'b-env': { type: 'string', multiple: true },
      seconds: { type: 'string' },
      pairs: { type: 'string' },
      concurrency: { type: 'string' },
      mac: { type: 'string' },
      devices: { type: 'string' },
      fresh: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds ?? 5);
  const pairs = Number(values.pairs ?? 4);
  const c = Number(values.concurrency ?? 64);
  const mac = (values.mac ?? '1.0.3') as BenchMACVersion;
  const env = (kv: readonly string[] | undefined): NodeJS.ProcessEnv => ({ ...process.env, ...Object.fromEntries((kv ?? []).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)])) });
  const work = mkdtempSync(path.join(os.tmpdir(), 'joinery-ab-'));
  const load = new LoadGeneratorProcess();
  const servers: RunningServer[] = [];
  try {
    // A registry for each, alike (as many devices, made by its own CLI, so each build opens a
    // schema it knows): on one shared registry, the joins of one server would outdate the devices
    // the other keeps in memory, and each kept device would lose its first commit of every run.
    const size = Number(values.devices ?? 10_000);
    const registries = { A: await createRegistry(work, 'registry-a', size, undefined, values['a-cli']), B: await createRegistry(work, 'registry-b', size, undefined, values['b-cli']) };
    if (values.fresh) {
      // A new server each time, A and B alternated: its joins in each second from the first
      // request, its first second over its steady rate (the median of its seconds 3 to the end).
      const firsts: Record<'A' | 'B', number[]> = { A: [], B: [] };
      for (const name of runOrder(pairs)) {
        const registry = registries[name];
        const s = await startServer(registry.dataDir, [], [], env(values[name === 'A' ? 'a-env' : 'b-env']), values[name === 'A' ? 'a-cli' : 'b-cli'] ? { cli: values[name === 'A' ? 'a-cli' : 'b-cli']! } : {});
        const r = await (await prepareJoinRun(load, s, registry, c, mac, { kind: 'duration', seconds, warmupSeconds: 0 }, { expectedPerSecond: 4_000 })).run();
        await s.stop();
        const per = r.completedPerSecond.slice(0, Math.floor(seconds));
        const steady = [...per.slice(3)].sort((x, y) => x - y)[Math.floor((per.length - 4) / 2)] ?? 0;
        firsts[name].push(per[0]! / steady);
        console.log(`${name}: listening ${s.startSeconds.toFixed(2)} s after its start; joins per second ${per.join(', ')}; first / steady ${(per[0]! / steady).toFixed(2)}`);
      }
      console.log(
        `first second / steady, per pair B / A: ${firsts.B.map((b, k) => `${b.toFixed(2)} / ${firsts.A[k]!.toFixed(2)}`).join(', ')}; geometric mean of B / A ${geometricMean(firsts.B.map((b, k) => b / firsts.A[k]!)).toFixed(3)}`,
      );
      return;
    }
    const a = await startServer(registries.A.dataDir, [], [], env(values['a-env']), values['a-cli'] ? { cli: values['a-cli'] } : {});
    servers.push(a);
    const b = await startServer(registries.B.dataDir, [], [], env(values['b-env']), values['b-cli'] ? { cli: values['b-cli'] } : {});
    servers.push(b);
    const floor = await startHttpFloorServer(registries.B.dataDir);
    const schedule = (s: number) => ({ kind: 'duration', seconds: s, warmupSeconds: s / 4 }) as const;
    for (const [s, registry] of [
      [a, registries.A],
      [b, registries.B],
    ] as const)
      await (await prepareJoinRun(load, s, registry, c, mac, schedule(3), { expectedPerSecond: 4_000 })).run();
    const rows: { name: string; perSecond: number; ratio: number; cpu: number; floorCpu: number }[] = [];
    for (const name of runOrder(pairs)) {
      const s = name === 'A' ? a : b;
      const registry = registries[name];
      const f = await load.prepare({ urls: [floor.url], tls: registries.B.tls, concurrency: c, traffic: { kind: 'fixed', body: FLOOR_REQUEST }, schedule: schedule(seconds) });
      const fm = await measureCpu({ server: () => floor.cpuSeconds(), loadGenerator: () => load.cpuSeconds() }, () => f.run());
      const j = await prepareJoinRun(load, s, registry, c, mac, schedule(seconds), { expectedPerSecond: fm.report.perSecond });
      const jm = await measureCpu({ server: () => s.cpuSeconds(), loadGenerator: () => load.cpuSeconds() }, () => j.run());
      const row = { name, perSecond: jm.report.perSecond, ratio: jm.report.perSecond / fm.report.perSecond, cpu: jm.cpu.serverMicros, floorCpu: fm.cpu.serverMicros };
      rows.push(row);
      console.log(
        `${name}: ${row.perSecond.toFixed(0)} joins/s, x floor ${row.ratio.toFixed(2)} (floor ${fm.report.perSecond.toFixed(0)}/s), server ${row.cpu.toFixed(0)} µs/join (x floor's ${(row.cpu / row.floorCpu).toFixed(2)}), generator ${jm.cpu.loadGeneratorMicros.toFixed(0)} / ${fm.cpu.loadGeneratorMicros.toFixed(0)} µs`,
      );
    }
    await floor.stop();
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
    const col = (n: 'A' | 'B', k: 'ratio' | 'cpu' | 'perSecond'): number[] => rows.filter((r) => r.name === n).map((r) => r[k]);
    const pairsCpu = col('B', 'cpu').map((x, i) => x / col('A', 'cpu')[i]!);
    const pairsRatio = col('B', 'ratio').map((x, i) => x / col('A', 'ratio')[i]!);
    console.log(
      `medians: A x floor ${median(col('A', 'ratio')).toFixed(2)}, ${median(col('A', 'cpu')).toFixed(0)} µs/join; B x floor ${median(col('B', 'ratio')).toFixed(2)}, ${median(col('B', 'cpu')).toFixed(0)} µs/join`,
    );
    console.log(`per pair B / A: server CPU per join ${pairsCpu.map((x) => x.toFixed(2)).join(', ')}; x floor ${pairsRatio.map((x) => x.toFixed(2)).join(', ')}`);
    console.log(`geometric mean of the pairs, B / A: server CPU per join ${geometricMean(pairsCpu).toFixed(3)}; x floor ${geometricMean(pairsRatio).toFixed(3)}`);
  } finally {
    for (const s of servers) await s.stop();
    load.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A B, B A, A B...: each side first in every other pair. */
function runOrder(pairs: number): ('A' | 'B')[] {
  return Array.from({ length: pairs }, (_, k) => (k % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const))).flat();
}

function geometricMean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});

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
 * B: this checkout), each on a registry of its own (alike), both warmed up, then runs of A, B, A, B... each right after
 * an HTTP floor run, so every pair sees the same machine: per run the joins/s, its ratio to the
 * floor next to it, and the server's CPU per join (all threads, /proc); per pair B / A.
 * `--fresh`: a new server for each run instead, A and B alternated, and its first second's joins
 * over its steady rate (a fresh server's target).
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
      for (let i = 0; i < 2 * pairs; i++) {
        const name = i % 2 === 0 ? 'A' : 'B';
        const registry = registries[name];
        const s = await startServer(registry.dataDir, [], [], env(values[name === 'A' ? 'a-env' : 'b-env']), values[name === 'A' ? 'a-cli' : 'b-cli'] ? { cli: values[name === 'A' ? 'a-cli' : 'b-cli']! } : {});
        const r = await (await prepareJoinRun(load, s, registry, c, mac, { kind: 'duration', seconds, warmupSeconds: 0 }, { expectedPerSecond: 4_000 })).run();
        await s.stop();
        const per = r.completedPerSecond.slice(0, Math.floor(seconds));
        const steady = [...per.slice(3)].sort((x, y) => x - y)[Math.floor((per.length - 4) / 2)] ?? 0;
        firsts[name].push(per[0]! / steady);
        console.log(`${name}: listening ${s.startSeconds.toFixed(2)} s after its start; joins per second ${per.join(', ')}; first / steady ${(per[0]! / steady).toFixed(2)}`);
      }
      console.log(`first second / steady, per pair B / A: ${firsts.B.map((b, k) => `${b.toFixed(2)} / ${firsts.A[k]!.toFixed(2)}`).join(', ')}`);
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
    for (let i = 0; i < 2 * pairs; i++) {
      const [name, s] = i % 2 === 0 ? (['A', a] as const) : (['B', b] as const);
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
  } finally {
    for (const s of servers) await s.stop();
    load.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});

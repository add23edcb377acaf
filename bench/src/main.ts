import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VERSION } from '@joinery/core';
import { BENCH_USAGE, BenchUsageError, parseBenchOptions, serverNodeArgs, type BenchOptions } from './bench-options';
import { measureCpu, type RunCpu } from './cpu-meter';
import { cryptoFloor } from './crypto-floor';
import { startHttpFloorServer } from './http-floor-process';
import { startServer, type RunningServer } from './joinery-cli';
import { joinRun, prepareJoinRun } from './join-run';
import { LoadGeneratorProcess, type PreparedLoad } from './load-generator-process';
import type { LoadReport, Schedule } from './load-plan';
import { migrationRateRow } from './migration-rate';
import { pkcs11VaultRow } from './pkcs11-vault-row';
import { postgresRow } from './postgres-row';
import { createRegistry } from './registry';
import {
  medianBy,
  round,
  roundCpu,
  target,
  type BenchResults,
  type CpuBudget,
  type FloorOpenLoopPoint,
  type JoinRow,
  type OpenLoopPoint,
  type OptionalRow,
  type FreshServer,
  type ScaleRow,
  type StormRow,
  type Target,
} from './results';
import { storageFloor } from './storage-floor';
import { wakePenalty } from './wake-penalty';
import { printTable } from './table';
import { FLOOR_REQUEST } from './floor-request';

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    const parsed = parseBenchOptions(process.argv.slice(2), process.env);
    if (parsed === 'help') {
      process.stdout.write(BENCH_USAGE);
      return;
    }
    o = parsed;
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n${BENCH_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const startedAt = new Date();
  const work = mkdtempSync(path.join(os.tmpdir(), 'joinery-bench-'));
  const load = new LoadGeneratorProcess();
  const servers: RunningServer[] = [];
  const stop = async (s: RunningServer): Promise<void> => {
    servers.splice(servers.indexOf(s), 1);
    await s.stop();
  };
  const duration: Schedule = { kind: 'duration', seconds: o.seconds, warmupSeconds: o.warmupSeconds };
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: round(os.loadavg()[0]!, 2),
  };
  progress(`${o.quick ? 'quick' : 'full'} run on ${machine.cpus} × ${machine.cpuModel}, work directory ${work}`);
  try {
    // The registry of the join runs (and the small scale point), and its server.
    progress(`importing ${o.registry} devices`);
    const small = await createRegistry(work, 'registry-small', o.registry);
    const server = await startServer(small.dataDir, [], serverNodeArgs(o, 'joins'));
    servers.push(server);

    // 1. Floors. The HTTP floor is measured at each concurrency first, and again right before
    // each join run at that concurrency: a join run's ratio is to the floor measured next to it,
    // so a machine whose speed drifts during the run (a shared VM) does not move the ratio.
    progress('HTTP floor');
    const floorServer = await startHttpFloorServer(small.dataDir);
    // CPU per request of a run's server and of the load generator, from /proc.
    // The requests are built first (the load generator's trace), then the CPU is measured around
    // sending them alone.
    const withCpu = async (s: { cpuSeconds(): number }, prepared: PreparedLoad): Promise<{ report: LoadReport; cpu: RunCpu }> => {
      const measured = await measureCpu({ server: () => s.cpuSeconds(), loadGenerator: () => load.cpuSeconds() }, () => prepared.run());
      return { report: measured.report, cpu: roundCpu(measured.cpu) };
    };
    const floorLoad = async (c: number, schedule: Schedule): Promise<{ report: LoadReport; cpu: RunCpu }> => {
      const run = await withCpu(floorServer, await load.prepare({ urls: [floorServer.url], tls: small.tls, concurrency: c, traffic: { kind: 'fixed', body: FLOOR_REQUEST }, schedule }));
      const r = run.report;
      if (r.ok !== r.requests) throw new Error(`HTTP floor: ${r.requests - r.ok} failed requests ${JSON.stringify(r.failures)}`);
      return run;
    };
    const joinCpu = async (c: number, macVersion: '1.0.3' | '1.1', schedule: Schedule, expectedPerSecond: number): Promise<{ report: LoadReport; cpu: RunCpu }> =>
      withCpu(server, await prepareJoinRun(load, server, small, c, macVersion, schedule, { expectedPerSecond }));
    const floorRuns = new Map<number, LoadReport[]>();
    const floorRun = async (c: number): Promise<{ report: LoadReport; cpu: RunCpu }> => {
      const run = await floorLoad(c, duration);
      floorRuns.set(c, [...(floorRuns.get(c) ?? []), run.report]);
      return run;
    };
    const joins: JoinRow[] = [];
    let halfLoad: BenchResults['halfLoad'] = null;
    const openLoop: OpenLoopPoint[] = [];
    const floorOpenLoop: FloorOpenLoopPoint[] = [];
    let crypto: BenchResults['floors']['crypto'];
    let storage: BenchResults['floors']['storage'];
    let wake: BenchResults['floors']['wakePenalty'];
    try {
      for (const c of o.concurrency) await floorRun(c);
      progress('crypto, storage and wake-up floors');
      crypto = { '1.0.3': round(cryptoFloor('1.0.3', o.seconds / 2).perSecond, 0), '1.1': round(cryptoFloor('1.1', o.seconds / 2).perSecond, 0) };
      storage = { updatesPerSecond: round(storageFloor(work, o.seconds / 2).perSecond, 0) };
      const w = await wakePenalty(o.seconds / 2);
      wake = { pauseMs: w.pauseMs, backToBackMicros: round(w.backToBackMicros, 1), afterPauseMicros: round(w.afterPauseMicros, 1), ratio: round(w.ratio, 2) };

      // 2. Joins at each concurrency, both MAC versions, each next to a floor run; then p99 at
      // half the maximum throughput.
      if (o.sections.has('joins') || o.sections.has('scale')) {
        for (const macVersion of ['1.0.3', '1.1'] as const) {
          for (const c of o.concurrency) {
            progress(`HTTP floor, then joins ${macVersion}, at concurrency ${c}`);
            const { report: floor, cpu: floorCpu } = await floorRun(c);
            const { report: r, cpu } = await joinCpu(c, macVersion, duration, floor.perSecond);
            joins.push({
              macVersion,
              concurrency: c,
              joinsPerSecond: round(r.perSecond, 1),
              latencyMs: r.latencyMs,
              httpFloorPerSecond: round(floor.perSecond, 1),
              ratioToHttpFloor: round(r.perSecond / floor.perSecond),
              ratioToCryptoFloor: round(r.perSecond / crypto[macVersion]),
              failures: r.failures,
              serverCpuMicrosPerJoin: cpu.serverMicros,
              loadGeneratorCpuMicrosPerJoin: cpu.loadGeneratorMicros,
              machineBusy: cpu.machineBusy,
              httpFloorCpu: floorCpu,
              trace: r.trace,
            });
          }
        }
        // The maximum is measured again right before the half-load run, at the concurrency where
        // it was highest: on a machine whose speed drifts, half of a maximum measured minutes
        // earlier may be more than the server can do now.
        const best = bestOf(joins);
        progress(`joins 1.0.3 at concurrency ${best.concurrency} again: the maximum the half load is half of`);
        const maxRun = await joinCpu(best.concurrency, '1.0.3', duration, best.httpFloorPerSecond);
        const max = maxRun.report.perSecond;
        // At most as many connections as where the maximum was measured: the offered rate, not
        // extra TLS handshakes, is what changes. Half is the target's; a quarter shows how the
        // latency and the server's CPU per join move as the load falls.
        for (const fraction of [0.5, 0.25]) {
          progress(`joins 1.0.3 at ${fraction === 0.5 ? 'half' : 'a quarter of'} the maximum throughput (${Math.round(max * fraction)}/s, at most ${best.concurrency} in flight)`);
          const { report: r, cpu } = await joinCpu(best.concurrency, '1.0.3', { kind: 'rate', perSecond: max * fraction, seconds: o.seconds, warmupSeconds: o.warmupSeconds }, max);
          openLoop.push({
            fraction,
            targetPerSecond: round(max * fraction, 1),
            joinsPerSecond: round(r.perSecond, 1),
            latencyMs: r.latencyMs,
            sendLagMs: r.sendLagMs!,
            failures: r.failures,
            serverCpuMicrosPerJoin: cpu.serverMicros,
            loadGeneratorCpuMicrosPerJoin: cpu.loadGeneratorMicros,
            machineBusy: cpu.machineBusy,
          });
        }
        const { fraction: _half, ...half } = openLoop[0]!;
        halfLoad = { macVersion: '1.0.3', maximumPerSecond: round(max, 1), maximumServerCpuMicrosPerJoin: maxRun.cpu.serverMicros, ...half };

        // The half-load target's limit on this machine: the HTTP floor in the same open loop, at
        // half its own maximum (measured again right before), and at the joins' half-load rate.
        progress(`HTTP floor at concurrency ${best.concurrency} again, then in the same open loop at half of it and at ${Math.round(half.targetPerSecond)}/s`);
        const floorMax = (await floorLoad(best.concurrency, duration)).report.perSecond;
        for (const [offered, perSecond] of [
          ['halfFloorMaximum', floorMax / 2],
          ['joinsHalfLoadRate', half.targetPerSecond],
        ] as const) {
          const { report: r, cpu } = await floorLoad(best.concurrency, { kind: 'rate', perSecond, seconds: o.seconds, warmupSeconds: o.warmupSeconds });
          floorOpenLoop.push({ offered, floorMaximumPerSecond: round(floorMax, 1), targetPerSecond: round(perSecond, 1), requestsPerSecond: round(r.perSecond, 1), latencyMs: r.latencyMs, sendLagMs: r.sendLagMs!, cpu });
        }
      }
    } finally {
      await floorServer.stop();
    }
    // Each concurrency's floor: the median of its runs (all of them listed).
    const http: BenchResults['floors']['http'][number][] = o.concurrency.map((c) => {
      const runs = floorRuns.get(c) ?? [];
      const median = medianRun(runs);
      return { concurrency: c, requestsPerSecond: round(median.perSecond, 1), latencyMs: median.latencyMs, runsPerSecond: runs.map((r) => round(r.perSecond, 1)) };
    });
    // 3. Scale: the small registry (its server warm from the join runs) against a large one
    // imported the same way. The large registry's server starts fresh: it is run first until its
    // rate settles (its second-by-second rate kept: how a restarted server gets up to speed),
    // then the two servers' runs alternate, each pair next to each other: on a machine whose
    // speed drifts, and against a server that is still warming up, a rate measured minutes
    // earlier made the ratio a coin toss (0.65 in one run here where the pairs gave 0.9).
    const scale: ScaleRow[] = [];
    let freshServer: FreshServer | null = null;
    const scaleConcurrency = 64;
    // The rate the scale and storm runs' traces are sized for: the HTTP floor's at 64 (joins do not exceed it).
    const expectedPerSecond = Math.max(...(floorRuns.get(scaleConcurrency) ?? floorRuns.get(o.concurrency[o.concurrency.length - 1]!) ?? []).map((r) => r.perSecond), 1_000);
    if (o.sections.has('scale')) {
      progress(`importing ${o.largeRegistry} devices`);
      const large = await createRegistry(work, 'registry-large', o.largeRegistry);
      progress(`joins on ${o.largeRegistry} devices: a fresh server run for ${o.freshServerWarmupSeconds} s, then ${o.scalePairs} runs on each registry, alternated`);
      const s = await startServer(large.dataDir, [], serverNodeArgs(o, 'large'));
      servers.push(s);
      const warm = await joinRun(load, s, large, scaleConcurrency, '1.0.3', { kind: 'duration', seconds: o.freshServerWarmupSeconds, warmupSeconds: 0 }, { expectedPerSecond });
      // The last second is cut short by the run's end.
      const firstSeconds = warm.completedPerSecond.slice(0, Math.floor(o.freshServerWarmupSeconds));
      const runs: { small: LoadReport[]; large: LoadReport[] } = { small: [], large: [] };
      for (let i = 0; i < o.scalePairs; i++) {
        runs.small.push(await joinRun(load, server, small, scaleConcurrency, '1.0.3', duration, { expectedPerSecond }));
        runs.large.push(await joinRun(load, s, large, scaleConcurrency, '1.0.3', duration, { expectedPerSecond }));
      }
      // The control of the first seconds below: the same start of a run (new connections, full
      // handshakes) on this server while it is warm.
      const warmServerRuns: LoadReport[] = [];
      for (let i = 0; i < o.restartPairs; i++) warmServerRuns.push(await joinRun(load, s, large, scaleConcurrency, '1.0.3', { kind: 'duration', seconds: o.restartSeconds, warmupSeconds: 0 }, { expectedPerSecond }));
      const memorySmall = server.memory();
      const memoryLarge = s.memory();
      await stop(s);
      // Restarts of the same server on its data directory, alternated: its load generator
      // either connecting anew (full handshakes, as a new network server, or one that keeps no
      // session) or offering the TLS session it kept (the ticket keys live in the data
      // directory): the first seconds of a restart in a storm, each way. One sample of a first
      // second moved 2x between runs here; the targets take medians.
      const session = runs.large[runs.large.length - 1]?.tls.session ?? null;
      const restarts: { kind: 'new' | 'resumed'; report: LoadReport; startSeconds: number }[] = [];
      for (let i = 0; i < o.restartPairs; i++) {
        for (const kind of i % 2 === 0 ? (['resumed', 'new'] as const) : (['new', 'resumed'] as const)) {
          if (kind === 'resumed' && session === null) continue;
          const again = await startServer(large.dataDir, [], serverNodeArgs(o, `large-restart-${i}-${kind}`));
          servers.push(again);
          const report = await joinRun(
            load,
            again,
            large,
            scaleConcurrency,
            '1.0.3',
            { kind: 'duration', seconds: o.restartSeconds, warmupSeconds: 0 },
            { expectedPerSecond, ...(kind === 'resumed' ? { resumeSession: session! } : {}) },
          );
          restarts.push({ kind, report, startSeconds: again.startSeconds });
          await stop(again);
        }
      }
      for (const [registry, memory, reports] of [
        [small, memorySmall, runs.small],
        [large, memoryLarge, runs.large],
      ] as const) {
        const median = medianRun(reports);
        scale.push({
          devices: registry.size,
          import: { seconds: round(registry.import.seconds), devicesPerSecond: round(registry.import.devicesPerSecond, 0) },
          databaseBytes: registry.import.databaseBytes,
          serverRssBytes: memory.rssBytes,
          serverPeakRssBytes: memory.peakRssBytes,
          concurrency: scaleConcurrency,
          joinsPerSecond: round(median.perSecond, 1),
          runsPerSecond: reports.map((r) => round(r.perSecond, 1)),
          latencyMs: median.latencyMs,
          failures: median.failures,
        });
      }
      const steady = scale[1]!.joinsPerSecond;
      const firstSecondOf = (r: LoadReport): number => r.completedPerSecond[0] ?? 0;
      const restartsOf = (kind: 'new' | 'resumed') => restarts.filter((r) => r.kind === kind);
      // The first start and the restarts without a session are the same case: a new process, every connection a full handshake.
      const newFirstSeconds = [firstSeconds[0] ?? 0, ...restartsOf('new').map((r) => firstSecondOf(r.report))];
      const resumed = restartsOf('resumed');
      const resumedFirstSeconds = resumed.map((r) => firstSecondOf(r.report));
      const medianOverSteady = (xs: readonly number[]): number => round(steady > 0 ? medianBy(xs, (x) => x) / steady : 0);
      const warmServerFirstSeconds = warmServerRuns.map(firstSecondOf);
      freshServer = {
        devices: large.size,
        concurrency: scaleConcurrency,
        perSecond: firstSeconds,
        startSeconds: round(s.startSeconds, 2),
        steadyPerSecond: steady,
        firstSeconds: newFirstSeconds,
        firstSecondRatio: medianOverSteady(newFirstSeconds),
        afterRestart:
          resumed.length === 0
            ? null
            : {
                firstSeconds: resumedFirstSeconds,
                startSeconds: resumed.map((r) => round(r.startSeconds, 2)),
                firstSecondRatio: medianOverSteady(resumedFirstSeconds),
                connections: resumed.reduce((n, r) => n + r.report.tls.connections, 0),
                resumed: resumed.reduce((n, r) => n + r.report.tls.resumed, 0),
              },
        warmServer: { firstSeconds: warmServerFirstSeconds, firstSecondRatio: medianOverSteady(warmServerFirstSeconds) },
      };
      rmSync(large.dataDir, { recursive: true, force: true });
    }
    await stop(server);

    // 4. Storm: every device of a registry joins once, at the best concurrency found above.
    let storm: StormRow | null = null;
    if (o.sections.has('storm')) {
      const best = joins.length > 0 ? bestOf(joins).concurrency : 64;
      progress(`importing ${o.stormRegistry} devices for the storm`);
      const registry = await createRegistry(work, 'registry-storm', o.stormRegistry);
      progress(`storm: a fresh server run for ${o.freshServerWarmupSeconds} s, then ${o.stormRegistry} devices join once, ${best} at a time, every 100th join replayed`);
      const s = await startServer(registry.dataDir, [], serverNodeArgs(o, 'storm'));
      servers.push(s);
      // The storm is the rate a running Join Server sustains when the network comes back, not a
      // new process's first seconds (see freshServer): its server is warmed up first by joins of
      // some of the registry's devices, which then join once more in the storm like the others.
      await joinRun(load, s, registry, best, null, { kind: 'duration', seconds: o.freshServerWarmupSeconds, warmupSeconds: 0 }, { expectedPerSecond });
      const r = await joinRun(load, s, registry, best, null, { kind: 'each-once' }, { replayEvery: 100 });
      await stop(s);
      storm = {
        devices: registry.size,
        serverWarmupSeconds: o.freshServerWarmupSeconds,
        concurrency: best,
        seconds: round(r.seconds),
        joinsPerSecond: round(r.perSecond, 1),
        joined: r.ok,
        withinOneMinute: r.seconds <= 60 && r.ok === registry.size,
        failures: r.failures,
        replays: r.replays,
        latencyMs: r.latencyMs,
      };
      rmSync(registry.dataDir, { recursive: true, force: true });
    }

    // 5. Optional rows.
    const skipped: OptionalRow = { status: 'skipped', reason: 'section not selected (--only)' };
    const optional = o.sections.has('optional')
      ? {
          pkcs11Vault: await pkcs11VaultRow(work, o, progress),
          postgres: await postgresRow(work, o, load, progress),
          migrationRate: await migrationRateRow(o.quick),
        }
      : { pkcs11Vault: skipped, postgres: skipped, migrationRate: skipped };

    const results: BenchResults = {
      benchmark: 'joinery',
      version: VERSION,
      quick: o.quick,
      startedAt: startedAt.toISOString(),
      durationSeconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
      machine,
      floors: { http, crypto, storage, wakePenalty: wake },
      joins,
      halfLoad,
      openLoop,
      floorOpenLoop,
      cpuBudget: cpuBudget(joins),
      scale,
      freshServer,
      storm,
      optional,
      targets: [...targets(joins, halfLoad, floorOpenLoop, scale, freshServer, storm), ...postgresTargets(optional.postgres), ...migrationTarget(optional.migrationRate)],
    };
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    console.log(`\nwritten: ${path.resolve(o.out)}`);
  } finally {
    for (const s of [...servers]) await s.stop();
    load.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fleet migration: devices/s as a ratio to the vendor rate limit it was given (goal 0.9). */
function migrationTarget(row: OptionalRow): Target[] {
  const ratio = row.status === 'measured' ? row.values['ratioToRateLimit'] : undefined;
  if (ratio === undefined || row.status !== 'measured') return [];
  return [target('fleet migration devices/s / vendor rate limit', ratio, '>=', 0.9, 'ratio', `${round(row.values['devicesPerSecond'] ?? 0, 1)} / ${row.values['rateLimitPerSecond']}/s`)];
}

/** The ratio of the c64 target. */
const C64_RATIO = 0.6;

/** The CPU budget of the c64 target, from the 1.0.3 run at concurrency 64 and the floor run next to it (see CpuBudget). */
function cpuBudget(joins: readonly JoinRow[]): CpuBudget | null {
  const at64 = joins.find((j) => j.macVersion === '1.0.3' && j.concurrency === 64);
  if (!at64) return null;
  const floor = at64.httpFloorCpu;
  return {
    concurrency: 64,
    ratio: C64_RATIO,
    floor,
    joins: { serverMicros: at64.serverCpuMicrosPerJoin, loadGeneratorMicros: at64.loadGeneratorCpuMicrosPerJoin, machineBusy: at64.machineBusy },
    serverMicrosPerJoinForRatio: round((floor.serverMicros + floor.loadGeneratorMicros) / C64_RATIO - at64.loadGeneratorCpuMicrosPerJoin, 0),
  };
}

/** The run of median rate (the lower middle one of an even number). */
function medianRun(runs: readonly LoadReport[]): LoadReport {
  return medianBy(runs, (r) => r.perSecond);
}

/** The 1.0.3 join run with the highest throughput. */
function bestOf(joins: readonly JoinRow[]): JoinRow {
  return joins.filter((j) => j.macVersion === '1.0.3').reduce((a, b) => (b.joinsPerSecond > a.joinsPerSecond ? b : a));
}

/** The PostgreSQL row's targets: its rate to its own conditional UPDATE's, its CPU to SQLite's, its round trips. */
function postgresTargets(row: OptionalRow): Target[] {
  if (row.status !== 'measured') return [];
  const v = row.values;
  return [
    target(
      `PostgreSQL joins at concurrency ${v['concurrency']} / PostgreSQL conditional-UPDATE floor`,
      v['ratioToConditionalUpdates']!,
      '>=',
      0.5,
      'ratio',
      `${round(v['oneInstanceJoinsPerSecond']!, 0)} / ${round(v['conditionalUpdatesPerSecond']!, 0)}/s${v['databaseCpuMicrosPerJoin'] === undefined ? '' : `; the database's CPU ${v['databaseCpuMicrosPerJoin']} µs a join, ${v['databaseCpuMicrosPerUpdate']} an UPDATE`}`,
    ),
    target('server CPU per join, PostgreSQL / SQLite', v['serverCpuRatioToSqlite']!, '<=', 1.3, 'ratio', `${v['serverCpuMicrosPerJoin']} / ${v['sqliteServerCpuMicrosPerJoin']} µs`),
    target('round trips to PostgreSQL per join', v['roundTripsPerJoin']!, '<=', 1.5, 'count', 'queries sent, at the driver'),
    target('round trips to PostgreSQL per group commit', v['roundTripsPerGroupCommit']!, '<=', 1, 'count', `${round(v['joinsPerGroupCommit']!, 1)} joins a group commit`),
  ];
}

function targets(joins: readonly JoinRow[], halfLoad: BenchResults['halfLoad'], floorOpenLoop: readonly FloorOpenLoopPoint[], scale: readonly ScaleRow[], fresh: FreshServer | null, storm: StormRow | null): Target[] {
  const out: Target[] = [];
  const at64 = joins.find((j) => j.macVersion === '1.0.3' && j.concurrency === 64);
  if (at64) {
    const floorServer = at64.httpFloorCpu.serverMicros;
    out.push(
      target('server CPU per 1.0.3 join at concurrency 64 / HTTP floor server CPU per request', at64.serverCpuMicrosPerJoin / floorServer, '<=', 2.3, 'ratio', `${at64.serverCpuMicrosPerJoin} / ${floorServer} µs`),
    );
    out.push(target('1.0.3 joins at concurrency 64 / HTTP floor', at64.joinsPerSecond / at64.httpFloorPerSecond, '>=', C64_RATIO, 'ratio', `${round(at64.joinsPerSecond, 0)} / ${round(at64.httpFloorPerSecond, 0)}/s`));
  }
  if (halfLoad) {
    // What the machine gives at the same rate with no join work: the HTTP floor in the same open
    // loop. And what a join costs the server at this rate against at the maximum: in an open
    // loop each join is mostly alone in its event-loop turn and its group commit, on a core that
    // was idle, and costs more.
    const floorAtRate = floorOpenLoop.find((f) => f.offered === 'joinsHalfLoadRate');
    const floor = floorAtRate ? `; the HTTP floor at that rate: p99 ${round(floorAtRate.latencyMs.p99, 2)} ms` : '';
    out.push(
      target(
        'p99 join latency at half the maximum throughput',
        halfLoad.latencyMs.p99,
        '<',
        10,
        'ms',
        `${round(halfLoad.joinsPerSecond, 0)} joins/s of ${round(halfLoad.maximumPerSecond, 0)}/s at most; server CPU ${halfLoad.serverCpuMicrosPerJoin} µs a join (${halfLoad.maximumServerCpuMicrosPerJoin} at the maximum); sent late p99 ${round(halfLoad.sendLagMs.p99, 2)} ms${floor}`,
      ),
    );
  }
  const [small, large] = scale;
  if (small && large) {
    out.push(
      target(
        `join throughput at ${large.devices} devices / at ${small.devices}`,
        large.joinsPerSecond / small.joinsPerSecond,
        '>=',
        0.8,
        'ratio',
        `${round(large.joinsPerSecond, 0)} / ${round(small.joinsPerSecond, 0)}/s`,
      ),
    );
    out.push(target(`import of ${large.devices} devices`, large.import.devicesPerSecond, '>=', 50_000, 'devices/s', `${large.devices} in ${round(large.import.seconds, 1)} s, the CLI's start to its end`));
    out.push(target(`server RSS with ${large.devices} devices`, large.serverRssBytes / 2 ** 20, '<', 300, 'MiB', `after its runs; peak ${round(large.serverPeakRssBytes / 2 ** 20, 0)} MiB`));
  }
  if (fresh)
    out.push(
      target(
        'fresh server: joins in its first second / its steady rate',
        fresh.firstSecondRatio,
        '>=',
        0.8,
        'ratio',
        `median of ${fresh.firstSeconds.join(', ')} / ${round(fresh.steadyPerSecond, 0)}/s (a new process each, full TLS handshakes), the first listening ${fresh.startSeconds} s after its start; the same start of a run on the server still warm: ${fresh.warmServer.firstSecondRatio} (median of ${fresh.warmServer.firstSeconds.join(', ')})`,
      ),
    );
  const restarted = fresh?.afterRestart;
  if (fresh && restarted)
    out.push(
      target(
        'restarted server, TLS sessions resumed: joins in its first second / its steady rate',
        restarted.firstSecondRatio,
        '>=',
        0.8,
        'ratio',
        `median of ${restarted.firstSeconds.join(', ')} / ${round(fresh.steadyPerSecond, 0)}/s; ${restarted.resumed} of ${restarted.connections} connections resumed`,
      ),
    );
  if (storm) {
    out.push(
      target(
        `storm: ${storm.devices} devices joined, failures other than deliberate replays`,
        Object.values(storm.failures).reduce((a, b) => a + b, 0) + storm.replays.accepted + storm.replays.other,
        '<',
        1,
        'count',
        `${storm.replays.sent} replays sent, ${storm.replays.refused} refused, ${storm.replays.accepted} accepted`,
      ),
    );
    out.push(target(`storm: seconds for every device to join`, storm.seconds, '<', 60.001, 's', `${round(storm.devices / storm.seconds, 0)} joins/s`));
  }
  return out;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchResults } from '../../../bench/src/results';

const MAIN = path.resolve(__dirname, '../../../bench/dist/main.js');

/**
 * `npm run bench` in its quick mode, end to end: every section runs (a few hundred devices,
 * fractions of a second per run) and bench-results.json has the shape the table and the README
 * rely on, so the benchmark cannot rot unnoticed. The numbers themselves mean nothing here.
 */
describe('bench/quick mode', () => {
  let dir: string;
  let results: BenchResults;
  let stdout: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -b)`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'joinery-bench-test-'));
    const out = path.join(dir, 'bench-results.json');
    stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [MAIN, '--quick', '--out', out], { maxBuffer: 8 * 1024 * 1024 }, (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)));
    });
    results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  }, 360_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('floors are measured in the same run', () => {
    expect(results.quick).toBe(true);
    expect(results.floors.http.map((h) => h.concurrency)).toEqual([1, 16, 64, 256]);
    for (const h of results.floors.http) {
      expect(h.requestsPerSecond).toBeGreaterThan(0);
      // Once on its own, then once right before the join run of each MAC version; the median.
      expect(h.runsPerSecond).toHaveLength(3);
      expect(h.requestsPerSecond).toBe([...h.runsPerSecond].sort((a, b) => a - b)[1]);
    }
    expect(results.floors.crypto['1.0.3']).toBeGreaterThan(0);
    expect(results.floors.crypto['1.1']).toBeGreaterThan(0);
    expect(results.floors.storage.updatesPerSecond).toBeGreaterThan(0);
    // The wake-up cost: the same work back to back and right after a 1 ms sleep.
    const w = results.floors.wakePenalty;
    expect(w.pauseMs).toBe(1);
    expect(w.backToBackMicros).toBeGreaterThan(0);
    expect(w.afterPauseMicros).toBeGreaterThan(0);
    expect(w.ratio).toBeCloseTo(w.afterPauseMicros / w.backToBackMicros, 1);
    expect(stdout).toMatch(/wake-up cost: the crypto of 5 joins takes [\d,.]+ µs back to back/);
  });

  test('joins of both MAC versions at every concurrency, all successful, with latencies and ratios', () => {
    expect(results.joins.map((j) => `${j.macVersion}@${j.concurrency}`)).toEqual(['1.0.3@1', '1.0.3@16', '1.0.3@64', '1.0.3@256', '1.1@1', '1.1@16', '1.1@64', '1.1@256']);
    for (const j of results.joins) {
      expect(j.joinsPerSecond).toBeGreaterThan(0);
      expect(j.failures).toEqual({});
      expect(j.latencyMs.p50).toBeLessThanOrEqual(j.latencyMs.p99);
      expect(j.latencyMs.p99).toBeLessThanOrEqual(j.latencyMs.p999);
      expect(j.ratioToHttpFloor).toBeGreaterThan(0);
      // The ratio is to the floor run next to it, one of that concurrency's runs.
      expect(j.ratioToHttpFloor).toBeCloseTo(j.joinsPerSecond / j.httpFloorPerSecond, 1);
      expect(results.floors.http.find((h) => h.concurrency === j.concurrency)?.runsPerSecond).toContain(j.httpFloorPerSecond);
    }
    // Every JoinReq was built before its run: the load generator only sent bytes.
    for (const j of results.joins) {
      expect(j.trace.size).toBeGreaterThan(0);
      expect(j.trace.builtDuringRun).toBe(0);
    }
    expect(results.halfLoad?.failures).toEqual({});
    // Half of a maximum measured again right before it.
    expect(results.halfLoad?.targetPerSecond).toBeCloseTo((results.halfLoad?.maximumPerSecond ?? 0) / 2, 0);
    // A quarter of the same maximum as well, and the half-load row is the open loop's half.
    expect(results.openLoop.map((p) => p.fraction)).toEqual([0.5, 0.25]);
    const [half, quarter] = results.openLoop;
    expect(quarter!.targetPerSecond).toBeCloseTo((results.halfLoad?.maximumPerSecond ?? 0) / 4, 0);
    expect(quarter!.failures).toEqual({});
    expect(results.halfLoad?.latencyMs).toEqual(half!.latencyMs);
    // The server's CPU per join, from /proc, in every join run: more than nothing, less than a second.
    for (const cpu of [...results.joins.map((j) => j.serverCpuMicrosPerJoin), half!.serverCpuMicrosPerJoin, quarter!.serverCpuMicrosPerJoin, results.halfLoad!.maximumServerCpuMicrosPerJoin]) {
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThan(1e6);
    }
    // The load generator's too, and how busy the machine was (a share of its cores).
    for (const j of [...results.joins, half!, quarter!]) {
      expect(j.loadGeneratorCpuMicrosPerJoin).toBeGreaterThan(0);
      expect(j.loadGeneratorCpuMicrosPerJoin).toBeLessThan(1e6);
      expect(j.machineBusy).toBeGreaterThan(0);
      expect(j.machineBusy).toBeLessThanOrEqual(1);
    }
  });

  test('the c64 target gets its CPU budget, from the join run and the floor run next to it', () => {
    const at64 = results.joins.find((j) => j.macVersion === '1.0.3' && j.concurrency === 64)!;
    const budget = results.cpuBudget!;
    expect(budget.ratio).toBe(0.6);
    expect(budget.floor).toEqual(at64.httpFloorCpu);
    expect(budget.joins).toEqual({ serverMicros: at64.serverCpuMicrosPerJoin, loadGeneratorMicros: at64.loadGeneratorCpuMicrosPerJoin, machineBusy: at64.machineBusy });
    expect(budget.floor.serverMicros).toBeGreaterThan(0);
    expect(budget.floor.loadGeneratorMicros).toBeGreaterThan(0);
    expect(budget.serverMicrosPerJoinForRatio).toBeCloseTo((budget.floor.serverMicros + budget.floor.loadGeneratorMicros) / 0.6 - budget.joins.loadGeneratorMicros, 0);
    expect(stdout).toContain(`0.6 of the floor here leaves the server`);
  });

  test("the HTTP floor runs in the same open loop, at half its maximum and at the joins' half-load rate", () => {
    expect(results.floorOpenLoop.map((f) => f.offered)).toEqual(['halfFloorMaximum', 'joinsHalfLoadRate']);
    const [halfFloor, atJoinsRate] = results.floorOpenLoop;
    expect(halfFloor!.targetPerSecond).toBeCloseTo(halfFloor!.floorMaximumPerSecond / 2, 0);
    expect(atJoinsRate!.targetPerSecond).toBe(results.halfLoad!.targetPerSecond);
    for (const f of results.floorOpenLoop) {
      expect(f.requestsPerSecond).toBeGreaterThan(0);
      expect(f.latencyMs.p50).toBeLessThanOrEqual(f.latencyMs.p99);
      expect(f.cpu.machineBusy).toBeGreaterThan(0);
    }
    expect(stdout).toContain('the HTTP floor in the same open loop, at half its maximum');
  });

  test('scale: two registry sizes with import rate, database size, server memory and joins', () => {
    expect(results.scale).toHaveLength(2);
    for (const s of results.scale) {
      expect(s.import.devicesPerSecond).toBeGreaterThan(0);
      expect(s.databaseBytes).toBeGreaterThan(0);
      expect(s.serverRssBytes).toBeGreaterThan(0);
      expect(s.joinsPerSecond).toBeGreaterThan(0);
      expect(s.runsPerSecond).toHaveLength(1);
      expect(s.joinsPerSecond).toBe(s.runsPerSecond[0]);
      expect(s.failures).toEqual({});
    }
    // The large registry's server, started fresh, was run before its pairs: its first seconds kept.
    expect(results.freshServer).toMatchObject({ devices: results.scale[1]!.devices, concurrency: 64, steadyPerSecond: results.scale[1]!.joinsPerSecond });
    const fresh = results.freshServer!;
    expect(fresh.perSecond.length).toBeGreaterThanOrEqual(1);
    expect(fresh.startSeconds).toBeGreaterThan(0);
    expect(fresh.firstSecondRatio).toBeCloseTo(Math.min(...fresh.firstSeconds) / fresh.steadyPerSecond, 2);
    // Then restarted on its data directory, alternated: connecting anew, and resuming the TLS
    // session the load generator kept (every connection resumed: the ticket keys outlive the process).
    expect(fresh.firstSeconds).toHaveLength(2);
    expect(fresh.firstSeconds[0]).toBe(fresh.perSecond[0]);
    const restarted = fresh.afterRestart!;
    expect(restarted.firstSeconds).toHaveLength(1);
    expect(restarted.connections).toBeGreaterThan(0);
    expect(restarted.resumed).toBe(restarted.connections);
    // The control: the same start of a run on the large registry's server while it was warm.
    expect(fresh.warmServer.firstSeconds).toHaveLength(1);
    expect(fresh.warmServer.firstSeconds[0]).toBeGreaterThan(0);
    expect(fresh.warmServer.firstSecondRatio).toBeCloseTo(fresh.warmServer.firstSeconds[0]! / fresh.steadyPerSecond, 2);
    expect(stdout).toContain('the control, new runs on the server while still warm');
    expect(stdout).toContain('their runs alternated');
  });

  test('storm: every device joined once, and every deliberate replay was refused', () => {
    const storm = results.storm!;
    expect(storm.serverWarmupSeconds).toBeGreaterThan(0);
    expect(storm.joined).toBe(storm.devices);
    expect(storm.failures).toEqual({});
    expect(storm.replays.sent).toBeGreaterThan(0);
    expect(storm.replays.refused).toBe(storm.replays.sent);
    expect(storm.replays.accepted).toBe(0);
  });

  test('optional rows say whether they were measured; the migration row measures a real migration against its rate limit', () => {
    for (const row of Object.values(results.optional)) expect(['measured', 'skipped', 'not-available']).toContain(row.status);
    const migration = results.optional.migrationRate;
    if (migration.status !== 'measured') throw new Error(`migration row not measured: ${JSON.stringify(migration)}`);
    expect(migration.values['devices']).toBe(200);
    expect(migration.values['devicesPerSecond']).toBeGreaterThan(0);
    expect(migration.values['devicesPerSecond']).toBeLessThanOrEqual(migration.values['rateLimitPerSecond']! * 1.05);
    expect(results.targets.map((t) => t.name)).toContain('fleet migration devices/s / vendor rate limit');
  });

  test("the PostgreSQL row: its rate to its UPDATE floor, its server CPU to SQLite's in alternated runs, round trips counted at the driver", () => {
    const pg = results.optional.postgres;
    if (pg.status !== 'measured') throw new Error(`PostgreSQL row not measured: ${JSON.stringify(pg)}`);
    const v = pg.values;
    expect(v['ratioToConditionalUpdates']).toBeCloseTo(v['oneInstanceJoinsPerSecond']! / v['conditionalUpdatesPerSecond']!, 3);
    expect(v['serverCpuRatioToSqlite']).toBeCloseTo(v['serverCpuMicrosPerJoin']! / v['sqliteServerCpuMicrosPerJoin']!, 3);
    // PostgreSQL runs on this machine here, so the database's own CPU is measured too (absent otherwise).
    expect(v['databaseCpuMicrosPerJoin']).toBeGreaterThanOrEqual(0);
    expect(v['databaseCpuMicrosPerUpdate']).toBeGreaterThanOrEqual(0);
    expect(pg.lines.some((l) => l.startsWith("the database's CPU (PostgreSQL's processes on this machine"))).toBe(true);
    // Every join reads its device and commits, but the reads and commits of concurrent joins share
    // statements (a batch of reads is one query, a group commit one statement): more than none a
    // join, and at least one a group commit.
    expect(v['roundTripsPerJoin']).toBeGreaterThan(0);
    expect(v['roundTripsPerGroupCommit']).toBeGreaterThanOrEqual(1);
    expect(v['joinsPerGroupCommit']).toBeGreaterThanOrEqual(1);
    expect(pg.lines.join('\n')).toMatch(/by statement, per join: .*UPDATE devices/);
    expect(results.targets.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'server CPU per join, PostgreSQL / SQLite',
        'round trips to PostgreSQL per join',
        'round trips to PostgreSQL per group commit',
        `PostgreSQL joins at concurrency ${v['concurrency']} / PostgreSQL conditional-UPDATE floor`,
      ]),
    );
  });

  test('targets are computed, each ratio with the numbers it is made of, and the table is printed', () => {
    expect(results.targets.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        '1.0.3 joins at concurrency 64 / HTTP floor',
        'server CPU per 1.0.3 join at concurrency 64 / HTTP floor server CPU per request',
        'fresh server: joins in its first second / its steady rate',
        'p99 join latency at half the maximum throughput',
      ]),
    );
    const at64 = results.joins.find((j) => j.macVersion === '1.0.3' && j.concurrency === 64)!;
    const cpu = results.targets.find((t) => t.name.startsWith('server CPU per 1.0.3 join'))!;
    expect(cpu.measured).toBeCloseTo(at64.serverCpuMicrosPerJoin / at64.httpFloorCpu.serverMicros, 2);
    expect(cpu.madeOf).toBe(`${at64.serverCpuMicrosPerJoin} / ${at64.httpFloorCpu.serverMicros} µs`);
    for (const t of results.targets.filter((x) => x.unit === 'ratio')) expect(t.madeOf).toMatch(/\d+ \/ \d+/);
    expect(results.targets.length).toBeGreaterThanOrEqual(7);
    expect(stdout).toContain('Floors (same machine, same run)');
    expect(stdout).toContain('Targets');
  });
});

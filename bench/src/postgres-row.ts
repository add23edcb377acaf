import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { serverNodeArgs, type BenchOptions } from './bench-options';
import { startServer, type RunningServer } from './joinery-cli';
import type { LoadGeneratorProcess } from './load-generator-process';
import { commandCpuSeconds, measureCpu, type RunCpu } from './cpu-meter';
import { joinRun, prepareJoinRun } from './join-run';
import type { LoadReport } from './load-plan';
import { createRegistry } from './registry';
import { medianBy, roundCpu, type OptionalRow } from './results';

/**
 * The PostgreSQL row: joins through the BI listener on PostgreSQL, with one and with two
 * `joinery serve` instances sharing one database, as a ratio to PostgreSQL's own durable
 * single-row conditional UPDATE rate at the same concurrency, measured in the same run (the
 * storage floor: every join is one such UPDATE, group-committed). JOINERY_BENCH_PG (default
 * postgres://postgres@127.0.0.1:5432/postgres) is the server on which a fresh database is
 * created and dropped; the row is left out when it cannot be reached.
 */
const ADMIN_URL = process.env['JOINERY_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONCURRENCY = 16;

function databaseURL(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.href;
}

/**
 * The database server's CPU so far (its processes on this machine, from /proc), or null when it
 * does not run here (`JOINERY_BENCH_PG` naming another host, or no process seen).
 */
function databaseCpuSeconds(): number | null {
  const host = new URL(ADMIN_URL).hostname;
  return ['127.0.0.1', 'localhost', '[::1]', ''].includes(host) ? commandCpuSeconds('postgres') : null;
}

/** µs of the database's CPU per request between two readings (null: not measured). */
function databaseMicros(before: number | null, after: number | null, requests: number): number | null {
  return before === null || after === null ? null : Math.round(((after - before) * 1e6) / Math.max(1, requests));
}

/**
 * PostgreSQL's own rate: `concurrency` clients each updating their own row, conditionally,
 * durably; and the database's CPU per UPDATE (measured before the clients disconnect, as a
 * backend's time leaves with it).
 */
async function updateFloor(url: string, seconds: number): Promise<{ perSecond: number; databaseMicros: number | null }> {
  const pool = new Pool({ connectionString: url, max: CONCURRENCY });
  try {
    await pool.query('CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, payload TEXT)');
    await pool.query('INSERT INTO bench_floor SELECT g, 0, NULL FROM generate_series(0, $1::int - 1) AS g', [CONCURRENCY]);
    let done = 0;
    const cpuBefore = databaseCpuSeconds();
    const started = performance.now();
    const until = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, id) => {
        let version = 0;
        while (performance.now() < until) {
          const r = await pool.query('UPDATE bench_floor SET version = version + 1, payload = $3 WHERE id = $1 AND version = $2', [id, version, String(version)]);
          if (r.rowCount !== 1) throw new Error('floor: conditional update lost');
          version++;
          done++;
        }
      }),
    );
    const perSecond = done / ((performance.now() - started) / 1000);
    return { perSecond, databaseMicros: databaseMicros(cpuBefore, databaseCpuSeconds(), done) };
  } finally {
    await pool.end();
  }
}

/** What one server's join runs cost, summed over the runs: what the ratios are made of. */
interface Measured {
  readonly report: LoadReport;
  readonly cpu: RunCpu;
  /** The database's CPU per join (null: not measured, or not PostgreSQL's run). */
  readonly databaseMicros: number | null;
}

export async function postgresRow(work: string, o: BenchOptions, load: LoadGeneratorProcess, progress: (line: string) => void): Promise<OptionalRow> {
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    return { status: 'not-available', reason: `no PostgreSQL at ${ADMIN_URL} (${(err as Error).message}; set JOINERY_BENCH_PG)` };
  }
  const dbName = `joinery_bench_${randomBytes(4).toString('hex')}`;
  const servers: RunningServer[] = [];
  let sqliteServer: RunningServer | undefined;
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = databaseURL(dbName);
    progress(`PostgreSQL: conditional UPDATE floor, then joins on PostgreSQL and on SQLite alternated (${o.scalePairs} each), then two instances, ${CONCURRENCY} concurrent`);
    const updates = await updateFloor(url, o.seconds);
    const floor = updates.perSecond;
    const size = Math.min(o.registry, 2_000);
    const registry = await createRegistry(work, 'registry-postgres', size, url);
    // The same registry on SQLite, its server next to it: the CPU a join costs the server on
    // each store, measured in alternated runs of the same traffic.
    const sqliteRegistry = await createRegistry(work, 'registry-postgres-sqlite', size);
    const schedule = { kind: 'duration', seconds: o.seconds, warmupSeconds: o.warmupSeconds } as const;
    const pg = await startServer(registry.dataDir, ['--store', url], serverNodeArgs(o, 'postgres'), process.env, { countPostgresQueries: true });
    servers.push(pg);
    sqliteServer = await startServer(sqliteRegistry.dataDir, [], serverNodeArgs(o, 'postgres-sqlite'));
    const sqlite = sqliteServer;
    const measured = async (s: RunningServer | RunningServer[], r: typeof registry): Promise<Measured> => {
      const prepared = await prepareJoinRun(load, s, r, CONCURRENCY, null, schedule, { expectedPerSecond: floor });
      const all = Array.isArray(s) ? s : [s];
      // The database's CPU on PostgreSQL's runs only.
      const databaseCpu = r === registry ? databaseCpuSeconds : () => null;
      const cpuBefore = databaseCpu();
      const m = await measureCpu({ server: () => all.reduce((sum, x) => sum + x.cpuSeconds(), 0), loadGenerator: () => load.cpuSeconds() }, () => prepared.run());
      return { report: m.report, cpu: roundCpu(m.cpu), databaseMicros: databaseMicros(cpuBefore, databaseCpu(), m.report.completed) };
    };
    // A run of each first, unmeasured: a new server's first seconds (its pool's connections,
    // V8 compiling the store's code, which the warm-up before listening does not run for
    // PostgreSQL) cost more a join than any later run, and went into the first measured run.
    await measured(sqlite, sqliteRegistry);
    await measured(pg, registry);
    const runs: { pg: Measured[]; sqlite: Measured[] } = { pg: [], sqlite: [] };
    const before = await pg.postgresQueries();
    for (let i = 0; i < o.scalePairs; i++) {
      runs.sqlite.push(await measured(sqlite, sqliteRegistry));
      runs.pg.push(await measured(pg, registry));
    }
    const after = await pg.postgresQueries();
    await sqlite.stop();
    sqliteServer = undefined;
    const one = medianBy(runs.pg, (r) => r.report.perSecond);
    const onSqlite = medianBy(runs.sqlite, (r) => r.report.perSecond);
    // Each store's median CPU a join over its runs (not the CPU of its median-rate run).
    const medianCpu = (rs: readonly Measured[]): number => medianBy(rs, (r) => r.cpu.serverMicros).cpu.serverMicros;
    const pgCpu = medianCpu(runs.pg);
    const sqliteCpu = medianCpu(runs.sqlite);
    // Every request the PostgreSQL runs completed (warm-ups included), as the counts are.
    const pgJoins = runs.pg.reduce((sum, r) => sum + r.report.completed, 0);
    const queries = after.queries - before.queries;
    const commits = after.joinCommits - before.joinCommits;
    const commitRoundTrips = after.joinCommitRoundTrips - before.joinCommitRoundTrips;
    const kinds = Object.entries(after.byKind)
      .map(([k, n]) => [k, (n - (before.byKind[k] ?? 0)) / pgJoins] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);

    servers.push(await startServer(registry.dataDir, ['--store', url], serverNodeArgs(o, 'postgres-second')));
    const two = await joinRun(load, servers, registry, CONCURRENCY, null, schedule, { expectedPerSecond: floor });
    const failures = (r: LoadReport): number => r.requests - r.ok;
    // The database's CPU, when it runs here: what a join costs it against what an UPDATE of its floor does.
    const databaseJoin = runs.pg.every((r) => r.databaseMicros !== null) ? medianBy(runs.pg, (r) => r.databaseMicros ?? 0).databaseMicros : null;
    const database = databaseJoin !== null && updates.databaseMicros !== null ? { databaseCpuMicrosPerJoin: databaseJoin, databaseCpuMicrosPerUpdate: updates.databaseMicros } : null;
    const values = {
      ...database,
      concurrency: CONCURRENCY,
      conditionalUpdatesPerSecond: floor,
      oneInstanceJoinsPerSecond: one.report.perSecond,
      oneInstanceFailures: failures(one.report),
      ratioToConditionalUpdates: one.report.perSecond / floor,
      serverCpuMicrosPerJoin: pgCpu,
      sqliteJoinsPerSecond: onSqlite.report.perSecond,
      sqliteServerCpuMicrosPerJoin: sqliteCpu,
      serverCpuRatioToSqlite: pgCpu / sqliteCpu,
      roundTripsPerJoin: queries / pgJoins,
      joinsPerGroupCommit: pgJoins / Math.max(1, commits),
      roundTripsPerGroupCommit: commitRoundTrips / Math.max(1, commits),
      twoInstancesJoinsPerSecond: two.perSecond,
      twoInstancesFailures: failures(two),
    };
    const each = (rs: readonly Measured[]): string => rs.map((r) => `${r.report.perSecond.toFixed(0)}/s ${r.cpu.serverMicros} µs`).join(', ');
    return {
      status: 'measured',
      lines: [
        `PostgreSQL conditional UPDATE floor: ${floor.toFixed(0)}/s at concurrency ${CONCURRENCY}`,
        `joins, 1 instance : ${one.report.perSecond.toFixed(0)}/s (ratio to floor ${values.ratioToConditionalUpdates.toFixed(2)}, p99 ${one.report.latencyMs.p99} ms, failures ${failures(one.report)}); median of ${each(runs.pg)}`,
        `the same joins on SQLite, alternated: ${onSqlite.report.perSecond.toFixed(0)}/s; median of ${each(runs.sqlite)}`,
        `server CPU per join (the median of each store's runs, after a run of each unmeasured): PostgreSQL ${pgCpu} µs, SQLite ${sqliteCpu} µs (x ${values.serverCpuRatioToSqlite.toFixed(2)}); load generator ${one.cpu.loadGeneratorMicros} / ${onSqlite.cpu.loadGeneratorMicros} µs`,
        database
          ? `the database's CPU (PostgreSQL's processes on this machine, from /proc): ${database.databaseCpuMicrosPerJoin} µs a join (the median of its runs: ${runs.pg.map((r) => r.databaseMicros).join(', ')}), ${database.databaseCpuMicrosPerUpdate} µs an UPDATE of its floor`
          : `the database's CPU: not measured (PostgreSQL is not on this machine)`,
        `round trips to PostgreSQL (queries sent, counted at the driver): ${values.roundTripsPerJoin.toFixed(2)} a join; ${commits} join commits of ${values.joinsPerGroupCommit.toFixed(1)} joins, ${values.roundTripsPerGroupCommit.toFixed(2)} round trips each`,
        `  by statement, per join: ${kinds.map(([k, n]) => `${n.toFixed(2)} ${k}`).join('; ')}`,
        `joins, 2 instances: ${two.perSecond.toFixed(0)}/s (ratio to floor ${(two.perSecond / floor).toFixed(2)}, p99 ${two.latencyMs.p99} ms, failures ${failures(two)})`,
      ],
      values,
    };
  } finally {
    await sqliteServer?.stop();
    for (const s of servers) await s.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

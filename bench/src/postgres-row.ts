import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import type { BenchOptions } from './bench-options';
import { startServer, type RunningServer } from './joinery-cli';
import type { LoadGeneratorProcess } from './load-generator-process';
import { joinRun } from './join-run';
import { createRegistry } from './registry';
import type { OptionalRow } from './results';

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

/** PostgreSQL's own rate: `concurrency` clients each updating their own row, conditionally, durably. */
async function updateFloor(url: string, seconds: number): Promise<number> {
  const pool = new Pool({ connectionString: url, max: CONCURRENCY });
  try {
    await pool.query('CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, payload TEXT)');
    await pool.query('INSERT INTO bench_floor SELECT g, 0, NULL FROM generate_series(0, $1::int - 1) AS g', [CONCURRENCY]);
    let done = 0;
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
    return done / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
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
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = databaseURL(dbName);
    progress(`PostgreSQL: conditional UPDATE floor, then joins with one and two instances, ${CONCURRENCY} concurrent`);
    const floor = await updateFloor(url, o.seconds);
    const registry = await createRegistry(work, 'registry-postgres', Math.min(o.registry, 2_000), url);
    const schedule = { kind: 'duration', seconds: o.seconds, warmupSeconds: o.warmupSeconds } as const;
    servers.push(await startServer(registry.dataDir, ['--store', url]));
    const one = await joinRun(load, servers, registry, CONCURRENCY, null, schedule);
    servers.push(await startServer(registry.dataDir, ['--store', url]));
    const two = await joinRun(load, servers, registry, CONCURRENCY, null, schedule);
    const failures = (r: typeof one): number => r.requests - r.ok;
    return {
      status: 'measured',
      lines: [
        `PostgreSQL conditional UPDATE floor: ${floor.toFixed(0)}/s at concurrency ${CONCURRENCY}`,
        `joins, 1 instance : ${one.perSecond.toFixed(0)}/s (ratio to floor ${(one.perSecond / floor).toFixed(2)}, p99 ${one.latencyMs.p99} ms, failures ${failures(one)})`,
        `joins, 2 instances: ${two.perSecond.toFixed(0)}/s (ratio to floor ${(two.perSecond / floor).toFixed(2)}, p99 ${two.latencyMs.p99} ms, failures ${failures(two)})`,
      ],
      values: {
        concurrency: CONCURRENCY,
        conditionalUpdatesPerSecond: floor,
        oneInstanceJoinsPerSecond: one.perSecond,
        oneInstanceFailures: failures(one),
        twoInstancesJoinsPerSecond: two.perSecond,
        twoInstancesFailures: failures(two),
      },
    };
  } finally {
    for (const s of servers) await s.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

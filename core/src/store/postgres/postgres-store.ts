import { Pool } from 'pg';
import type { GroupCommitOptions } from '../group-commit';
import { SqlStore } from '../sql/sql-store';
import { PostgresDeviceImport } from './postgres-device-import';
import { PostgresJoinHistory } from './postgres-join-history';
import { PostgresJoinState } from './postgres-join-state';
import { parsePostgresLocation, type PostgresLocation, type PostgresLocationOptions } from './postgres-location';
import { PostgresRateBuckets } from './postgres-rate-buckets';
import { PostgresRunner, wrap } from './postgres-sql';
import { migratePostgres } from './schema-migrations';

export { PostgresStoreError } from './postgres-sql';

export interface PostgresStoreOptions extends PostgresLocationOptions {
  /**
   * Group commit of `commitJoin` (default on): concurrent nonce updates share one transaction.
   * `false` commits each on its own (one statement, one transaction), for comparison.
   */
  readonly groupCommit?: GroupCommitOptions | false;
  /** How long to wait for a connection (opening, or a busy pool). Default 10000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * The scale-out store: one PostgreSQL database shared by any number of Joinery instances (and
 * the CLI). Every write is a committed transaction when its promise resolves; nothing that
 * matters lives in the process.
 *
 * - The shared aggregates (`../sql`) run on PostgresRunner; the join's read and commit
 *   (PostgresJoinState: the conditional UPDATE, group commit), the join history, imports and
 *   rate buckets are PostgreSQL's own.
 * - Migrations run under a transaction-level advisory lock (see migratePostgres).
 * - Tables live in the schema named by `?schema=` (or the option), else in the default one.
 *
 * CockroachDB and other PostgreSQL-compatible databases: the SQL is kept to what CockroachDB
 * accepts. What differs there: it runs SERIALIZABLE, so a transaction can fail with SQLSTATE
 * 40001 and must be retried (every transaction here is retried on 40001 and 40P01, up to 5
 * times; the conditional UPDATE makes a retry safe); `pg_advisory_xact_lock` is enforced only
 * by recent CockroachDB releases (it was a no-op before 2026: a racing migrator then fails on
 * the `schema_migrations` key and retries); identity and SERIAL columns are unique but only
 * roughly ordered across nodes there, which only matters for two sessions of one device created
 * in the same millisecond.
 */
export class PostgresStore extends SqlStore {
  readonly #location: PostgresLocation;
  readonly #joinState: PostgresJoinState;

  /**
   * Connects, creates the schema if missing and migrates it. Throws a clear error when the
   * server cannot be reached (never quoting the password), and SchemaTooNewError for a
   * database written by a newer release.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const location = parsePostgresLocation(url, options);
    const pool = new Pool({
      connectionString: location.connectionString,
      max: location.poolSize,
      connectionTimeoutMillis: Math.max(1, Math.floor(options.connectTimeoutMs ?? 10_000)),
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    // A connection the server drops or resets (restart, failover, a terminated backend) emits
    // 'error': on the pool while idle (the pool discards it), on the client itself while checked
    // out, between two queries of a transaction too. Unhandled, either would end the process.
    // The query or transaction in flight fails on its own (and answers as a store error); the
    // broken client is released as broken and the pool opens a new one when needed.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    try {
      await migratePostgres(pool, location.schema);
    } catch (err) {
      await pool.end().catch(() => {});
      if (err instanceof Error && err.name === 'SchemaTooNewError') throw err;
      throw wrap(`opening ${location.display}${location.schema ? ` (schema ${location.schema})` : ''}`, err);
    }
    const store = new PostgresStore(pool, location, options.groupCommit ?? {});
    try {
      await store.chainUnhashedAuditRows();
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  private constructor(pool: Pool, location: PostgresLocation, groupCommit: GroupCommitOptions | false) {
    const sql = new PostgresRunner(pool, location.schema);
    const joinState = new PostgresJoinState(sql, groupCommit);
    super({
      sql,
      devices: new PostgresDeviceImport(sql, (devEUI) => joinState.deviceForJoin(devEUI)),
      joinState,
      joinHistory: new PostgresJoinHistory(sql),
      rateBuckets: new PostgresRateBuckets(sql),
      // The peers' counter rides on the joins' device reads (PostgresJoinState.peersChanges).
      readChanges: async () => ({ peers: await joinState.peersChanges(), devices: 0 }),
      // No devices kept for the join: instances share the database, and the join of a device
      // through another instance would make every kept copy lose its commit once (see
      // join-device-cache.ts); the reads of a moment are one query instead (PostgresJoinState).
      keepJoinDevices: false,
      ping: async () => void (await sql.query('ping', 'SELECT 1 AS ok', [])),
      // The connections the first joins use at once (the device reads, the change counters, a
      // group commit), opened and given back; the rest of the pool opens as the load asks.
      prepareForJoins: async () => {
        const clients = await Promise.all(Array.from({ length: Math.min(pool.options.max ?? 10, 3) }, () => pool.connect()));
        for (const c of clients) c.release();
      },
      close: async () => {
        await joinState.drain();
        await pool.end();
      },
    });
    this.#location = location;
    this.#joinState = joinState;
  }

  /** The schema the tables live in (null: the server's default). */
  get schema(): string | null {
    return this.#location.schema;
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#joinState.groupCommitStats;
  }
}

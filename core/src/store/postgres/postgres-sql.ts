import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { driveAsync, type SqlDialect, type SqlRunner, type Statement, type Work } from '../sql/sql-work';

/**
 * A PostgreSQL error turned into one Joinery can print: the operation, the server's message
 * and its SQLSTATE. The server's `detail` (which can quote a whole failing row) is left out,
 * so nothing stored, sealed or not, ever reaches a log through an error.
 */
export class PostgresStoreError extends Error {
  override readonly name = 'PostgresStoreError';
  constructor(
    readonly operation: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`PostgreSQL store: ${operation}: ${reason}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`);
  }
}

export function wrap(operation: string, err: unknown): Error {
  if (err instanceof PostgresStoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new PostgresStoreError(operation, typeof code === 'string' ? code : undefined, message || (typeof code === 'string' ? code : 'failed'));
}

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Every write to peers bumps it, in the same transaction: what other instances' peer caches check. */
const BUMP_PEER_CHANGES: Statement = { sql: 'UPDATE change_counters SET peers = peers + 1 WHERE id = 1', params: [], want: 'count' };

/** The advisory-lock key that serializes appends to one schema's audit chain. */
function auditLockKey(schema: string | null): string {
  return createHash('sha256')
    .update(`joinery:audit:${schema ?? ''}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

/** PostgreSQL's side of the shared statements, for the tables of `schema`. */
export function postgresDialect(schema: string | null): SqlDialect {
  return {
    name: 'postgres',
    // The database's collation may not be byte order; "C" is, and is what SQLite sorts by.
    text: (column) => `${column} COLLATE "C"`,
    forUpdate: ' FOR UPDATE',
    same: (column) => `${column} IS NOT DISTINCT FROM ?`,
    textSet: (values) => ({ sql: '(SELECT unnest(?::TEXT[]))', param: values }),
    // Hex digits only, so nothing to escape; indexed by devices_by_{dev,join}_eui_prefix.
    euiPrefix: (p) => ({ sql: '(dev_eui LIKE ? OR join_eui LIKE ?)', params: [`${p}%`, `${p}%`] }),
    emptyIntList: "'{}'",
    auditLock: [{ sql: 'SELECT pg_advisory_xact_lock(?::BIGINT)', params: [auditLockKey(schema)], want: 'rows' }],
    bumpPeerChanges: [BUMP_PEER_CHANGES],
    isDuplicate: (err) => sqlState(err) === '23505' || (err instanceof PostgresStoreError && err.code === '23505'),
  };
}

/** Serialization failure, deadlock: the transaction did nothing and may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/** `?` placeholders as PostgreSQL's `$1`, `$2`... (the shared statements have no `?` anywhere else). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * The PostgreSQL store's connection pool: queries (a failure wrapped as PostgresStoreError),
 * transactions on one pooled connection (retried after a serialization failure or a deadlock,
 * as CockroachDB needs), and the shared units of work run on them.
 */
export class PostgresRunner implements SqlRunner {
  readonly dialect: SqlDialect;
  readonly #pool: Pool;
  readonly #numbered = new Map<string, string>();

  constructor(pool: Pool, schema: string | null) {
    this.#pool = pool;
    this.dialect = postgresDialect(schema);
  }

  async query<R extends QueryResultRow>(operation: string, text: string, values: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(text, values as unknown[])).rows;
    } catch (err) {
      throw wrap(operation, err);
    }
  }

  /**
   * One named (prepared once per connection) statement on the pool, alone in its implicit
   * transaction, retried as a transaction is; its rows.
   */
  prepared<R extends QueryResultRow>(operation: string, statement: { readonly name: string; readonly text: string }, values: readonly unknown[]): Promise<R[]> {
    return this.withRetry(operation, async () => (await this.#pool.query<R>({ name: statement.name, text: statement.text, values: values as unknown[] })).rows);
  }

  /** One statement on the pool, retried as a transaction is; its changed rows. */
  changes(operation: string, text: string, values: readonly unknown[]): Promise<number> {
    return this.withRetry(operation, async () => (await this.#pool.query(text, values as unknown[])).rowCount ?? 0);
  }

  async run<T>(operation: string, work: Work<T>): Promise<T> {
    return driveAsync(work, async (s) => {
      try {
        return await this.#execute(this.#pool, s);
      } catch (err) {
        throw wrap(operation, err);
      }
    });
  }

  /** A unit of work on the caller's connection (inside the caller's transaction). */
  runOn<T>(client: PoolClient, work: Work<T>): Promise<T> {
    return driveAsync(work, (s) => this.#execute(client, s));
  }

  /** A unit of work in one transaction, made again by `work()` for each attempt. */
  transaction<T>(operation: string, work: () => Work<T>): Promise<T> {
    return this.transactionWith(operation, (client) => this.runOn(client, work()));
  }

  async #execute(q: Pick<Pool, 'query'>, s: Statement): Promise<unknown> {
    let text = this.#numbered.get(s.sql);
    if (text === undefined) {
      text = numbered(s.sql);
      this.#numbered.set(s.sql, text);
    }
    const result = await q.query(text, s.params as unknown[]);
    return s.want === 'rows' ? result.rows : (result.rowCount ?? 0);
  }

  /** Runs `fn` in a transaction on one connection: COMMIT on success, ROLLBACK on a throw. */
  transactionWith<T>(operation: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withRetry(operation, async () => {
      const client = await this.#pool.connect();
      // A connection whose state is unknown (BEGIN, COMMIT or ROLLBACK did not get an answer from
      // the server) is destroyed rather than given back to the pool.
      let broken = false;
      const control = async (sql: string): Promise<void> => {
        try {
          await client.query(sql);
        } catch (err) {
          if (sqlState(err) === undefined) broken = true;
          throw err;
        }
      };
      try {
        await control('BEGIN');
        let result: T;
        try {
          result = await fn(client);
        } catch (err) {
          await control('ROLLBACK').catch(() => {
            broken = true;
          });
          throw err;
        }
        await control('COMMIT');
        return result;
      } finally {
        client.release(broken);
      }
    });
  }

  /**
   * Runs again after a serialization failure or a deadlock (nothing was written), then gives
   * up. A database's error is wrapped as PostgresStoreError; the work's own errors (a
   * duplicate device, a migration conflict...) pass as they are.
   */
  async withRetry<T>(operation: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const code = sqlState(err) ?? (err instanceof PostgresStoreError ? err.code : undefined);
        if (code !== undefined && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 5 * attempt)));
          continue;
        }
        throw isDatabaseError(err) ? wrap(operation, err) : err;
      }
    }
  }
}

/** An error of the database or of the connection to it (pg's errors, network errors), as opposed to the work's own. */
function isDatabaseError(err: unknown): boolean {
  if (err instanceof PostgresStoreError) return true;
  if (typeof err !== 'object' || err === null) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return true;
  // node-postgres's own (connection lost, pool timeout) carry no code; a plain Error of this module is one of those.
  return (err as Error).constructor === Error;
}

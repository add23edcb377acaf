import type Database from 'better-sqlite3';
import { LRUCache } from '../../keys/lru-cache';
import { driveSync, type SqlDialect, type SqlRunner, type Statement, type Work } from '../sql/sql-work';

/**
 * A SQLite error's code. By its code, not `instanceof Database.SqliteError`: the native addon
 * keeps the error class of the first copy of better-sqlite3 loaded in the process, and a test
 * runner that gives every test file its own module registry (jest) loads several copies.
 */
export function sqliteCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** SQLite's side of the shared statements. */
export const SQLITE_DIALECT: SqlDialect = {
  name: 'sqlite',
  // BINARY, SQLite's default collation, is byte order.
  text: (column) => column,
  forUpdate: '',
  same: (column) => `${column} IS ?`,
  textSet: (values) => ({ sql: '(SELECT value FROM json_each(?))', param: JSON.stringify(values) }),
  // A range on the primary key and on devices_by_join_eui: 'g' sorts after every hex digit.
  euiPrefix: (p) => ({ sql: '((dev_eui >= ? AND dev_eui < ?) OR (join_eui >= ? AND join_eui < ?))', params: [p, `${p}g`, p, `${p}g`] }),
  emptyIntList: "'[]'",
  // The IMMEDIATE transaction holds the database's write lock: appends are one at a time.
  auditLock: [],
  // Triggers bump change_counters (schema migration 9).
  bumpPeerChanges: [],
  isDuplicate: (err) => sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY' || sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE',
};

/** Dates as epoch milliseconds, booleans as 0/1: what a STRICT table takes. */
export function toSqlite(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** Distinct statement texts kept prepared (the shared statements are few; IN lists and filters vary). */
const PREPARED = 512;

/**
 * Runs the shared units of work on one better-sqlite3 connection, synchronously: a transaction
 * is one IMMEDIATE transaction (the write lock taken first, waiting up to busy_timeout, so it
 * never fails half-way because another connection wrote after it started reading), and since
 * no await splits it, nothing else on the connection lands inside it.
 */
export class SqliteRunner implements SqlRunner {
  readonly dialect = SQLITE_DIALECT;
  readonly #db: Database.Database;
  readonly #prepared = new LRUCache<string, Database.Statement>(PREPARED);
  readonly #immediate: (fn: () => unknown) => unknown;

  constructor(db: Database.Database) {
    this.#db = db;
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#immediate = (fn) => tx.immediate(fn);
  }

  /** One statement, at once. */
  execute(s: Statement): unknown {
    let stmt = this.#prepared.get(s.sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(s.sql);
      this.#prepared.set(s.sql, stmt);
    }
    const params = s.params.map(toSqlite);
    return s.want === 'rows' ? stmt.all(...params) : stmt.run(...params).changes;
  }

  /** A unit of work at once, on its own. */
  runNow<T>(work: Work<T>): T {
    return driveSync(work, (s) => this.execute(s));
  }

  /** A unit of work at once, in one IMMEDIATE transaction (or inside the caller's, when one is open). */
  transactionNow<T>(work: Work<T>): T {
    return this.#immediate(() => this.runNow(work)) as T;
  }

  async run<T>(_operation: string, work: Work<T>): Promise<T> {
    return this.runNow(work);
  }

  async transaction<T>(_operation: string, work: () => Work<T>): Promise<T> {
    return this.transactionNow(work());
  }
}

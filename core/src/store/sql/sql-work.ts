/*
 * One code path for both databases for the store's cold CRUD (tenants, API keys, peers, the
 * device registry's lists and changes, the audit log, the fleet-migration journal, settings).
 *
 * A unit of work is a generator: it yields each statement (`?` placeholders, values as the
 * domain has them: Dates, booleans, Buffers) and is handed back its rows or its count of changed
 * rows. Each store's runner (`SqlRunner`) drives it: SQLite synchronously, inside one IMMEDIATE
 * transaction of better-sqlite3 (so nothing else on the connection ever lands inside it, and no
 * await splits it), PostgreSQL with an await per statement on one pooled connection inside
 * BEGIN ... COMMIT (retried on a serialization failure). Why not a query builder (Kysely): see
 * docs/architecture.md, "The store".
 *
 * The few places where the two dialects' SQL differs are the `SqlDialect`'s, named by what they
 * do (a byte-order ORDER BY, a row lock, a set of text values).
 */

/** One statement of a unit of work. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
  /** `rows`: the rows it returns; `count`: how many rows it changed. */
  readonly want: 'rows' | 'count';
}

/** A unit of work: yields statements, is given their results, returns T. */
export type Work<T> = Generator<Statement, T, unknown>;

/** Yields a statement and returns its rows (typed by the caller, who knows the SELECT list). */
export function* rows<R>(sql: string, params: readonly unknown[] = []): Work<R[]> {
  return (yield { sql, params, want: 'rows' }) as R[];
}

/** The first row, or undefined. */
export function* firstRow<R>(sql: string, params: readonly unknown[] = []): Work<R | undefined> {
  return (yield* rows<R>(sql, params))[0];
}

/** Yields a statement and returns how many rows it changed. */
export function* count(sql: string, params: readonly unknown[] = []): Work<number> {
  return (yield { sql, params, want: 'count' }) as number;
}

/** True when the statement changed exactly one row. */
export function* changedOne(write: Work<number>): Work<boolean> {
  return (yield* write) === 1;
}

/** Runs a unit of work with `execute`, which answers each statement at once (SQLite). */
export function driveSync<T>(work: Work<T>, execute: (s: Statement) => unknown): T {
  let next = work.next();
  while (!next.done) next = work.next(execute(next.value));
  return next.value;
}

/** Runs a unit of work with `execute`, awaiting each statement (PostgreSQL). */
export async function driveAsync<T>(work: Work<T>, execute: (s: Statement) => Promise<unknown>): Promise<T> {
  let next = work.next();
  while (!next.done) next = work.next(await execute(next.value));
  return next.value;
}

/** What differs between the two dialects' SQL in the shared statements. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** A text column in byte order (ORDER BY, keyset comparisons): PostgreSQL's collation may not be. */
  text(column: string): string;
  /** ` FOR UPDATE` where a transaction takes row locks (PostgreSQL); SQLite's IMMEDIATE transaction holds the whole database. */
  readonly forUpdate: string;
  /** `column IS NOT DISTINCT FROM ?` (null equals null), with one parameter. */
  same(column: string): string;
  /** A set of text values as one parameter: `column IN ${set.sql}` tests membership. */
  textSet(values: readonly string[]): { readonly sql: string; readonly param: unknown };
  /** The condition of a device search by DevEUI or JoinEUI prefix (lower-case hex digits). */
  euiPrefix(prefix: string): { readonly sql: string; readonly params: readonly unknown[] };
  /** An empty list of integers as the devices table stores one (SQLite: JSON text, PostgreSQL: an INTEGER[]). */
  readonly emptyIntList: string;
  /** Statements an audited write runs before reading the chain's last entry (PostgreSQL: the chain's lock). */
  readonly auditLock: readonly Statement[];
  /** What a write to peers runs to bump the peers' change counter (SQLite: a trigger does it). */
  readonly bumpPeerChanges: readonly Statement[];
  /** A unique or primary-key violation (a duplicate) of this database. */
  isDuplicate(err: unknown): boolean;
}

/** Runs units of work on one database. */
export interface SqlRunner {
  readonly dialect: SqlDialect;
  /** Runs `work` on its own (a read, or a single write): each statement is its own transaction. */
  run<T>(operation: string, work: Work<T>): Promise<T>;
  /**
   * Runs the work `work()` makes in one write transaction: all of it or none; a throw from it
   * rolls back. A function, so that a transaction PostgreSQL (or CockroachDB) failed for a
   * serialization failure or a deadlock is run again from its start.
   */
  transaction<T>(operation: string, work: () => Work<T>): Promise<T>;
}

/** A column read back: SQLite gives epoch milliseconds, PostgreSQL a Date. */
export type SqlTime = Date | number;
/** A column read back: PostgreSQL gives a BIGINT (and COUNT) as a string. */
export type SqlInt = number | string;

export function asDate(v: SqlTime): Date;
export function asDate(v: SqlTime | null): Date | null;
export function asDate(v: SqlTime | null): Date | null {
  return v === null ? null : v instanceof Date ? v : new Date(v);
}

export function asInt(v: SqlInt, field: string): number;
export function asInt(v: SqlInt | null, field: string): number | null;
export function asInt(v: SqlInt | null, field: string): number | null {
  if (v === null) return null;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${field}: not an integer`);
  return n;
}

/** SQLite's 0/1, PostgreSQL's boolean. */
export function asBool(v: number | boolean): boolean {
  return typeof v === 'boolean' ? v : v !== 0;
}

/** `(?, ?, ?)` for n values. */
export function placeholders(n: number): string {
  return `(${Array.from({ length: n }, () => '?').join(', ')})`;
}

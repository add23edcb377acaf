import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { GroupCommitOptions } from '../group-commit';
import { chainUnhashedAuditRows } from '../sql/audit-log-sql';
import { SqlStore, type ChangeCounters } from '../sql/sql-store';
import { firstRow } from '../sql/sql-work';
import { SqliteCommitWorker } from './commit-worker';
import { SqliteHistoryWorker } from './history-worker';
import { migrate } from './schema-migrations';
import { SqliteDeviceImport } from './sqlite-device-import';
import { SqliteJoinHistory } from './sqlite-join-history';
import { SqliteJoinState } from './sqlite-join-state';
import { SqliteRateBuckets } from './sqlite-rate-buckets';
import { SqliteRunner, SQLITE_DIALECT } from './sqlite-sql';
import { writeTurnMemory } from './write-turn';

export interface SqliteStoreOptions {
  /** How long a statement waits for another connection's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Group commit of `commitJoin` (default on): the commits that arrive in one turn of the event
   * loop share one transaction, so one fsync. `false` commits each on its own.
   */
  readonly groupCommit?: GroupCommitOptions | false;
  /**
   * Run the group commits on a worker thread with its own connection (default true for a file
   * database; an in-memory database has no second connection, it commits on the caller's).
   * The event loop goes on serving requests while a batch is synced to disk.
   */
  readonly commitWorker?: boolean;
}

/**
 * The embedded default store: one SQLite file, shared safely by a running server and the CLI
 * (and by several server processes on one host). WAL journal, `synchronous = FULL` (a commit
 * is on disk when its promise resolves), a busy timeout so writers queue instead of failing,
 * foreign keys on. The schema is migrated when the file is opened.
 *
 * better-sqlite3 is synchronous, so every method does its work before returning its (already
 * settled) promise; the statements are short, indexed and prepared once. The shared aggregates
 * (`../sql`) run on SqliteRunner; the join's read and commit (SqliteJoinState, with its commit
 * thread), the join history (its own thread), imports and rate buckets are SQLite's own.
 */
export class SqliteStore extends SqlStore {
  readonly #joinState: SqliteJoinState;

  /**
   * Opens (creating if missing, with its directory, mode 0700) and migrates the database file.
   * The file is the owner's alone (0600), whatever the umask; SQLite gives its -wal and -shm
   * files the database file's mode, and those already there are set to it too.
   * Synchronous. Throws SchemaTooNewError for a database written by a newer release.
   * `:memory:` gives a private in-memory database (tests).
   */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
      ownerOnly(file);
    }
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      if (file !== ':memory:') for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      new SqliteRunner(db).transactionNow(chainUnhashedAuditRows(SQLITE_DIALECT));
      return new SqliteStore(db, file === ':memory:' ? null : path.resolve(file), options, busyTimeoutMs);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(db: Database.Database, file: string | null, options: SqliteStoreOptions, busyTimeoutMs: number) {
    const sql = new SqliteRunner(db);
    const groupCommit = options.groupCommit ?? {};
    // The commit and history threads take turns at the write lock, commits first (write-turn.ts).
    const writeTurn = writeTurnMemory();
    const commitWorker = file !== null && groupCommit !== false && (options.commitWorker ?? true) ? new SqliteCommitWorker({ file, busyTimeoutMs, writeTurn }) : null;
    // The join history's own thread and connection (`history-worker.ts`).
    const historyWorker = file !== null ? new SqliteHistoryWorker({ file, busyTimeoutMs, writeTurn }) : null;
    const joinState = new SqliteJoinState(db, sql, groupCommit, commitWorker);
    const readChanges = db.prepare('SELECT peers, devices FROM change_counters WHERE id = 1');
    super({
      sql,
      devices: new SqliteDeviceImport(db, sql, busyTimeoutMs, (devEUI) => joinState.deviceForJoin(devEUI)),
      joinState,
      joinHistory: new SqliteJoinHistory(db, sql, historyWorker),
      rateBuckets: new SqliteRateBuckets(db),
      // The change counters the triggers bump (schema migrations 6 and 13).
      readChanges: async () => readChanges.get() as ChangeCounters,
      keepJoinDevices: true,
      ping: async () => void sql.runNow(firstRow('SELECT 1 AS ok')),
      prepareForJoins: async () => void (await Promise.all([commitWorker?.start(), historyWorker?.start()])),
      close: async () => {
        await joinState.drain();
        await commitWorker?.close();
        await historyWorker?.close();
        if (db.open) db.close();
      },
    });
    this.#joinState = joinState;
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#joinState.groupCommitStats;
  }
}

/** Creates the database file if missing, and makes it readable and writable by its owner alone. */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

import type Database from 'better-sqlite3';
import type { JoinCommit } from '../device';
import { sqliteCode } from './sqlite-sql';

/**
 * A commit as the parameters of its statement (plain values: they also cross to the commit
 * thread): COMMIT_FIRST_JOIN_SQL's when it records the device's activation, else
 * COMMIT_JOIN_SQL's.
 */
export interface CommitParams {
  readonly recordsActivation: boolean;
  readonly values: ReadonlyArray<string | number | null>;
}

/** A commit that failed on its own, the others of its batch going through. */
export interface CommitFailure {
  readonly error: unknown;
}

const JOIN_SET = `last_dev_nonce = ?, used_dev_nonces = ?, last_join_nonce = ?, last_rj_count1 = ?,
        last_rj_count0 = ?, rejoin_window_start = ?, rejoin_window_count = ?,
        last_join_at = ?, last_join_peer = ?, version = version + 1`;

/** A join's conditional nonce update, the device's activation recorded already (JoinCommit.recordsActivation). */
export const COMMIT_JOIN_SQL = `UPDATE devices SET ${JOIN_SET} WHERE dev_eui = ? AND version = ?`;

/**
 * The same for a device whose activation is not recorded: its first accepted join (usage
 * metering), charged to its owner then. Only for those: the activation's columns are indexed
 * (devices_by_activation), and SQLite rewrites the index entry of every row whose SET list
 * names them, changed or not: a second page in the WAL for each join, about twice the WAL a
 * commit writes (measured in bench/README.md).
 */
export const COMMIT_FIRST_JOIN_SQL = `UPDATE devices
    SET ${JOIN_SET},
        activated_at = COALESCE(activated_at, ?), activated_tenant = COALESCE(activated_tenant, owner_tenant)
  WHERE dev_eui = ? AND version = ?`;

/** The parameters of one commit's statement. */
export function commitJoinParams(commit: JoinCommit): CommitParams {
  const n = commit.nonces;
  const at = commit.joinedAt.getTime();
  const w = n.rejoinWindow;
  const set = [n.lastDevNonce, JSON.stringify(n.usedDevNonces), n.lastJoinNonce, n.lastRJCount1, n.lastRJCount0, w === null ? null : w.start.getTime(), w === null ? 0 : w.count, at, commit.peer];
  const where = [commit.devEUI, commit.expectedVersion];
  return { recordsActivation: commit.recordsActivation, values: commit.recordsActivation ? [...set, at, ...where] : [...set, ...where] };
}

/**
 * The one batch commit of the SQLite store, run by the commit thread and, without the thread
 * (an in-memory database, or `commitWorker: false`), by the store itself. The commits of a batch
 * run in arrival order in one IMMEDIATE transaction, so each is still conditional on its own
 * version and a second commit of one device sees the first's; one fsync for all of them. If the
 * write lock is not had within the busy timeout, the whole batch fails (thrown); on any other
 * failure each commit is run on its own, so one bad commit fails alone. Running a commit again
 * is safe: it is conditional on its version.
 */
export function commitBatcher(db: Database.Database): (batch: readonly CommitParams[]) => Array<boolean | CommitFailure> {
  const update = db.prepare(COMMIT_JOIN_SQL);
  const firstJoin = db.prepare(COMMIT_FIRST_JOIN_SQL);
  const one = (params: CommitParams): boolean => (params.recordsActivation ? firstJoin : update).run(...params.values).changes === 1;
  const many = db.transaction((batch: readonly CommitParams[]) => batch.map(one));
  return (batch) => {
    if (batch.length > 1) {
      try {
        return many.immediate(batch);
      } catch (err) {
        if (sqliteCode(err)?.startsWith('SQLITE_BUSY')) throw err;
      }
    }
    return batch.map((params) => {
      try {
        return one(params);
      } catch (error) {
        return { error };
      }
    });
  };
}

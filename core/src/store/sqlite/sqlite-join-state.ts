import type Database from 'better-sqlite3';
import type { EUI64 } from '../../lorawan/identifiers';
import type { Device, JoinCommit } from '../device';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { JoinState } from '../ports/join-state';
import type { SessionRecord } from '../session';
import { DEVICE_COLUMNS, deviceFromRow, type DeviceRow } from '../sql/device-registry-sql';
import { checkKeep, getSession, SESSION_COLUMNS, sessionValues } from '../sql/join-state-sql';
import { commitBatcher, commitJoinParams } from './commit-batch';
import type { SqliteCommitWorker } from './commit-worker';
import type { SqliteRunner } from './sqlite-sql';

/** Where each of DEVICE_COLUMNS is in a row read as values. */
const DEVICE_COLUMN = Object.fromEntries(DEVICE_COLUMNS.split(',').map((c, i) => [c.trim(), i])) as Readonly<Record<keyof DeviceRow, number>>;

/**
 * A device row read as values (`raw(true)`, in DEVICE_COLUMNS order): better-sqlite3 building
 * the row object itself, 24 named properties set one by one from C++, cost a read about 10 µs
 * more (measured, 18 against 28 µs, one point lookup of a 10,000-device registry).
 */
function deviceRowOf(v: readonly unknown[]): DeviceRow {
  const c = DEVICE_COLUMN;
  // One object literal (one shape), its properties in one order.
  return {
    dev_eui: v[c.dev_eui] as DeviceRow['dev_eui'],
    join_eui: v[c.join_eui] as DeviceRow['join_eui'],
    mac_version: v[c.mac_version] as DeviceRow['mac_version'],
    sealed_root_keys: v[c.sealed_root_keys] as DeviceRow['sealed_root_keys'],
    vault_kind: v[c.vault_kind] as DeviceRow['vault_kind'],
    ns_peer: v[c.ns_peer] as DeviceRow['ns_peer'],
    overlap_ns_peer: v[c.overlap_ns_peer] as DeviceRow['overlap_ns_peer'],
    as_peer: v[c.as_peer] as DeviceRow['as_peer'],
    last_dev_nonce: v[c.last_dev_nonce] as DeviceRow['last_dev_nonce'],
    used_dev_nonces: v[c.used_dev_nonces] as DeviceRow['used_dev_nonces'],
    last_join_nonce: v[c.last_join_nonce] as DeviceRow['last_join_nonce'],
    last_rj_count1: v[c.last_rj_count1] as DeviceRow['last_rj_count1'],
    last_rj_count0: v[c.last_rj_count0] as DeviceRow['last_rj_count0'],
    rejoin_window_start: v[c.rejoin_window_start] as DeviceRow['rejoin_window_start'],
    rejoin_window_count: v[c.rejoin_window_count] as DeviceRow['rejoin_window_count'],
    version: v[c.version] as DeviceRow['version'],
    last_join_at: v[c.last_join_at] as DeviceRow['last_join_at'],
    last_join_peer: v[c.last_join_peer] as DeviceRow['last_join_peer'],
    created_at: v[c.created_at] as DeviceRow['created_at'],
    manufacturer_tenant: v[c.manufacturer_tenant] as DeviceRow['manufacturer_tenant'],
    owner_tenant: v[c.owner_tenant] as DeviceRow['owner_tenant'],
    owner_token_hash: v[c.owner_token_hash] as DeviceRow['owner_token_hash'],
    profile_id: v[c.profile_id] as DeviceRow['profile_id'],
    locked: v[c.locked] as DeviceRow['locked'],
    claimed_at: v[c.claimed_at] as DeviceRow['claimed_at'],
    activated_at: v[c.activated_at] as DeviceRow['activated_at'],
    activated_tenant: v[c.activated_tenant] as DeviceRow['activated_tenant'],
  };
}

/**
 * The join's read and write on SQLite, by hand: the device read as values, and `commitJoin`
 * under group commit (the commits that arrive together run in one IMMEDIATE transaction, one
 * fsync: measured here, about 3,000 single-row durable commits/s, 39,000/s in batches of 10),
 * on the commit thread for a database file (the event loop is not held by the fsync, and the
 * commits that arrive while a batch is syncing form the next batch), else on this connection.
 */
export class SqliteJoinState implements JoinState {
  readonly #sql: SqliteRunner;
  readonly #getDevice: Database.Statement;
  readonly #commitOne: (commit: JoinCommit) => boolean;
  readonly #addSession: (session: SessionRecord, keep: number) => void;
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;

  constructor(db: Database.Database, sql: SqliteRunner, groupCommit: GroupCommitOptions | false, worker: SqliteCommitWorker | null) {
    this.#sql = sql;
    // Values, not an object (see deviceRowOf): every join reads its device.
    this.#getDevice = db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = ?`).raw(true);
    const batch = commitBatcher(db);
    this.#commitOne = (commit) => {
      const [result] = batch([commitJoinParams(commit)]);
      if (typeof result !== 'boolean') throw result!.error;
      return result;
    };
    // Both ways a commit is dispatched at the end of its event-loop turn, which gathers the
    // joins of that turn (under load, one I/O callback per request, many in a turn) into one
    // message and one transaction; on the worker thread what arrives while a batch is being
    // synced forms the next. (Dispatching a lone commit at once sent the first join of a turn
    // alone and the rest in a second message: bench/README.md.)
    this.#committer =
      groupCommit === false
        ? null
        : worker
          ? new GroupCommitter((commits) => worker.run(commits), { dispatchWhenIdle: false, ...groupCommit })
          : new GroupCommitter(async (commits) => batch(commits.map(commitJoinParams)).map((r) => (typeof r === 'boolean' ? r : new ItemFailure(r.error))), { dispatchWhenIdle: false, ...groupCommit });

    const insert = db.prepare(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const prune = db.prepare(
      `DELETE FROM sessions
        WHERE dev_eui = ?
          AND rowid NOT IN (SELECT rowid FROM sessions WHERE dev_eui = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    );
    const addSession = db.transaction((s: SessionRecord, keep: number) => {
      insert.run(...sessionValues(s).map((v) => (v instanceof Date ? v.getTime() : v)));
      prune.run(s.devEUI, s.devEUI, keep);
    });
    this.#addSession = (session, keep) => addSession.immediate(session, keep);
  }

  async deviceForJoin(devEUI: EUI64): Promise<Device | null> {
    const values = this.#getDevice.get(devEUI) as unknown[] | undefined;
    return values ? deviceFromRow(deviceRowOf(values)) : null;
  }

  async commitJoin(commit: JoinCommit): Promise<boolean> {
    return this.#committer === null ? this.#commitOne(commit) : this.#committer.submit(commit);
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#committer?.stats ?? null;
  }

  /** Lets the queued commits finish. */
  drain(): Promise<void> {
    return this.#committer?.drain() ?? Promise.resolve();
  }

  /**
   * Inserts the session and deletes all but the newest `keep` of the device (newest = latest
   * `createdAt`, then latest inserted), in one transaction. The device must exist (foreign key).
   */
  async addSession(session: SessionRecord, keep: number): Promise<void> {
    checkKeep('addSession', keep);
    this.#addSession(session, keep);
  }

  async getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    return this.#sql.runNow(getSession(devEUI, sessionKeyID));
  }
}

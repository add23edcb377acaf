import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import { serializePeerSettings, type PeerSettings } from '../../peers/peer-settings';
import type { AuditEvent, AuditQuery } from '../audit-event';
import { deviceFromRow, PEER_COLUMNS, peerFromRow, peerRowValues, sessionFromRow } from '../row-mapping';
import type { Device, JoinCommit, NewDevice } from '../device';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { SessionRecord } from '../session';
import { DeviceExistsError, PeerExistsError, type DeviceListQuery, type Resealer, type SealedBlobOwner, type Store } from '../store';
import { SqliteCommitWorker } from './commit-worker';
import { migrate } from './migrations';

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

interface DeviceRow {
  dev_eui: string;
  join_eui: string;
  mac_version: string;
  sealed_root_keys: Buffer;
  vault_kind: string;
  ns_peer: string | null;
  as_peer: string | null;
  last_dev_nonce: number | null;
  used_dev_nonces: string;
  last_join_nonce: number | null;
  last_rj_count1: number | null;
  version: number;
  last_join_at: number | null;
  last_join_peer: string | null;
  created_at: number;
}

interface SessionRow {
  dev_eui: string;
  session_key_id: string;
  join_nonce: number;
  ns_peer: string;
  as_peer: string | null;
  sealed_app_s_key: Buffer;
  created_at: number;
}

interface PeerRow {
  name: string;
  kind: string;
  cert_fingerprint: string;
  kek_label: string;
  settings: string;
  sealed_kek: Buffer;
  net_id: string | null;
  ns_id: string | null;
  vendor: string | null;
  as_id: string | null;
  created_at: number;
}

const DEVICE_COLUMNS = `dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, as_peer,
  last_dev_nonce, used_dev_nonces, last_join_nonce, last_rj_count1, version, last_join_at, last_join_peer, created_at`;

/**
 * The embedded default store: one SQLite file, shared safely by a running server and the CLI
 * (and by several server processes on one host). WAL journal, `synchronous = FULL` (a commit
 * is on disk when its promise resolves), a busy timeout so writers queue instead of failing,
 * foreign keys on. The schema is migrated when the file is opened.
 *
 * better-sqlite3 is synchronous, so every method does its work before returning its (already
 * settled) promise; the statements are short, indexed and prepared once. The exception is
 * `commitJoin` under group commit: the commits that arrive together are run in arrival order in
 * one IMMEDIATE transaction, so each is still conditional on its own version and a second commit
 * of one device sees the first's. One fsync for all of them: measured here, about 3,000
 * single-row durable commits/s, 39,000/s in batches of 10. For a database file the batches run
 * on a worker thread with its own connection (`commit-worker.ts`): the event loop is not held
 * by the fsync, and the commits that arrive while a batch is syncing form the next batch.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #insertDevicesTx: (devices: readonly NewDevice[]) => void;
  readonly #addSessionTx: (session: SessionRecord, keep: number) => void;
  readonly #resetDevNoncesTx: (devEUI: EUI64, audit: AuditEvent) => boolean;
  readonly #commitManyTx: (commits: readonly JoinCommit[]) => boolean[];
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;
  readonly #worker: SqliteCommitWorker | null;

  /**
   * Opens (creating if missing, with its directory, mode 0700) and migrates the database file.
   * Synchronous. Throws SchemaTooNewError for a database written by a newer release.
   * `:memory:` gives a private in-memory database (tests).
   */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      const groupCommit = options.groupCommit ?? {};
      const worker =
        file !== ':memory:' && groupCommit !== false && (options.commitWorker ?? true)
          ? new SqliteCommitWorker({ file: path.resolve(file), busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000)), commitSQL: COMMIT_JOIN_SQL })
          : null;
      return new SqliteStore(db, groupCommit, worker);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(db: Database.Database, groupCommit: GroupCommitOptions | false, worker: SqliteCommitWorker | null) {
    this.#db = db;
    this.#stmt = prepareStatements(db);
    this.#worker = worker;

    const commitMany = db.transaction((commits: readonly JoinCommit[]) => commits.map((c) => this.#commitOne(c)));
    this.#commitManyTx = (commits) => commitMany.immediate(commits);
    // On the worker thread, a lone commit goes at once and what arrives while a batch is being
    // synced forms the next. On this thread a commit is synchronous, so "while one is in
    // flight" never happens: it is dispatched at the end of the event-loop turn, which gathers
    // the concurrent joins.
    this.#committer =
      groupCommit === false
        ? null
        : worker
          ? new GroupCommitter((commits) => worker.run(commits), groupCommit)
          : new GroupCommitter(async (commits) => this.#commitGroup(commits), { dispatchWhenIdle: false, ...groupCommit });

    // IMMEDIATE: take the write lock first (waiting up to busy_timeout), so a transaction never
    // fails half-way because another connection wrote after it started reading.
    const insertDevices = db.transaction((devices: readonly NewDevice[]) => {
      const now = Date.now();
      for (const d of devices) {
        try {
          this.#stmt.insertDevice.run(d.devEUI, d.joinEUI, d.macVersion, d.sealedRootKeys, d.vaultKind, d.nsPeer, d.asPeer, now);
        } catch (err) {
          if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new DeviceExistsError(d.devEUI);
          throw err;
        }
      }
    });
    this.#insertDevicesTx = (devices) => insertDevices.immediate(devices);

    const addSession = db.transaction((s: SessionRecord, keep: number) => {
      this.#stmt.insertSession.run(s.devEUI, s.sessionKeyID, s.joinNonce, s.nsPeer, s.asPeer, s.sealedAppSKey, s.createdAt.getTime());
      this.#stmt.pruneSessions.run(s.devEUI, s.devEUI, keep);
    });
    this.#addSessionTx = (session, keep) => addSession.immediate(session, keep);

    const resetDevNonces = db.transaction((devEUI: EUI64, audit: AuditEvent) => {
      if (this.#stmt.resetDevNonces.run(devEUI).changes === 0) return false;
      this.#stmt.insertAudit.run(audit.at.getTime(), audit.actor, audit.action, audit.devEUI, JSON.stringify(audit.detail));
      return true;
    });
    this.#resetDevNoncesTx = (devEUI, audit) => resetDevNonces.immediate(devEUI, audit);
  }

  async insertDevices(devices: readonly NewDevice[]): Promise<void> {
    const seen = new Set<string>();
    for (const d of devices) {
      if (seen.has(d.devEUI)) throw new DeviceExistsError(d.devEUI);
      seen.add(d.devEUI);
    }
    if (devices.length > 0) this.#insertDevicesTx(devices);
  }

  async getDevice(devEUI: EUI64): Promise<Device | null> {
    const row = this.#stmt.getDevice.get(devEUI) as DeviceRow | undefined;
    return row ? toDevice(row) : null;
  }

  async listDevices(query: DeviceListQuery): Promise<Device[]> {
    const rows = (
      query.nsPeer === undefined
        ? this.#stmt.listDevices.all(query.limit, query.offset)
        : this.#stmt.listDevicesOfPeer.all(query.nsPeer, query.limit, query.offset)
    ) as DeviceRow[];
    return rows.map(toDevice);
  }

  async countDevices(): Promise<number> {
    return (this.#stmt.countDevices.get() as { n: number }).n;
  }

  async commitJoin(commit: JoinCommit): Promise<boolean> {
    return this.#committer === null ? this.#commitOne(commit) : this.#committer.submit(commit);
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#committer?.stats ?? null;
  }

  /**
   * The commits of one turn in one transaction. If the write lock is not had within the busy
   * timeout, they all fail; any other failure, each is tried on its own, so one bad commit fails
   * alone. Running a commit again is safe: it is conditional on its version.
   */
  #commitGroup(commits: readonly JoinCommit[]): Array<boolean | ItemFailure> {
    if (commits.length > 1) {
      try {
        return this.#commitManyTx(commits);
      } catch (err) {
        if (sqliteCode(err)?.startsWith('SQLITE_BUSY')) throw err;
      }
    }
    return commits.map((c) => {
      try {
        return this.#commitOne(c);
      } catch (err) {
        return new ItemFailure(err);
      }
    });
  }

  #commitOne(commit: JoinCommit): boolean {
    const n = commit.nonces;
    const result = this.#stmt.commitJoin.run(
      n.lastDevNonce,
      JSON.stringify(n.usedDevNonces),
      n.lastJoinNonce,
      n.lastRJCount1,
      commit.joinedAt.getTime(),
      commit.peer,
      commit.devEUI,
      commit.expectedVersion,
    );
    return result.changes === 1;
  }

  /**
   * Inserts the session and deletes all but the newest `keep` of the device (newest = latest
   * `createdAt`, then latest inserted), in one transaction. The device must exist (foreign
   * key); `keep` must be a positive integer.
   */
  async addSession(session: SessionRecord, keep: number): Promise<void> {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`addSession: keep must be a positive integer, got ${keep}`);
    this.#addSessionTx(session, keep);
  }

  async getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    const row = this.#stmt.getSession.get(devEUI, sessionKeyID) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async insertPeer(peer: Peer): Promise<void> {
    try {
      this.#stmt.insertPeer.run(...peerRowValues(peer).map((v) => (v instanceof Date ? v.getTime() : v)));
    } catch (err) {
      if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY') || isConstraint(err, 'SQLITE_CONSTRAINT_UNIQUE')) {
        throw new PeerExistsError(peer.name);
      }
      throw err;
    }
  }

  async getPeer(name: string): Promise<Peer | null> {
    const row = this.#stmt.getPeer.get(name) as PeerRow | undefined;
    return row ? toPeer(row) : null;
  }

  async getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    const row = this.#stmt.getPeerByFingerprint.get(certFingerprint) as PeerRow | undefined;
    return row ? toPeer(row) : null;
  }

  async updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    return this.#stmt.updatePeerSettings.run(serializePeerSettings(settings), name).changes > 0;
  }

  async resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null> {
    return this.#resetDevNoncesTx(devEUI, audit) ? this.getDevice(devEUI) : null;
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const rows = (query.devEUI === undefined ? this.#stmt.listAudit.all(query.limit) : this.#stmt.listAuditOfDevice.all(query.devEUI, query.limit)) as AuditRow[];
    return rows.map(toAuditEvent);
  }

  async listPeers(): Promise<Peer[]> {
    return (this.#stmt.listPeers.all() as PeerRow[]).map(toPeer);
  }

  async resealAll(reseal: Resealer): Promise<number> {
    const db = this.#db;
    let replaced = 0;
    const pass = async <R>(page: Database.Statement, update: Database.Statement, first: unknown[], key: (r: R) => unknown[], blob: (r: R) => Buffer, owner: (r: R) => SealedBlobOwner): Promise<void> => {
      let after = first;
      for (;;) {
        const rows = page.all(...after, RESEAL_BATCH) as R[];
        if (rows.length === 0) return;
        for (const r of rows) {
          const next = await reseal(blob(r), owner(r));
          if (next && update.run(next, ...key(r), blob(r)).changes === 1) replaced++;
        }
        after = key(rows[rows.length - 1]!);
      }
    };
    type DeviceBlob = { dev_eui: string; sealed_root_keys: Buffer };
    await pass<DeviceBlob>(
      db.prepare('SELECT dev_eui, sealed_root_keys FROM devices WHERE dev_eui > ? ORDER BY dev_eui LIMIT ?'),
      db.prepare('UPDATE devices SET sealed_root_keys = ? WHERE dev_eui = ? AND sealed_root_keys = ?'),
      [''],
      (r) => [r.dev_eui],
      (r) => r.sealed_root_keys,
      (r) => ({ kind: 'device', devEUI: parseEUI64(r.dev_eui) }),
    );
    type PeerBlob = { name: string; sealed_kek: Buffer };
    await pass<PeerBlob>(
      db.prepare('SELECT name, sealed_kek FROM peers WHERE name > ? ORDER BY name LIMIT ?'),
      db.prepare('UPDATE peers SET sealed_kek = ? WHERE name = ? AND sealed_kek = ?'),
      [''],
      (r) => [r.name],
      (r) => r.sealed_kek,
      (r) => ({ kind: 'peer', name: r.name }),
    );
    type SessionBlob = { dev_eui: string; session_key_id: string; sealed_app_s_key: Buffer };
    await pass<SessionBlob>(
      db.prepare('SELECT dev_eui, session_key_id, sealed_app_s_key FROM sessions WHERE (dev_eui, session_key_id) > (?, ?) ORDER BY dev_eui, session_key_id LIMIT ?'),
      db.prepare('UPDATE sessions SET sealed_app_s_key = ? WHERE dev_eui = ? AND session_key_id = ? AND sealed_app_s_key = ?'),
      ['', ''],
      (r) => [r.dev_eui, r.session_key_id],
      (r) => r.sealed_app_s_key,
      (r) => ({ kind: 'session', devEUI: parseEUI64(r.dev_eui), sessionKeyID: r.session_key_id }),
    );
    return replaced;
  }

  async ping(): Promise<void> {
    this.#stmt.ping.get();
  }

  /** Lets queued commits finish, then closes the connection (idempotent). */
  async close(): Promise<void> {
    await this.#committer?.drain();
    await this.#worker?.close();
    if (this.#db.open) this.#db.close();
  }
}

/** A join's conditional nonce update (run here, or by the commit worker). */
const COMMIT_JOIN_SQL = `UPDATE devices
    SET last_dev_nonce = ?, used_dev_nonces = ?, last_join_nonce = ?, last_rj_count1 = ?,
        last_join_at = ?, last_join_peer = ?, version = version + 1
  WHERE dev_eui = ? AND version = ?`;

/** Blobs read per page by resealAll. */
const RESEAL_BATCH = 500;

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    insertDevice: db.prepare(
      `INSERT INTO devices (dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, as_peer, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getDevice: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = ?`),
    listDevices: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY dev_eui LIMIT ? OFFSET ?`),
    listDevicesOfPeer: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE ns_peer = ? ORDER BY dev_eui LIMIT ? OFFSET ?`),
    countDevices: db.prepare('SELECT COUNT(*) AS n FROM devices'),
    commitJoin: db.prepare(COMMIT_JOIN_SQL),
    insertSession: db.prepare(
      `INSERT INTO sessions (dev_eui, session_key_id, join_nonce, ns_peer, as_peer, sealed_app_s_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pruneSessions: db.prepare(
      `DELETE FROM sessions
        WHERE dev_eui = ?
          AND rowid NOT IN (SELECT rowid FROM sessions WHERE dev_eui = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    ),
    getSession: db.prepare(
      `SELECT dev_eui, session_key_id, join_nonce, ns_peer, as_peer, sealed_app_s_key, created_at
         FROM sessions WHERE dev_eui = ? AND session_key_id = ?`,
    ),
    insertPeer: db.prepare(
      `INSERT INTO peers (${PEER_COLUMNS.join(', ')}) VALUES (${PEER_COLUMNS.map(() => '?').join(', ')})`,
    ),
    updatePeerSettings: db.prepare('UPDATE peers SET settings = ? WHERE name = ?'),
    resetDevNonces: db.prepare(
      `UPDATE devices SET last_dev_nonce = NULL, used_dev_nonces = '[]', version = version + 1 WHERE dev_eui = ?`,
    ),
    insertAudit: db.prepare('INSERT INTO audit_events (at, actor, action, dev_eui, detail) VALUES (?, ?, ?, ?, ?)'),
    listAudit: db.prepare('SELECT at, actor, action, dev_eui, detail FROM audit_events ORDER BY id DESC LIMIT ?'),
    listAuditOfDevice: db.prepare('SELECT at, actor, action, dev_eui, detail FROM audit_events WHERE dev_eui = ? ORDER BY id DESC LIMIT ?'),
    getPeer: db.prepare('SELECT * FROM peers WHERE name = ?'),
    getPeerByFingerprint: db.prepare('SELECT * FROM peers WHERE cert_fingerprint = ?'),
    listPeers: db.prepare('SELECT * FROM peers ORDER BY name'),
    ping: db.prepare('SELECT 1 AS ok'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function toDevice(row: DeviceRow): Device {
  const used: unknown = JSON.parse(row.used_dev_nonces);
  if (!Array.isArray(used)) throw new Error(`device ${row.dev_eui}: used_dev_nonces is not a JSON array`);
  return deviceFromRow({
    ...row,
    used_dev_nonces: used as number[],
    last_join_at: row.last_join_at === null ? null : new Date(row.last_join_at),
    created_at: new Date(row.created_at),
  });
}

function toSession(row: SessionRow): SessionRecord {
  return sessionFromRow({ ...row, created_at: new Date(row.created_at) });
}

function toPeer(row: PeerRow): Peer {
  return peerFromRow({ ...row, created_at: new Date(row.created_at) });
}

/**
 * By its code, not `instanceof Database.SqliteError`: the native addon keeps the error class of
 * the first copy of better-sqlite3 loaded in the process, and a test runner that gives every
 * test file its own module registry (jest) loads several copies in one process.
 */
function isConstraint(err: unknown, code: string): boolean {
  return sqliteCode(err) === code;
}

function sqliteCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

interface AuditRow {
  at: number;
  actor: string;
  action: string;
  dev_eui: string | null;
  detail: string;
}

function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    at: new Date(row.at),
    actor: row.actor,
    action: row.action,
    devEUI: row.dev_eui === null ? null : parseEUI64(row.dev_eui, 'audit_events.dev_eui'),
    detail: JSON.parse(row.detail) as AuditEvent['detail'],
  };
}

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import { serializePeerSettings, type PeerSettings } from '../../peers/peer-settings';
import type { ApiKeyRecord } from '../../tenants/api-key';
import { TenantExistsError, type Tenant, type TenantID } from '../../tenants/tenant';
import { AUDIT_GENESIS } from '../audit-chain';
import type { AuditEvent, AuditQuery, AuditRecord } from '../audit-event';
import {
  apiKeyFromRow,
  AUDIT_COLUMNS,
  auditEventFromRow,
  auditRecordFromRow,
  auditRowValues,
  DEVICE_COLUMNS,
  deviceFromRow,
  FLEET_MIGRATION_COLUMNS,
  fleetMigrationFromRow,
  fleetMigrationRowValues,
  MIGRATION_ENTRY_COLUMNS,
  migrationEntryFromRow,
  newDeviceOwnershipValues,
  PEER_COLUMNS,
  peerFromRow,
  peerRowValues,
  euiPrefix,
  JOIN_RECORD_COLUMNS,
  joinRecordFromRow,
  type JoinRecordRowValues,
  RELEASED_STATES_SQL,
  sessionFromRow,
  tenantFromRow,
  type ApiKeyRowValues,
  type AuditRowValues,
  type TenantRowValues,
  peerChangeColumns,
} from '../row-mapping';
import { BOUND_PER_PEER_SQL, LAST_JOIN_PER_PEER_SQL, PEER_JOIN_RESULTS_SQL, UNBIND_FROM_PEER_SQL, joinResultsFrom, peerUsageFrom } from '../peer-usage';
import type { DeviceMigrationState } from '../../migration/device-migration-state';
import type { FleetMigration, MigrationStatus } from '../../migration/fleet-migration';
import type { MigrationArrival, MigrationEntry, MigrationEntryChange, RebindOutcome } from '../../migration/migration-entry';
import type { Activation, Device, DeviceChange, JoinCommit, NewDevice } from '../device';
import { ChangeWatch } from '../change-watch';
import { PeerCache } from '../peer-cache';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { JoinRecord } from '../join-record';
import type { SealedCanary } from '../sealed-canary';
import type { SessionRecord } from '../session';
import type { StoreSettingName } from '../store-setting';
import { DeviceExistsError, MigrationConflictError, PeerExistsError, type ActivationQuery, type DeviceFilter, type DeviceListQuery, type MigrationEntryQuery, type PeerChange, type PeerDeletion, type PeerUsage, type Rebinding, type Resealer, type SealedBlobOwner, type Store } from '../store';
import { SqliteCommitWorker } from './commit-worker';
import { SqliteHistoryWorker } from './history-worker';
import { migrate } from './migrations';
import { bucketKeys, settleBuckets, type BucketTake, type RateBucket } from '../rate-buckets';
import { RETAINED_COLUMNS, restoreNoncesSet, retainNoncesSQL } from '../retained-nonces';

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
  overlap_ns_peer: string | null;
  as_peer: string | null;
  last_dev_nonce: number | null;
  used_dev_nonces: string;
  last_join_nonce: number | null;
  last_rj_count1: number | null;
  last_rj_count0: number | null;
  rejoin_window_start: number | null;
  rejoin_window_count: number;
  version: number;
  last_join_at: number | null;
  last_join_peer: string | null;
  created_at: number;
  manufacturer_tenant: string;
  owner_tenant: string | null;
  owner_token_hash: string | null;
  profile_id: string;
  locked: number;
  claimed_at: number | null;
  activated_at: number | null;
  activated_tenant: string | null;
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
  tenant_id: string;
  created_at: number;
  state: string;
  certificates: string;
}

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
  readonly #insertDevicesTx: (devices: readonly NewDevice[], audit: AuditEvent | undefined) => void;
  readonly #addSessionTx: (session: SessionRecord, keep: number) => void;
  readonly #appendJoinRecordsTx: (records: readonly JoinRecord[], keep: number) => number;
  readonly #resetDevNoncesTx: (devEUI: EUI64, audit: AuditEvent) => boolean;
  /** Runs `write` and appends `audit` in one IMMEDIATE transaction; `write` false = nothing written. */
  readonly #auditedTx: (write: () => boolean, audit: AuditEvent | undefined) => boolean;
  readonly #insertMigrationTx: (m: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent) => void;
  readonly #setMigrationStatusTx: (id: string, status: MigrationStatus, audit: AuditEvent) => boolean;
  readonly #rebindTx: (r: Rebinding) => RebindOutcome;
  readonly #commitManyTx: (commits: readonly JoinCommit[]) => boolean[];
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;
  readonly #worker: SqliteCommitWorker | null;
  readonly #busyTimeoutMs: number;
  readonly #history: SqliteHistoryWorker | null;
  /** The change counters the triggers bump, read once per turn of the event loop. */
  readonly #changes = new ChangeWatch(async () => (this.#stmt.changeCounters.get() as { peers: number } | undefined)?.peers ?? 0);
  /** Peers as last read (the BI listener looks one up per request). */
  readonly #peers = new PeerCache(() => this.#changes.current());

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
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      if (file !== ':memory:') for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      chainUnhashedAuditRows(db);
      const groupCommit = options.groupCommit ?? {};
      const worker =
        file !== ':memory:' && groupCommit !== false && (options.commitWorker ?? true)
          ? new SqliteCommitWorker({ file: path.resolve(file), busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000)), commitSQL: COMMIT_JOIN_SQL, params: commitJoinParams })
          : null;
      // The join history's own thread and connection (`history-worker.ts`).
      const history = file !== ':memory:' ? new SqliteHistoryWorker({ file: path.resolve(file), busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000)), insertSQL: INSERT_JOIN_RECORD_SQL, pruneSQL: PRUNE_JOIN_RECORDS_SQL }) : null;
      return new SqliteStore(db, groupCommit, worker, history, Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000)));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(db: Database.Database, groupCommit: GroupCommitOptions | false, worker: SqliteCommitWorker | null, history: SqliteHistoryWorker | null, busyTimeoutMs: number) {
    this.#db = db;
    this.#history = history;
    this.#busyTimeoutMs = busyTimeoutMs;
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
    const insertDevices = db.transaction((devices: readonly NewDevice[], audit: AuditEvent | undefined) => {
      if (audit) this.#appendAudit(audit);
      insertDeviceRows(this.#stmt, devices, new Date());
    });
    this.#insertDevicesTx = (devices, audit) => insertDevices.immediate(devices, audit);

    const addSession = db.transaction((s: SessionRecord, keep: number) => {
      this.#stmt.insertSession.run(s.devEUI, s.sessionKeyID, s.joinNonce, s.nsPeer, s.asPeer, s.sealedAppSKey, s.createdAt.getTime());
      this.#stmt.pruneSessions.run(s.devEUI, s.devEUI, keep);
    });
    this.#addSessionTx = (session, keep) => addSession.immediate(session, keep);

    // An in-memory database (no second connection, no thread) writes its history here.
    const insertJoinRecord = db.prepare(INSERT_JOIN_RECORD_SQL);
    const pruneJoinRecords = db.prepare(PRUNE_JOIN_RECORDS_SQL);
    const appendJoinRecords = db.transaction((records: readonly JoinRecord[], keep: number) => {
      let stored = 0;
      for (const r of records) {
        stored += insertJoinRecord.run(r.devEUI, r.joinEUI, r.at.getTime(), r.peer, r.joinType, r.macVersion, r.result, r.description, r.devNonce, r.joinNonce, r.devEUI).changes;
      }
      for (const devEUI of new Set(records.map((r) => r.devEUI))) pruneJoinRecords.run(devEUI, devEUI, keep);
      return stored;
    });
    this.#appendJoinRecordsTx = (records, keep) => appendJoinRecords.immediate(records, keep);

    const resetDevNonces = db.transaction((devEUI: EUI64, audit: AuditEvent) => {
      if (this.#stmt.resetDevNonces.run(devEUI).changes === 0) return false;
      this.#appendAudit(audit);
      return true;
    });
    this.#resetDevNoncesTx = (devEUI, audit) => resetDevNonces.immediate(devEUI, audit);

    const audited = db.transaction((write: () => boolean, audit: AuditEvent | undefined) => {
      if (!write()) return false;
      if (audit) this.#appendAudit(audit);
      return true;
    });
    this.#auditedTx = (write, audit) => audited.immediate(write, audit);
    const audit = (a: AuditEvent): void => this.#appendAudit(a);
    const insertMigration = db.transaction((m: FleetMigration, devEUIs: readonly EUI64[], a: AuditEvent) => {
      const now = Date.now();
      for (const devEUI of devEUIs) {
        const busy = this.#stmt.activeMigrationOf.get(devEUI, m.id) as { migration_id: string } | undefined;
        if (busy) throw new MigrationConflictError(devEUI, busy.migration_id);
      }
      this.#stmt.insertMigration.run(...fleetMigrationRowValues(m).map(sqliteValue));
      for (const devEUI of devEUIs) this.#stmt.insertEntry.run(m.id, devEUI, now);
      audit(a);
    });
    this.#insertMigrationTx = (m, devEUIs, a) => insertMigration.immediate(m, devEUIs, a);

    const setStatus = db.transaction((id: string, status: MigrationStatus, a: AuditEvent) => {
      const finished = status === 'finished' || status === 'rolled-back' ? Date.now() : null;
      if (this.#stmt.setMigrationStatus.run(status, finished, id).changes === 0) return false;
      audit(a);
      return true;
    });
    this.#setMigrationStatusTx = (id, status, a) => setStatus.immediate(id, status, a);

    const rebind = db.transaction((r: Rebinding): RebindOutcome => {
      if (!this.#advance(r.migrationID, r.devEUI, r.from, r.change)) return 'already';
      const moved = r.bindingFrom.some(
        (b) => this.#stmt.rebindDevice.run(r.bindingTo.nsPeer, r.bindingTo.overlapNsPeer, r.devEUI, b.nsPeer, b.overlapNsPeer).changes === 1,
      );
      if (!moved) throw new BindingChanged();
      audit(r.audit);
      return 'rebound';
    });
    this.#rebindTx = (r) => {
      try {
        return rebind.immediate(r);
      } catch (err) {
        if (err instanceof BindingChanged) return 'binding-changed';
        throw err;
      }
    };
  }

  #advance(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, c: MigrationEntryChange): boolean {
    return (
      this.#stmt.advanceEntry.run({
        state: c.state,
        attempts: c.attempts ?? null,
        setFailedStep: c.failedStep === undefined ? 0 : 1,
        failedStep: c.failedStep ?? null,
        setLastError: c.lastError === undefined ? 0 : 1,
        lastError: c.lastError ?? null,
        reboundAt: c.reboundAt?.getTime() ?? null,
        joinedAt: c.joinedAt?.getTime() ?? null,
        now: Date.now(),
        migrationID,
        devEUI,
        from,
      }).changes === 1
    );
  }

  async insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void> {
    this.#insertMigrationTx(migration, [...new Set(devEUIs)], audit);
  }

  async getFleetMigration(id: string): Promise<FleetMigration | null> {
    const row = this.#stmt.getMigration.get(id) as FleetMigrationRow | undefined;
    return row ? toFleetMigration(row) : null;
  }

  async listFleetMigrations(limit: number): Promise<FleetMigration[]> {
    return (this.#stmt.listMigrations.all(limit) as FleetMigrationRow[]).map(toFleetMigration);
  }

  async setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean> {
    return this.#setMigrationStatusTx(id, status, audit);
  }

  async listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]> {
    const states = query.states ?? null;
    if (states !== null && states.length === 0) return [];
    const rows = this.#db
      .prepare(
        `SELECT ${MIGRATION_ENTRY_COLUMNS} FROM fleet_migration_devices
          WHERE migration_id = ? AND dev_eui > ? ${states ? `AND state IN (${states.map(() => '?').join(', ')})` : ''}
          ORDER BY dev_eui LIMIT ?`,
      )
      .all(migrationID, query.afterDevEUI ?? '', ...(states ?? []), query.limit) as MigrationEntryRow[];
    return rows.map(toMigrationEntry);
  }

  async countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>> {
    const rows = this.#stmt.countEntries.all(migrationID) as Array<{ state: DeviceMigrationState; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean> {
    return this.#advance(migrationID, devEUI, from, change);
  }

  async rebindMigratingDevice(rebinding: Rebinding): Promise<RebindOutcome> {
    return this.#rebindTx(rebinding);
  }

  async listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]> {
    const rows = this.#stmt.arrivals.all(migrationID, targetPeer, limit) as Array<{ dev_eui: string; last_join_at: number }>;
    return rows.map((r) => ({ devEUI: parseEUI64(r.dev_eui, 'devices.dev_eui'), joinedAt: new Date(r.last_join_at) }));
  }

  /** Inside a write transaction: the next entry, chained to the last one. */
  #appendAudit(event: AuditEvent, stmt: Statements = this.#stmt): void {
    const last = stmt.lastAudit.get() as { id: number; hash: string | null } | undefined;
    const values = auditRowValues((last?.id ?? 0) + 1, event, last?.hash ?? AUDIT_GENESIS);
    stmt.insertAudit.run(...values.map(toSqlite));
  }

  async insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    const source = chunks[Symbol.asyncIterator]();
    if (this.#db.memory) {
      // A private in-memory database has no second connection: the chunks are gathered.
      const all: NewDevice[] = [];
      for (let next = await source.next(); !next.done; next = await source.next()) all.push(...next.value);
      await this.insertDevices(all, all.length > 0 ? audit?.(all.length) : undefined);
      return all.length;
    }
    // A connection of its own for the transaction, which spans the awaits between chunks: the
    // store's other work on the main connection never lands inside it (or in its rollback).
    const db = new Database(this.#db.name, { fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const stmt = prepareStatements(db);
      const now = new Date();
      let inserted = 0;
      db.exec('BEGIN IMMEDIATE');
      try {
        for (let next = await source.next(); !next.done; next = await source.next()) {
          insertDeviceRows(stmt, next.value, now);
          inserted += next.value.length;
        }
        if (audit && inserted > 0) this.#appendAudit(audit(inserted), stmt);
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
      return inserted;
    } finally {
      db.close();
    }
  }

  async insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    const seen = new Set<string>();
    for (const d of devices) {
      if (seen.has(d.devEUI)) throw new DeviceExistsError(d.devEUI);
      seen.add(d.devEUI);
    }
    if (devices.length > 0) this.#insertDevicesTx(devices, audit);
  }

  async getDevice(devEUI: EUI64): Promise<Device | null> {
    const values = this.#stmt.getDevice.get(devEUI) as unknown[] | undefined;
    return values ? toDevice(deviceRowOf(values)) : null;
  }

  async existingDevEUIs(devEUIs: readonly EUI64[]): Promise<Set<EUI64>> {
    const found = new Set<EUI64>();
    // SQLite binds at most 32,766 parameters a statement: a few hundred at a time.
    for (let start = 0; start < devEUIs.length; start += 500) {
      const some = devEUIs.slice(start, start + 500);
      const rows = this.#db.prepare(`SELECT dev_eui FROM devices WHERE dev_eui IN (${some.map(() => '?').join(',')})`).all(...some) as Array<{ dev_eui: string }>;
      for (const r of rows) found.add(r.dev_eui as EUI64);
    }
    return found;
  }

  async listDevices(query: DeviceListQuery): Promise<Device[]> {
    const where = deviceWhere(query);
    const rows = this.#db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices ${where.sql} ORDER BY dev_eui LIMIT ? OFFSET ?`).all(...where.values, query.limit, query.offset) as DeviceRow[];
    return rows.map(toDevice);
  }

  async countDevices(filter: DeviceFilter = {}): Promise<number> {
    const where = deviceWhere(filter);
    return (this.#db.prepare(`SELECT COUNT(*) AS n FROM devices ${where.sql}`).get(...where.values) as { n: number }).n;
  }

  async changeDevice(c: DeviceChange, audit: AuditEvent): Promise<boolean> {
    return this.#auditedTx(
      () =>
        this.#stmt.changeDevice.run(c.owner, c.ownerTokenHash, c.nsPeer, c.asPeer, c.locked ? 1 : 0, c.claimedAt?.getTime() ?? null, c.devEUI, c.expectedVersion).changes === 1,
      audit,
    );
  }

  async deleteDevice(devEUI: EUI64, audit: AuditEvent): Promise<boolean> {
    return this.#auditedTx(() => {
      this.#stmt.retainNonces.run(devEUI);
      return this.#stmt.deleteDevice.run(devEUI).changes === 1;
    }, audit);
  }

  async listActivations(query: ActivationQuery): Promise<Activation[]> {
    const values: unknown[] = [query.since.getTime(), query.until?.getTime() ?? Number.MAX_SAFE_INTEGER];
    let sql = 'SELECT dev_eui, join_eui, activated_tenant, activated_at FROM devices WHERE activated_at >= ? AND activated_at < ?';
    if (query.tenantID !== undefined) {
      sql += ' AND activated_tenant = ?';
      values.push(query.tenantID);
    }
    const rows = this.#db.prepare(`${sql} ORDER BY activated_at, dev_eui`).all(...values) as Array<{ dev_eui: string; join_eui: string; activated_tenant: string; activated_at: number }>;
    return rows.map((r) => ({ devEUI: parseEUI64(r.dev_eui), joinEUI: parseEUI64(r.join_eui), tenantID: r.activated_tenant as TenantID, activatedAt: new Date(r.activated_at) }));
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
    return this.#stmt.commitJoin.run(...commitJoinParams(commit)).changes === 1;
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

  async appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number> {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`appendJoinRecords: keep must be a positive integer, got ${keep}`);
    if (records.length === 0) return 0;
    return this.#history ? this.#history.append(records, keep) : this.#appendJoinRecordsTx(records, keep);
  }

  async listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    return (this.#stmt.listJoinRecords.all(devEUI, limit) as JoinRecordRow[]).map((r) => joinRecordFromRow({ ...r, at: new Date(r.at) }));
  }

  async getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    const row = this.#stmt.getSession.get(devEUI, sessionKeyID) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async insertPeer(peer: Peer, audit?: AuditEvent): Promise<void> {
    try {
      this.#auditedTx(() => {
        if (this.#stmt.insertPeer.run(...peerRowValues(peer).map(toSqlite)).changes !== 1) return false;
        for (const c of peer.certificates) this.#stmt.insertPeerFingerprint.run(c.fingerprint, peer.name);
        return true;
      }, audit);
    } catch (err) {
      if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY') || isConstraint(err, 'SQLITE_CONSTRAINT_UNIQUE')) {
        throw new PeerExistsError(peer.name);
      }
      throw err;
    } finally {
      this.#peers.clear();
    }
  }

  getPeer(name: string): Promise<Peer | null> {
    return this.#peers.byName(name, async () => {
      const row = this.#stmt.getPeer.get(name) as PeerRow | undefined;
      return row ? toPeer(row) : null;
    });
  }

  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    return this.#peers.byFingerprint(certFingerprint, async () => {
      const row = this.#stmt.getPeerByFingerprint.get(certFingerprint) as PeerRow | undefined;
      return row ? toPeer(row) : null;
    });
  }

  async updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean> {
    const columns = peerChangeColumns(change);
    try {
      return this.#auditedTx(() => {
        const updated = this.#db.prepare(`UPDATE peers SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE name = ?`).run(...columns.map(([, v]) => v), name).changes === 1;
        if (updated) for (const c of change.certificates ?? []) this.#stmt.insertPeerFingerprintIfAbsent.run(c.fingerprint, name);
        return updated;
      }, audit);
    } finally {
      this.#peers.clear();
    }
  }

  async deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion> {
    let outcome: PeerDeletion = { kind: 'not-found' };
    try {
      this.#auditedTx(() => {
        if (this.#stmt.getPeer.get(name) === undefined) return false;
        const bound = (this.#stmt.countBoundToPeer.get(name, name, name) as { n: number }).n;
        if (bound > 0 && !unbindDevices) {
          outcome = { kind: 'bound', devices: bound };
          return false;
        }
        for (const unbind of this.#stmt.unbindFromPeer) unbind.run(name);
        this.#stmt.deletePeerFingerprints.run(name);
        this.#stmt.deletePeer.run(name);
        outcome = { kind: 'deleted', unbound: bound };
        return true;
      }, audit);
      return outcome;
    } finally {
      this.#peers.clear();
    }
  }

  async peerJoinResults(name: string, since: Date): Promise<Record<string, number>> {
    return joinResultsFrom(this.#stmt.peerJoinResults.all(name, since.getTime()) as Array<{ result: string; n: number }>);
  }

  async peerUsage(): Promise<Map<string, PeerUsage>> {
    return peerUsageFrom(this.#stmt.boundPerPeer.all() as Array<{ peer: string; n: number }>, (this.#stmt.lastJoinPerPeer.all() as Array<{ peer: string; at: number }>).map((r) => ({ peer: r.peer, at: new Date(r.at) })));
  }

  async updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    try {
      return this.#stmt.updatePeerSettings.run(serializePeerSettings(settings), name).changes > 0;
    } finally {
      this.#peers.clear();
    }
  }

  async resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null> {
    return this.#resetDevNoncesTx(devEUI, audit) ? this.getDevice(devEUI) : null;
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (query.devEUI !== undefined) {
      conditions.push('dev_eui = ?');
      values.push(query.devEUI);
    }
    if (query.tenantID !== undefined) {
      conditions.push('tenant_id = ?');
      values.push(query.tenantID);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = this.#db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events ${where} ORDER BY id DESC LIMIT ?`).all(...values, query.limit) as AuditRow[];
    return rows.map((r) => auditEventFromRow(fromAuditRow(r)));
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#auditedTx(() => true, event);
  }

  async readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]> {
    return (this.#stmt.auditChain.all(afterID, limit) as AuditRow[]).map((r) => auditRecordFromRow(fromAuditRow(r)));
  }

  async listPeers(tenantID?: TenantID): Promise<Peer[]> {
    return ((tenantID === undefined ? this.#stmt.listPeers.all() : this.#stmt.listPeersOfTenant.all(tenantID)) as PeerRow[]).map(toPeer);
  }

  async insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void> {
    try {
      this.#auditedTx(() => this.#stmt.insertTenant.run(tenant.id, tenant.name, JSON.stringify(tenant.roles), tenant.createdAt.getTime()).changes === 1, audit);
    } catch (err) {
      if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new TenantExistsError(tenant.id);
      throw err;
    }
  }

  async getTenant(id: TenantID): Promise<Tenant | null> {
    const row = this.#stmt.getTenant.get(id) as TenantRow | undefined;
    return row ? tenantFromRow({ ...row, created_at: new Date(row.created_at) }) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    return (this.#stmt.listTenants.all() as TenantRow[]).map((row) => tenantFromRow({ ...row, created_at: new Date(row.created_at) }));
  }

  async insertApiKey(k: ApiKeyRecord, audit: AuditEvent): Promise<void> {
    this.#auditedTx(
      () => this.#stmt.insertApiKey.run(k.id, k.tenantID, JSON.stringify(k.scopes), k.label, k.secretHash, k.createdAt.getTime(), k.revokedAt?.getTime() ?? null).changes === 1,
      audit,
    );
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const row = this.#stmt.getApiKey.get(id) as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]> {
    return (this.#stmt.listApiKeys.all(tenantID) as ApiKeyRow[]).map(toApiKey);
  }

  async revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    return this.#auditedTx(() => this.#stmt.revokeApiKey.run(at.getTime(), id).changes === 1, audit);
  }

  async resealAll(reseal: Resealer): Promise<number> {
    try {
      return await this.#resealAll(reseal);
    } finally {
      this.#peers.clear();
    }
  }

  async #resealAll(reseal: Resealer): Promise<number> {
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

  async takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    return this.#settleRateBuckets('take', buckets, nowMs);
  }

  async refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void> {
    this.#settleRateBuckets('refund', buckets, nowMs);
  }

  /** Reads the buckets' rows, writes what the take or refund makes of them and prunes full rows, in one IMMEDIATE transaction. */
  #settleRateBuckets(op: 'take' | 'refund', buckets: readonly RateBucket[], nowMs: number): BucketTake {
    const run = this.#db.transaction(() => {
      const rows = this.#stmt.readRateBuckets.all(JSON.stringify(bucketKeys(buckets))) as Array<{ key: string; tokens: number; at_ms: number }>;
      const { write, result } = settleBuckets(op, buckets, new Map(rows.map((r) => [r.key, { tokens: r.tokens, atMs: r.at_ms }])), nowMs);
      for (const r of write) this.#stmt.writeRateBucket.run(r.key, r.tokens, r.atMs, r.fullAtMs);
      this.#stmt.pruneRateBuckets.run(nowMs);
      return result;
    });
    return run.immediate();
  }

  async getSetting(name: StoreSettingName): Promise<string | null> {
    const row = this.#stmt.getSetting.get(name) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async putSetting(name: StoreSettingName, value: string): Promise<void> {
    this.#stmt.putSetting.run(name, value);
  }

  async putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string> {
    this.#stmt.putSettingIfAbsent.run(name, value);
    return (this.#stmt.getSetting.get(name) as { value: string }).value;
  }

  async sealedCanary(vaultKind: string): Promise<SealedCanary | null> {
    const device = this.#stmt.deviceCanary.get(vaultKind) as { dev_eui: string; sealed_root_keys: Buffer } | undefined;
    if (device) return { kind: 'device', devEUI: parseEUI64(device.dev_eui, 'devices.dev_eui'), sealed: device.sealed_root_keys };
    const peer = this.#stmt.peerCanary.get() as { name: string; sealed_kek: Buffer } | undefined;
    return peer ? { kind: 'peer', name: peer.name, sealed: peer.sealed_kek } : null;
  }

  async ping(): Promise<void> {
    this.#stmt.ping.get();
  }

  /** Lets queued commits finish, then closes the connection (idempotent). */
  async close(): Promise<void> {
    await this.#committer?.drain();
    await this.#worker?.close();
    await this.#history?.close();
    if (this.#db.open) this.#db.close();
  }
}

const INSERT_JOIN_RECORD_SQL = `INSERT INTO device_joins (${JOIN_RECORD_COLUMNS})
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE dev_eui = ?)`;
const PRUNE_JOIN_RECORDS_SQL = `DELETE FROM device_joins
  WHERE dev_eui = ? AND id <= (SELECT id FROM device_joins WHERE dev_eui = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`;

/** A join's conditional nonce update (run here, or by the commit worker). */
const COMMIT_JOIN_SQL = `UPDATE devices
    SET last_dev_nonce = ?, used_dev_nonces = ?, last_join_nonce = ?, last_rj_count1 = ?,
        last_rj_count0 = ?, rejoin_window_start = ?, rejoin_window_count = ?,
        last_join_at = ?, last_join_peer = ?, version = version + 1,
        activated_at = COALESCE(activated_at, ?), activated_tenant = COALESCE(activated_tenant, owner_tenant)
  WHERE dev_eui = ? AND version = ?`;

/** COMMIT_JOIN_SQL's parameters for one commit (plain values: they also cross to the commit worker). */
function commitJoinParams(commit: JoinCommit): Array<string | number | null> {
  const n = commit.nonces;
  const at = commit.joinedAt.getTime();
  const w = n.rejoinWindow;
  return [
    n.lastDevNonce, JSON.stringify(n.usedDevNonces), n.lastJoinNonce, n.lastRJCount1,
    n.lastRJCount0, w === null ? null : w.start.getTime(), w === null ? 0 : w.count,
    at, commit.peer, at, commit.devEUI, commit.expectedVersion,
  ];
}

/** Blobs read per page by resealAll. */
const RESEAL_BATCH = 500;

/** Every statement the store runs, prepared once per connection. */
/** Rows per multi-row INSERT: one call into SQLite for this many devices (13 values each, under SQLite's 32,766 variables). */
const INSERT_ROWS = 64;

const INSERT_DEVICE_SQL = `INSERT INTO devices (dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, as_peer, created_at,
                            manufacturer_tenant, owner_tenant, owner_token_hash, profile_id, claimed_at)
       VALUES `;
const DEVICE_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * The devices' INSERTs, inside the caller's transaction, INSERT_ROWS rows per statement; an
 * existing DevEUI throws DeviceExistsError. A multi-row statement that meets one is undone
 * alone (SQLite's statement rollback), and its rows are inserted one by one to name it.
 */
function insertDeviceRows(stmt: Statements, devices: readonly NewDevice[], now: Date): void {
  const at = now.getTime();
  let start = 0;
  for (; start + INSERT_ROWS <= devices.length; start += INSERT_ROWS) {
    const values: unknown[] = [];
    for (let i = start; i < start + INSERT_ROWS; i++) pushDeviceValues(values, devices[i]!, now, at);
    try {
      stmt.insertDevices.run(values);
    } catch (err) {
      if (!isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw err;
      insertDeviceRowsOneByOne(stmt, devices.slice(start, start + INSERT_ROWS), now, at);
    }
  }
  insertDeviceRowsOneByOne(stmt, devices.slice(start), now, at);
  // The nonce state of the deleted devices among them, by DevEUI and JoinEUI: one statement each way.
  const devEUIs = JSON.stringify(devices.map((d) => d.devEUI));
  if (stmt.restoreNonces.run(devEUIs).changes > 0) stmt.dropRestoredNonces.run(devEUIs);
}

function insertDeviceRowsOneByOne(stmt: Statements, devices: readonly NewDevice[], now: Date, at: number): void {
  for (const d of devices) {
    const values: unknown[] = [];
    pushDeviceValues(values, d, now, at);
    try {
      stmt.insertDevice.run(values);
    } catch (err) {
      if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new DeviceExistsError(d.devEUI);
      throw err;
    }
  }
}

function pushDeviceValues(values: unknown[], d: NewDevice, now: Date, at: number): void {
  const o = newDeviceOwnershipValues(d, now);
  values.push(d.devEUI, d.joinEUI, d.macVersion, d.sealedRootKeys, d.vaultKind, d.nsPeer, d.asPeer, at, o.manufacturer, o.owner, o.tokenHash, o.profileID, o.claimedAt === null ? null : at);
}

function prepareStatements(db: Database.Database) {
  return {
    insertDevice: db.prepare(INSERT_DEVICE_SQL + DEVICE_VALUES),
    insertDevices: db.prepare(INSERT_DEVICE_SQL + Array.from({ length: INSERT_ROWS }, () => DEVICE_VALUES).join(', ')),
    // Values, not an object (see deviceRowOf): every join reads its device.
    getDevice: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = ?`).raw(true),
    // The first accepted join is the activation (usage metering), charged to the owner then.
    commitJoin: db.prepare(COMMIT_JOIN_SQL),
    changeDevice: db.prepare(
      `UPDATE devices SET owner_tenant = ?, owner_token_hash = ?, ns_peer = ?, as_peer = ?, locked = ?, claimed_at = ?, version = version + 1
        WHERE dev_eui = ? AND version = ?`,
    ),
    deleteDevice: db.prepare('DELETE FROM devices WHERE dev_eui = ?'),
    retainNonces: db.prepare(retainNoncesSQL(`SELECT ${RETAINED_COLUMNS} FROM devices WHERE dev_eui = ?`)),
    // The devices just inserted (a JSON array of DevEUIs) take the nonce state left by their DevEUI and JoinEUI.
    restoreNonces: db.prepare(
      `UPDATE devices SET ${restoreNoncesSet('r')} FROM retained_nonces AS r
        WHERE r.dev_eui IN (SELECT value FROM json_each(?)) AND devices.dev_eui = r.dev_eui AND devices.join_eui = r.join_eui`,
    ),
    dropRestoredNonces: db.prepare(
      `DELETE FROM retained_nonces
        WHERE dev_eui IN (SELECT value FROM json_each(?))
          AND EXISTS (SELECT 1 FROM devices AS d WHERE d.dev_eui = retained_nonces.dev_eui AND d.join_eui = retained_nonces.join_eui)`,
    ),
    insertSession: db.prepare(
      `INSERT INTO sessions (dev_eui, session_key_id, join_nonce, ns_peer, as_peer, sealed_app_s_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pruneSessions: db.prepare(
      `DELETE FROM sessions
        WHERE dev_eui = ?
          AND rowid NOT IN (SELECT rowid FROM sessions WHERE dev_eui = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    ),
    listJoinRecords: db.prepare(`SELECT ${JOIN_RECORD_COLUMNS} FROM device_joins WHERE dev_eui = ? ORDER BY id DESC LIMIT ?`),
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
    insertAudit: db.prepare(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    lastAudit: db.prepare('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1'),
    auditChain: db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`),
    getPeer: db.prepare('SELECT * FROM peers WHERE name = ?'),
    getPeerByFingerprint: db.prepare('SELECT p.* FROM peer_fingerprints f JOIN peers p ON p.name = f.peer_name WHERE f.fingerprint = ?'),
    insertPeerFingerprint: db.prepare('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES (?, ?)'),
    insertPeerFingerprintIfAbsent: db.prepare('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES (?, ?) ON CONFLICT (fingerprint) DO NOTHING'),
    deletePeerFingerprints: db.prepare('DELETE FROM peer_fingerprints WHERE peer_name = ?'),
    deletePeer: db.prepare('DELETE FROM peers WHERE name = ?'),
    countBoundToPeer: db.prepare('SELECT COUNT(*) AS n FROM devices WHERE ns_peer = ? OR overlap_ns_peer = ? OR as_peer = ?'),
    unbindFromPeer: UNBIND_FROM_PEER_SQL.map((sql) => db.prepare(sql.replaceAll('$1', '?'))),
    boundPerPeer: db.prepare(BOUND_PER_PEER_SQL),
    lastJoinPerPeer: db.prepare(LAST_JOIN_PER_PEER_SQL),
    peerJoinResults: db.prepare(PEER_JOIN_RESULTS_SQL.replace('$1', '?').replace('$2', '?')),
    changeCounters: db.prepare('SELECT peers FROM change_counters WHERE id = 1'),
    listPeers: db.prepare('SELECT * FROM peers ORDER BY name'),
    listPeersOfTenant: db.prepare('SELECT * FROM peers WHERE tenant_id = ? ORDER BY name'),
    insertTenant: db.prepare('INSERT INTO tenants (id, name, roles, created_at) VALUES (?, ?, ?, ?)'),
    getTenant: db.prepare('SELECT * FROM tenants WHERE id = ?'),
    listTenants: db.prepare('SELECT * FROM tenants ORDER BY id'),
    insertApiKey: db.prepare('INSERT INTO api_keys (id, tenant_id, scopes, label, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    getApiKey: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    listApiKeys: db.prepare('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id'),
    revokeApiKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    ping: db.prepare('SELECT 1 AS ok'),
    readRateBuckets: db.prepare('SELECT key, tokens, at_ms FROM rate_buckets WHERE key IN (SELECT value FROM json_each(?))'),
    writeRateBucket: db.prepare(
      `INSERT INTO rate_buckets (key, tokens, at_ms, full_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms, full_at_ms = excluded.full_at_ms`,
    ),
    pruneRateBuckets: db.prepare('DELETE FROM rate_buckets WHERE full_at_ms <= ?'),
    getSetting: db.prepare('SELECT value FROM store_settings WHERE name = ?'),
    putSetting: db.prepare('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    putSettingIfAbsent: db.prepare('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    deviceCanary: db.prepare('SELECT dev_eui, sealed_root_keys FROM devices WHERE vault_kind = ? LIMIT 1'),
    peerCanary: db.prepare('SELECT name, sealed_kek FROM peers LIMIT 1'),
    activeMigrationOf: db.prepare(
      `SELECT migration_id FROM fleet_migration_devices WHERE dev_eui = ? AND migration_id <> ? AND state NOT IN ${RELEASED_STATES_SQL} LIMIT 1`,
    ),
    insertMigration: db.prepare(
      `INSERT INTO fleet_migrations (${FLEET_MIGRATION_COLUMNS.join(', ')}) VALUES (${FLEET_MIGRATION_COLUMNS.map(() => '?').join(', ')})`,
    ),
    insertEntry: db.prepare(`INSERT INTO fleet_migration_devices (migration_id, dev_eui, state, attempts, updated_at) VALUES (?, ?, 'planned', 0, ?)`),
    getMigration: db.prepare(`SELECT ${FLEET_MIGRATION_COLUMNS.join(', ')} FROM fleet_migrations WHERE id = ?`),
    listMigrations: db.prepare(`SELECT ${FLEET_MIGRATION_COLUMNS.join(', ')} FROM fleet_migrations ORDER BY created_at DESC, id DESC LIMIT ?`),
    setMigrationStatus: db.prepare('UPDATE fleet_migrations SET status = ?, finished_at = ? WHERE id = ?'),
    countEntries: db.prepare('SELECT state, COUNT(*) AS n FROM fleet_migration_devices WHERE migration_id = ? GROUP BY state'),
    advanceEntry: db.prepare(
      `UPDATE fleet_migration_devices
          SET state = @state, attempts = COALESCE(@attempts, attempts),
              failed_step = CASE WHEN @setFailedStep = 1 THEN @failedStep ELSE failed_step END,
              last_error = CASE WHEN @setLastError = 1 THEN @lastError ELSE last_error END,
              rebound_at = COALESCE(@reboundAt, rebound_at), joined_at = COALESCE(@joinedAt, joined_at), updated_at = @now
        WHERE migration_id = @migrationID AND dev_eui = @devEUI AND state = @from`,
    ),
    rebindDevice: db.prepare(
      'UPDATE devices SET ns_peer = ?, overlap_ns_peer = ?, version = version + 1 WHERE dev_eui = ? AND ns_peer = ? AND overlap_ns_peer IS ?',
    ),
    arrivals: db.prepare(
      `SELECT e.dev_eui, d.last_join_at FROM fleet_migration_devices e JOIN devices d ON d.dev_eui = e.dev_eui
        WHERE e.migration_id = ? AND e.state = 'rebound' AND d.last_join_peer = ? AND d.last_join_at >= e.rebound_at
        ORDER BY e.dev_eui LIMIT ?`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Where each of DEVICE_COLUMNS is in a row read as values. */
const DEVICE_COLUMN: Readonly<Record<keyof DeviceRow, number>> = Object.fromEntries(DEVICE_COLUMNS.split(',').map((c, i) => [c.trim(), i])) as Record<keyof DeviceRow, number>;

/**
 * A device row read as values (`raw(true)`, in DEVICE_COLUMNS order): better-sqlite3 building
 * the row object itself, 24 named properties set one by one from C++, cost a read about 10 µs
 * more (measured, 18 against 28 µs, one point lookup of a 10,000-device registry).
 */
function deviceRowOf(v: readonly unknown[]): DeviceRow {
  const c = DEVICE_COLUMN;
  return {
    dev_eui: v[c.dev_eui] as string,
    join_eui: v[c.join_eui] as string,
    mac_version: v[c.mac_version] as string,
    sealed_root_keys: v[c.sealed_root_keys] as Buffer,
    vault_kind: v[c.vault_kind] as string,
    ns_peer: v[c.ns_peer] as string | null,
    overlap_ns_peer: v[c.overlap_ns_peer] as string | null,
    as_peer: v[c.as_peer] as string | null,
    last_dev_nonce: v[c.last_dev_nonce] as number | null,
    used_dev_nonces: v[c.used_dev_nonces] as string,
    last_join_nonce: v[c.last_join_nonce] as number | null,
    last_rj_count1: v[c.last_rj_count1] as number | null,
    last_rj_count0: v[c.last_rj_count0] as number | null,
    rejoin_window_start: v[c.rejoin_window_start] as number | null,
    rejoin_window_count: v[c.rejoin_window_count] as number,
    version: v[c.version] as number,
    last_join_at: v[c.last_join_at] as number | null,
    last_join_peer: v[c.last_join_peer] as string | null,
    created_at: v[c.created_at] as number,
    manufacturer_tenant: v[c.manufacturer_tenant] as string,
    owner_tenant: v[c.owner_tenant] as string | null,
    owner_token_hash: v[c.owner_token_hash] as string | null,
    profile_id: v[c.profile_id] as string,
    locked: v[c.locked] as number,
    claimed_at: v[c.claimed_at] as number | null,
    activated_at: v[c.activated_at] as number | null,
    activated_tenant: v[c.activated_tenant] as string | null,
  };
}

function toDevice(row: DeviceRow): Device {
  const used: unknown = JSON.parse(row.used_dev_nonces);
  if (!Array.isArray(used)) throw new Error(`device ${row.dev_eui}: used_dev_nonces is not a JSON array`);
  return deviceFromRow({
    ...row,
    used_dev_nonces: used as number[],
    last_join_at: row.last_join_at === null ? null : new Date(row.last_join_at),
    rejoin_window_start: row.rejoin_window_start === null ? null : new Date(row.rejoin_window_start),
    created_at: new Date(row.created_at),
    locked: row.locked !== 0,
    claimed_at: row.claimed_at === null ? null : new Date(row.claimed_at),
    activated_at: row.activated_at === null ? null : new Date(row.activated_at),
  });
}

/** The WHERE clause of a device filter, with its values. */
function deviceWhere(filter: DeviceFilter): { sql: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (filter.nsPeer !== undefined) {
    conditions.push('ns_peer = ?');
    values.push(filter.nsPeer);
  }
  if (filter.holder !== undefined) {
    conditions.push('(owner_tenant = ? OR (owner_tenant IS NULL AND manufacturer_tenant = ?))');
    values.push(filter.holder, filter.holder);
  }
  if (filter.claimed !== undefined) conditions.push(filter.claimed ? 'owner_tenant IS NOT NULL' : 'owner_tenant IS NULL');
  if (filter.bound !== undefined) conditions.push(filter.bound ? 'ns_peer IS NOT NULL' : 'ns_peer IS NULL');
  if (filter.macVersion !== undefined) {
    conditions.push('mac_version = ?');
    values.push(filter.macVersion);
  }
  if (filter.owner !== undefined) {
    conditions.push('owner_tenant = ?');
    values.push(filter.owner);
  }
  if (filter.euiPrefix !== undefined) {
    // A range on the primary key and on devices_by_join_eui: 'g' sorts after every hex digit.
    const p = euiPrefix(filter.euiPrefix);
    conditions.push('((dev_eui >= ? AND dev_eui < ?) OR (join_eui >= ? AND join_eui < ?))');
    values.push(p, `${p}g`, p, `${p}g`);
  }
  if (filter.joinNonceAbove !== undefined) {
    conditions.push('last_join_nonce > ?');
    values.push(filter.joinNonceAbove);
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, values };
}

/** Dates as epoch milliseconds, booleans as 0/1: what a STRICT table takes. */
function toSqlite(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/**
 * Entries written before the chain existed (schema 3) get their hashes, in order, chained to
 * the entry before them: once, when the store is opened after the upgrade.
 */
function chainUnhashedAuditRows(db: Database.Database): void {
  db.transaction(() => {
    const rows = db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY id`).all() as AuditRow[];
    if (rows.length === 0) return;
    const update = db.prepare('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?');
    for (const r of rows) {
      const before = db.prepare('SELECT hash FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT 1').get(r.id) as { hash: string | null } | undefined;
      const values = auditRowValues(r.id, auditEventFromRow(fromAuditRow(r)), before?.hash ?? AUDIT_GENESIS);
      update.run(values[8], values[9], r.id);
    }
  }).immediate();
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

type AuditRow = Omit<AuditRowValues, 'at'> & { at: number };
type JoinRecordRow = Omit<JoinRecordRowValues, 'at'> & { at: number };
type TenantRow = Omit<TenantRowValues, 'created_at'> & { created_at: number };
type ApiKeyRow = Omit<ApiKeyRowValues, 'created_at' | 'revoked_at'> & { created_at: number; revoked_at: number | null };

function fromAuditRow(row: AuditRow): AuditRowValues {
  return { ...row, at: new Date(row.at) };
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return apiKeyFromRow({ ...row, created_at: new Date(row.created_at), revoked_at: row.revoked_at === null ? null : new Date(row.revoked_at) });
}

/** Thrown inside a rebinding transaction to roll it back when the device's binding moved. */
class BindingChanged extends Error {}

function sqliteValue(v: unknown): unknown {
  return v instanceof Date ? v.getTime() : v;
}

interface FleetMigrationRow {
  id: string;
  source_peer: string;
  target_peer: string;
  strategy: string;
  plan: string;
  status: string;
  deadline: number | null;
  created_at: number;
  created_by: string;
  finished_at: number | null;
}

function toFleetMigration(row: FleetMigrationRow): FleetMigration {
  const date = (v: number | null): Date | null => (v === null ? null : new Date(v));
  return fleetMigrationFromRow({ ...row, deadline: date(row.deadline), created_at: new Date(row.created_at), finished_at: date(row.finished_at) });
}

interface MigrationEntryRow {
  migration_id: string;
  dev_eui: string;
  state: string;
  attempts: number;
  failed_step: string | null;
  last_error: string | null;
  rebound_at: number | null;
  joined_at: number | null;
  updated_at: number;
}

function toMigrationEntry(row: MigrationEntryRow): MigrationEntry {
  const date = (v: number | null): Date | null => (v === null ? null : new Date(v));
  return migrationEntryFromRow({ ...row, rebound_at: date(row.rebound_at), joined_at: date(row.joined_at), updated_at: new Date(row.updated_at) });
}

/** Creates the database file if missing, and makes it readable and writable by its owner alone. */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

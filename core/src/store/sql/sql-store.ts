import type { EUI64 } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import type { PeerSettings } from '../../peers/peer-settings';
import type { ApiKeyRecord } from '../../tenants/api-key';
import type { Tenant, TenantID } from '../../tenants/tenant';
import type { AuditEvent, AuditQuery, AuditRecord } from '../audit-event';
import { ChangeWatch } from '../change-watch';
import type { Device, DeviceChange, FirstJoin, JoinCommit, NewDevice } from '../device';
import type { DeviceMigrationState, FleetMigration, MigrationArrival, MigrationEntry, MigrationEntryChange, MigrationEntryQuery, MigrationStatus, RebindOutcome, Rebinding } from '../fleet-migration-journal';
import type { JoinRecord } from '../join-record';
import { CachedJoinState } from '../join-device-cache';
import { CachedPeerRegistry } from '../peer-cache';
import type { DeviceFilter, DeviceListQuery, FirstJoinQuery } from '../ports/device-registry';
import type { JoinHistory } from '../ports/join-history';
import type { JoinRateBucket, JoinRateQuery } from '../join-rate';
import type { JoinState } from '../ports/join-state';
import type { PeerChange, PeerDeletion, PeerUsage } from '../ports/peer-registry';
import type { RateBucketLedger } from '../ports/rate-bucket-ledger';
import type { Resealer } from '../ports/sealed-settings';
import type { BucketTake, RateBucket } from '../rate-buckets';
import type { SealedCanary } from '../sealed-canary';
import type { SessionRecord } from '../session';
import type { Store } from '../store';
import type { StoreSettingName } from '../store-setting';
import { SqlAuditLog } from './audit-log-sql';
import { SqlDeviceRegistry, type DeviceImport } from './device-registry-sql';
import { SqlFleetMigrationJournal } from './fleet-migration-journal-sql';
import { SqlPeerRegistry } from './peer-registry-sql';
import { SqlSealedSettings } from './sealed-settings-sql';
import type { SqlRunner } from './sql-work';
import { SqlTenantRegistry } from './tenant-registry-sql';

/** A store's change counters, as read in one statement. */
export interface ChangeCounters {
  readonly peers: number;
  /** Writes to devices but join commits; 0 where the dialect does not count them (`keepJoinDevices` false). */
  readonly devices: number;
}

/** What a dialect writes by hand (the join's hot path, imports, rate buckets), and its connection's life. */
export interface DialectParts {
  readonly sql: SqlRunner;
  readonly devices: DeviceImport;
  readonly joinState: JoinState;
  readonly joinHistory: JoinHistory;
  readonly rateBuckets: RateBucketLedger;
  /** The change counters (`change_counters`): `peers`, which every write to peers bumps, and `devices`. */
  readonly readChanges: () => Promise<ChangeCounters>;
  /**
   * Whether the join's devices are kept in memory (`join-device-cache.ts`): only where every
   * write to a device but a join commit bumps the `devices` counter. Else the join reads every
   * device afresh.
   */
  readonly keepJoinDevices: boolean;
  ping(): Promise<void>;
  /** Store.prepareForJoins. */
  prepareForJoins(): Promise<void>;
  /** Lets queued work finish, then closes the connections. */
  close(): Promise<void>;
}

/**
 * A SQL store: the shared aggregates (one code path for both databases) and the dialect's own
 * parts, each port handed to the aggregate that keeps it. The SQLite and PostgreSQL stores are
 * this with their dialect's parts.
 */
export class SqlStore implements Store {
  readonly #own: DialectParts;
  /** The join's reads and writes: the dialect's, with the join's devices kept in memory where the dialect counts device changes. */
  readonly #joinState: JoinState;
  readonly #joinDevices: CachedJoinState | null;
  readonly #devices: SqlDeviceRegistry;
  readonly #peers: CachedPeerRegistry;
  readonly #tenants: SqlTenantRegistry;
  readonly #audit: SqlAuditLog;
  readonly #journal: SqlFleetMigrationJournal;
  readonly #settings: SqlSealedSettings;
  #closing: Promise<void> | undefined;

  protected constructor(own: DialectParts) {
    this.#own = own;
    // The change counters, read once per turn of the event loop (one query serves every request of the turn).
    const changes = new ChangeWatch(own.readChanges);
    this.#joinDevices = own.keepJoinDevices ? new CachedJoinState(own.joinState, async () => (await changes.current()).devices) : null;
    this.#joinState = this.#joinDevices ?? own.joinState;
    // Every write through this store's runner drops the devices kept for the join at once (the
    // counter the triggers bump is read once per turn: a join later in the same turn would not see it).
    const sql = this.#joinDevices === null ? own.sql : afterEveryWrite(own.sql, () => this.#joinDevices?.clear());
    this.#devices = new SqlDeviceRegistry(sql, own.devices);
    this.#peers = new CachedPeerRegistry(new SqlPeerRegistry(sql), async () => (await changes.current()).peers);
    this.#tenants = new SqlTenantRegistry(sql);
    this.#audit = new SqlAuditLog(sql);
    this.#journal = new SqlFleetMigrationJournal(sql);
    this.#settings = new SqlSealedSettings(sql);
  }

  /** Entries written before the audit chain existed get their hashes (once, after the upgrade). */
  chainUnhashedAuditRows(): Promise<void> {
    return this.#audit.chainUnhashedAuditRows();
  }

  // Device registry.
  async insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    // An import may restore the nonces of a device that is kept (removed and imported again).
    try {
      return await this.#devices.insertDevices(devices, audit);
    } finally {
      this.#joinDevices?.clear();
    }
  }
  async insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    try {
      return await this.#devices.insertDeviceChunks(chunks, audit);
    } finally {
      this.#joinDevices?.clear();
    }
  }
  /** Read afresh: only the join engine's `deviceForJoin` may be answered from memory. */
  getDevice(devEUI: EUI64): Promise<Device | null> {
    return this.#own.joinState.deviceForJoin(devEUI);
  }
  existingDevEUIs(devEUIs: readonly EUI64[]): Promise<Set<EUI64>> {
    return this.#devices.existingDevEUIs(devEUIs);
  }
  listDevices(query: DeviceListQuery): Promise<Device[]> {
    return this.#devices.listDevices(query);
  }
  countDevices(filter?: DeviceFilter): Promise<number> {
    return this.#devices.countDevices(filter);
  }
  changeDevice(change: DeviceChange, audit: AuditEvent): Promise<boolean> {
    return this.#devices.changeDevice(change, audit);
  }
  deleteDevice(devEUI: EUI64, audit: AuditEvent): Promise<boolean> {
    return this.#devices.deleteDevice(devEUI, audit);
  }
  resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null> {
    return this.#devices.resetDevNonces(devEUI, audit);
  }
  listFirstJoins(query: FirstJoinQuery): Promise<FirstJoin[]> {
    return this.#devices.listFirstJoins(query);
  }

  // Join state and history.
  deviceForJoin(devEUI: EUI64): Promise<Device | null> {
    return this.#joinState.deviceForJoin(devEUI);
  }
  commitJoin(commit: JoinCommit): Promise<boolean> {
    return this.#joinState.commitJoin(commit);
  }
  addSession(session: SessionRecord, keep: number): Promise<void> {
    return this.#joinState.addSession(session, keep);
  }
  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    return this.#joinState.getSession(devEUI, sessionKeyID);
  }
  appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number> {
    return this.#own.joinHistory.appendJoinRecords(records, keep);
  }
  listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    return this.#own.joinHistory.listJoinRecords(devEUI, limit);
  }
  joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]> {
    return this.#own.joinHistory.joinRate(query);
  }

  // Peers.
  insertPeer(peer: Peer, audit?: AuditEvent): Promise<void> {
    return this.#peers.insertPeer(peer, audit);
  }
  getPeer(name: string): Promise<Peer | null> {
    return this.#peers.getPeer(name);
  }
  updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    return this.#peers.updatePeerSettings(name, settings);
  }
  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    return this.#peers.getPeerByFingerprint(certFingerprint);
  }
  updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean> {
    return this.#peers.updatePeer(name, change, audit);
  }
  deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion> {
    return this.#peers.deletePeer(name, unbindDevices, audit);
  }
  peerUsage(): Promise<Map<string, PeerUsage>> {
    return this.#peers.peerUsage();
  }
  peerJoinResults(name: string, since: Date): Promise<Record<string, number>> {
    return this.#peers.peerJoinResults(name, since);
  }
  listPeers(tenantID?: TenantID): Promise<Peer[]> {
    return this.#peers.listPeers(tenantID);
  }

  // Tenants and API keys.
  insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void> {
    return this.#tenants.insertTenant(tenant, audit);
  }
  getTenant(id: TenantID): Promise<Tenant | null> {
    return this.#tenants.getTenant(id);
  }
  listTenants(): Promise<Tenant[]> {
    return this.#tenants.listTenants();
  }
  insertApiKey(key: ApiKeyRecord, audit: AuditEvent): Promise<void> {
    return this.#tenants.insertApiKey(key, audit);
  }
  getApiKey(id: string): Promise<ApiKeyRecord | null> {
    return this.#tenants.getApiKey(id);
  }
  listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]> {
    return this.#tenants.listApiKeys(tenantID);
  }
  revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    return this.#tenants.revokeApiKey(id, at, audit);
  }

  // Audit log.
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#audit.listAuditEvents(query);
  }
  appendAudit(event: AuditEvent): Promise<void> {
    return this.#audit.appendAudit(event);
  }
  readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]> {
    return this.#audit.readAuditChain(afterID, limit);
  }

  // Fleet-migration journal.
  insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void> {
    return this.#journal.insertFleetMigration(migration, devEUIs, audit);
  }
  getFleetMigration(id: string): Promise<FleetMigration | null> {
    return this.#journal.getFleetMigration(id);
  }
  listFleetMigrations(limit: number): Promise<FleetMigration[]> {
    return this.#journal.listFleetMigrations(limit);
  }
  setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean> {
    return this.#journal.setFleetMigrationStatus(id, status, audit);
  }
  listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]> {
    return this.#journal.listMigrationEntries(migrationID, query);
  }
  countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>> {
    return this.#journal.countMigrationEntries(migrationID);
  }
  advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean> {
    return this.#journal.advanceMigrationEntry(migrationID, devEUI, from, change);
  }
  rebindMigratingDevice(rebinding: Rebinding): Promise<RebindOutcome> {
    return this.#journal.rebindMigratingDevice(rebinding);
  }
  listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]> {
    return this.#journal.listMigrationArrivals(migrationID, targetPeer, limit);
  }

  // Rate buckets.
  takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    return this.#own.rateBuckets.takeRateBuckets(buckets, nowMs);
  }
  refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void> {
    return this.#own.rateBuckets.refundRateBuckets(buckets, nowMs);
  }

  // Settings and sealed blobs.
  getSetting(name: StoreSettingName): Promise<string | null> {
    return this.#settings.getSetting(name);
  }
  putSetting(name: StoreSettingName, value: string): Promise<void> {
    return this.#settings.putSetting(name, value);
  }
  putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string> {
    return this.#settings.putSettingIfAbsent(name, value);
  }
  sealedCanary(vaultKind: string): Promise<SealedCanary | null> {
    return this.#settings.sealedCanary(vaultKind);
  }
  async resealAll(reseal: Resealer): Promise<number> {
    try {
      return await this.#settings.resealAll(reseal);
    } finally {
      this.#peers.clear(); // the peers' KEKs were replaced
    }
  }

  ping(): Promise<void> {
    return this.#own.ping();
  }

  prepareForJoins(): Promise<void> {
    return this.#own.prepareForJoins();
  }

  /** Lets queued work finish, then closes every connection (idempotent). */
  close(): Promise<void> {
    this.#closing ??= this.#own.close();
    return this.#closing;
  }
}

/**
 * The runner, telling `written` after every transaction and after every lone unit of work that
 * sent a write (a statement that wants its count of changed rows): reads alone tell nothing.
 */
function afterEveryWrite(sql: SqlRunner, written: () => void): SqlRunner {
  return {
    dialect: sql.dialect,
    run: async (operation, work) => {
      let wrote = false;
      try {
        return await sql.run(
          operation,
          (function* () {
            let next = work.next();
            while (!next.done) {
              if (next.value.want === 'count') wrote = true;
              next = work.next(yield next.value);
            }
            return next.value;
          })(),
        );
      } finally {
        if (wrote) written();
      }
    },
    transaction: async (operation, work) => {
      try {
        return await sql.transaction(operation, work);
      } finally {
        written();
      }
    },
  };
}

import type { BucketTake, RateBucket } from './rate-buckets';
import type { EUI64 } from '../lorawan/identifiers';
import type { Peer, PeerCertificate, PeerState } from '../peers/peer';
import type { PeerSettings } from '../peers/peer-settings';
import type { ApiKeyRecord } from '../tenants/api-key';
import type { Tenant, TenantID } from '../tenants/tenant';
import type { AuditEvent, AuditQuery, AuditRecord } from './audit-event';
import type { Activation, Device, DeviceChange, JoinCommit, NewDevice } from './device';
import type { JoinRecord } from './join-record';
import type { JoinRateBucket, JoinRateQuery } from './join-rate';
import type { SealedCanary } from './sealed-canary';
import type { SessionRecord } from './session';
import type { StoreSettingName } from './store-setting';
import type { MACVersion } from '../lorawan/mac-version';
import type { DeviceMigrationState } from '../migration/device-migration-state';
import type { FleetMigration, MigrationStatus } from '../migration/fleet-migration';
import type { DeviceBinding, MigrationArrival, MigrationEntry, MigrationEntryChange, RebindOutcome } from '../migration/migration-entry';

/** A device import hit a DevEUI that already exists: nothing of the batch was written. */
export class DeviceExistsError extends Error {
  override readonly name = 'DeviceExistsError';
  constructor(readonly devEUI: EUI64) {
    super(`device ${devEUI} already exists`);
  }
}

/** A peer with this name (or certificate) already exists. */
export class PeerExistsError extends Error {
  override readonly name = 'PeerExistsError';
  constructor(readonly peerName: string) {
    super(`peer ${peerName} already exists`);
  }
}

/** Whose sealed blob it is (what the vault's sealing context is built from). */
export type SealedBlobOwner =
  | { readonly kind: 'device'; readonly devEUI: EUI64 }
  | { readonly kind: 'peer'; readonly name: string }
  | { readonly kind: 'session'; readonly devEUI: EUI64; readonly sessionKeyID: string };

/** Gives a sealed blob's replacement, or null to leave it as it is. */
export type Resealer = (sealed: Buffer, owner: SealedBlobOwner) => Promise<Buffer | null>;

/** A device selected for a migration is still being moved by another one: nothing was written. */
export class MigrationConflictError extends Error {
  override readonly name = 'MigrationConflictError';
  constructor(
    readonly devEUI: EUI64,
    readonly otherMigrationID: string,
  ) {
    super(`device ${devEUI} is still in migration ${otherMigrationID}`);
  }
}

export interface MigrationEntryQuery {
  readonly limit: number;
  /** Entries after this DevEUI (keyset paging); from the first when absent. */
  readonly afterDevEUI?: EUI64;
  /** Only entries in these states. */
  readonly states?: readonly DeviceMigrationState[];
}

/** A rebinding: the journal transition and the binding change, in one transaction. */
export interface Rebinding {
  readonly migrationID: string;
  readonly devEUI: EUI64;
  /** The journal entry must be in this state (else nothing is written: 'already'). */
  readonly from: DeviceMigrationState;
  readonly change: MigrationEntryChange;
  /** The device must be bound as one of these (else nothing is written: 'binding-changed'). */
  readonly bindingFrom: readonly DeviceBinding[];
  readonly bindingTo: DeviceBinding;
  readonly audit: AuditEvent;
}

export interface DeviceFilter {
  /** Only devices bound to this network server peer. */
  readonly nsPeer?: string;
  /**
   * Only the devices this tenant holds: those it owns, and those it made that nobody claimed
   * yet.
   */
  readonly holder?: TenantID;
  /** Only claimed (true) or only unclaimed (false) devices. */
  readonly claimed?: boolean;
  /** Only devices bound to a network server (true) or to none (false). */
  readonly bound?: boolean;
  /** Only devices of this LoRaWAN MAC version. */
  readonly macVersion?: MACVersion;
  /** Only devices owned by this tenant. */
  readonly owner?: TenantID;
  /** Only devices whose DevEUI or JoinEUI starts with these lower-case hex digits (1 to 16). */
  readonly euiPrefix?: string;
  /** Only devices whose last issued JoinNonce is greater than this. */
  readonly joinNonceAbove?: number;
}

export interface DeviceListQuery extends DeviceFilter {
  readonly limit: number;
  readonly offset: number;
}

export interface ActivationQuery {
  /** Only devices activated while this tenant owned them. */
  readonly tenantID?: TenantID;
  /** Activated at or after. */
  readonly since: Date;
  /** Activated before (default: now and later). */
  readonly until?: Date;
}

/** What `updatePeer` changes (absent fields are kept). */
export interface PeerChange {
  readonly state?: PeerState;
  /** The whole certificate set; its new fingerprints identify the peer from then on. */
  readonly certificates?: readonly PeerCertificate[];
  /** The current certificate (one of `certificates`). */
  readonly certFingerprint?: string;
  readonly kek?: { readonly label: string; readonly sealedKEK: Buffer };
}

export type PeerDeletion = { readonly kind: 'deleted'; readonly unbound: number } | { readonly kind: 'not-found' } | { readonly kind: 'bound'; readonly devices: number };

export interface PeerUsage {
  readonly boundDevices: number;
  readonly lastJoinAt: Date | null;
}

/**
 * The storage port. Every implementation (SQLite, PostgreSQL) passes the same conformance
 * suite. Writes are durable when the promise resolves.
 */
export interface Store {
  /**
   * Inserts all devices or none (one transaction), with the audit entry if given; a duplicate
   * DevEUI throws DeviceExistsError.
   */
  insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void>;
  /**
   * Inserts the devices of `chunks` one chunk after the other in one transaction (a bulk import
   * that holds one chunk at a time): all of them or none. A DevEUI that exists, or comes twice,
   * throws DeviceExistsError; an error of `chunks` itself rolls back and is rethrown as it is.
   * The audit entry, made from the number of devices, is appended in the same transaction.
   * Resolves with the number inserted.
   */
  insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number>;
  getDevice(devEUI: EUI64): Promise<Device | null>;
  /** Which of these DevEUIs are devices in the store (one query per many, for an import that skips them). */
  existingDevEUIs(devEUIs: readonly EUI64[]): Promise<Set<EUI64>>;
  /** In DevEUI order. */
  listDevices(query: DeviceListQuery): Promise<Device[]>;
  countDevices(filter?: DeviceFilter): Promise<number>;
  /**
   * Writes a device's ownership and binding (and bumps its version) if, and only if, it is still
   * at `change.expectedVersion`, with the audit entry, in one transaction. False: it changed
   * meanwhile (or is gone); the caller reads it again and decides again.
   */
  changeDevice(change: DeviceChange, audit: AuditEvent): Promise<boolean>;
  /** Deletes a device (and its sessions) with the audit entry; false when there is none. */
  deleteDevice(devEUI: EUI64, audit: AuditEvent): Promise<boolean>;
  /** Devices' first accepted joins, oldest first. */
  listActivations(query: ActivationQuery): Promise<Activation[]>;
  /**
   * The nonce check-and-update: writes the commit's nonce state if, and only if, the device is
   * still at `expectedVersion` (one conditional statement, atomic and durable). Returns false
   * when another join got there first; the caller re-reads and decides again.
   */
  commitJoin(commit: JoinCommit): Promise<boolean>;

  /**
   * Appends join records of devices that exist (records of unknown DevEUIs are skipped) and
   * keeps only the newest `keep` of each device, in one transaction. Returns how many were
   * stored.
   */
  appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number>;
  /** A device's join records, newest first. */
  listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]>;

  /** Records an issued session and keeps only the newest `keep` of that device. */
  addSession(session: SessionRecord, keep: number): Promise<void>;
  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null>;

  /** Throws PeerExistsError on a duplicate name or certificate fingerprint. Audited when given an entry. */
  insertPeer(peer: Peer, audit?: AuditEvent): Promise<void>;
  getPeer(name: string): Promise<Peer | null>;
  /** Replaces a peer's settings; false when there is no such peer. */
  updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean>;
  /** The peer one of whose certificates (current, overlapping or retired) has this fingerprint. */
  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null>;
  /**
   * Writes a peer's lifecycle change with its audit entry, in one transaction; other processes'
   * caches see it from their next turn on. False when there is no such peer.
   */
  updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean>;
  /**
   * Deletes a peer (its certificates are refused from then on) with its audit entry. Refused,
   * writing nothing, while devices are bound to it (as network server, overlap network server or
   * application server), unless `unbindDevices`: then their bindings to it are removed in the
   * same transaction.
   */
  deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion>;
  /** For every peer with bound devices or joins: how many devices are bound to it, and its last accepted join. */
  peerUsage(): Promise<Map<string, PeerUsage>>;
  /**
   * The joins through a peer at or after `since`, by BI result code, from the join history (so
   * only of devices Joinery knows, and as many as each device's history keeps).
   */
  peerJoinResults(name: string, since: Date): Promise<Record<string, number>>;
  /** Join attempts per minute of the window, accepted and refused, from the join history (join-rate.ts). */
  joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]>;
  /** By name; only the tenant's when given. */
  listPeers(tenantID?: TenantID): Promise<Peer[]>;

  /** Throws TenantExistsError on a duplicate id. */
  insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void>;
  getTenant(id: TenantID): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;

  insertApiKey(key: ApiKeyRecord, audit: AuditEvent): Promise<void>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  /** The tenant's keys, revoked ones included, oldest first. */
  listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked (it stops working at once); false when there is no such live key. */
  revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean>;

  /**
   * The operator's way out of a "DevNonce already used" loop: forgets the device's used
   * DevNonces (the counter of 1.0.4/1.1 devices, the set of 1.0.0-1.0.3 devices) and records
   * `audit`, in one transaction. The JoinNonce and RJcount1 are never reset. Returns the device
   * as it now is, or null when there is no such device.
   */
  resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null>;
  /** Audit entries, newest first. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Appends an entry to the audit trail (hash-chained to the one before it). */
  appendAudit(event: AuditEvent): Promise<void>;
  /** The audit trail as stored, with its chain: entries with an id above `afterID`, ascending. */
  readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]>;

  /**
   * Fleet migrations. `insertFleetMigration` writes the migration, one `planned` journal entry
   * per device and `audit`, in one transaction; it throws MigrationConflictError (writing
   * nothing) when a device is in a migration that is not settled for it.
   */
  insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void>;
  getFleetMigration(id: string): Promise<FleetMigration | null>;
  /** Newest first. */
  listFleetMigrations(limit: number): Promise<FleetMigration[]>;
  /** Sets the status (and `finishedAt` for finished, rolled-back) and records `audit`; false when no such migration. */
  setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean>;
  /** Journal entries in DevEUI order. */
  listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]>;
  /** How many entries are in each state (states with none are absent). */
  countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>>;
  /**
   * A journal transition: writes `change` if, and only if, the entry is still in state `from`
   * (one conditional write). False when it was not (another runner, or a run before a crash,
   * already moved it): the caller re-reads.
   */
  advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean>;
  /**
   * Moves a device's binding and its journal entry together, with an audit entry, in one
   * transaction. The binding always names a network server (`bindingTo.nsPeer` is required),
   * so a device is never bound to no network. Bumps the device's version, so a join that read
   * the old binding re-checks it before committing.
   */
  rebindMigratingDevice(rebinding: Rebinding): Promise<RebindOutcome>;
  /**
   * Devices of the migration in state `rebound` whose last accepted join came through
   * `targetPeer` at or after their `reboundAt` (read from what every join already writes).
   */
  listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]>;

  /**
   * Takes one token from each bucket, all or nothing, in one transaction that holds their rows
   * (see rate-buckets.ts): concurrent takers, of any instance, never overdraw a bucket. Refused:
   * nothing taken, and the milliseconds until every bucket has a token.
   */
  takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake>;
  /** Gives one token back to each bucket (never above its burst), in one transaction. */
  refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void>;

  /** Store reachable and usable (for readiness). */
  /**
   * Master-key rotation: hands every sealed blob (devices' root keys, peers' KEKs, sessions'
   * AppSKeys) to `reseal`, a batch at a time, and stores what it returns in place of the blob,
   * only if the blob is still the one handed over (a session pruned meanwhile is skipped).
   * Returns how many blobs were replaced.
   */
  resealAll(reseal: Resealer): Promise<number>;

  /** A store-wide setting, or null when it was never written. */
  getSetting(name: StoreSettingName): Promise<string | null>;
  /** Writes a store-wide setting (its value replaced), committed when the promise resolves. */
  putSetting(name: StoreSettingName, value: string): Promise<void>;
  /** Writes a store-wide setting unless it has a value already; returns the value it has now (of whichever writer came first). */
  putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string>;
  /**
   * One sealed blob for a vault of kind `vaultKind` to open (the root keys of a device that
   * vault sealed, else a peer's KEK), or null when the store holds none.
   */
  sealedCanary(vaultKind: string): Promise<SealedCanary | null>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

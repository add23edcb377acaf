import { parseEUI64, parseNetID } from '../lorawan/identifiers';
import { parseMACVersion } from '../lorawan/mac-version';
import { devNonce, joinNonce } from '../lorawan/nonces';
import { PEER_STATES, type Peer, type PeerState } from '../peers/peer';
import { parsePeerCertificates, serializePeerCertificates } from '../peers/peer-certificates';
import { parsePeerSettings, serializePeerSettings } from '../peers/peer-settings';
import { parseVendor } from '../peers/vendor';
import { parseScopes, type ApiKeyRecord } from '../tenants/api-key';
import { OPERATOR_TENANT, parseTenantRoles, type Tenant, type TenantID } from '../tenants/tenant';
import { auditHash } from './audit-chain';
import type { AuditEvent, AuditRecord } from './audit-event';
import type { Device, NewDevice } from './device';
import { parseJoinType, type JoinRecord } from './join-record';
import type { SessionRecord } from './session';
import type { PeerChange } from './ports/peer-registry';
import { parseDeviceMigrationState, parseMigrationStep } from './fleet-migration-journal';
import { deviceSelectionJSON, parseDeviceSelection, type DeviceSelectionJSON } from '../migration/device-selection';
import { parseMigrationStatus, parseMigrationStrategy, type FleetMigration } from './fleet-migration-journal';
import type { MigrationEntry } from './fleet-migration-journal';
import { parseVendorLimit, type VendorLimits } from '../migration/vendor-limits';

/**
 * The rows every SQL store reads, once its driver's own types are normalised (numbers as
 * numbers, times as Dates): parsed here into the branded types, so both stores map rows the
 * same way and a corrupt row fails the same way.
 */
export interface DeviceRowValues {
  readonly dev_eui: string;
  readonly join_eui: string;
  readonly mac_version: string;
  readonly sealed_root_keys: Buffer;
  readonly vault_kind: string;
  readonly ns_peer: string | null;
  readonly overlap_ns_peer: string | null;
  readonly as_peer: string | null;
  readonly last_dev_nonce: number | null;
  readonly used_dev_nonces: readonly number[];
  readonly last_join_nonce: number | null;
  readonly last_rj_count1: number | null;
  readonly last_rj_count0: number | null;
  readonly rejoin_window_start: Date | null;
  readonly rejoin_window_count: number;
  readonly version: number;
  readonly last_join_at: Date | null;
  readonly last_join_peer: string | null;
  readonly created_at: Date;
  readonly manufacturer_tenant: string;
  readonly owner_tenant: string | null;
  readonly owner_token_hash: string | null;
  readonly profile_id: string;
  readonly locked: boolean;
  readonly claimed_at: Date | null;
  readonly activated_at: Date | null;
  readonly activated_tenant: string | null;
}

/** The devices table's columns every read selects. */
export const DEVICE_COLUMNS = `dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, overlap_ns_peer, as_peer,
  last_dev_nonce, used_dev_nonces, last_join_nonce, last_rj_count1, last_rj_count0, rejoin_window_start, rejoin_window_count, version, last_join_at, last_join_peer, created_at,
  manufacturer_tenant, owner_tenant, owner_token_hash, profile_id, locked, claimed_at, activated_at, activated_tenant`;

export function deviceFromRow(row: DeviceRowValues): Device {
  return {
    devEUI: parseEUI64(row.dev_eui, 'devices.dev_eui'),
    joinEUI: parseEUI64(row.join_eui, 'devices.join_eui'),
    macVersion: parseMACVersion(row.mac_version, 'devices.mac_version'),
    sealedRootKeys: row.sealed_root_keys,
    vaultKind: row.vault_kind,
    nsPeer: row.ns_peer,
    overlapNsPeer: row.overlap_ns_peer,
    asPeer: row.as_peer,
    nonces: {
      lastDevNonce: row.last_dev_nonce === null ? null : devNonce(row.last_dev_nonce, 'devices.last_dev_nonce'),
      usedDevNonces: row.used_dev_nonces.map((n) => devNonce(n, 'devices.used_dev_nonces')),
      lastJoinNonce: row.last_join_nonce === null ? null : joinNonce(row.last_join_nonce, 'devices.last_join_nonce'),
      lastRJCount1: row.last_rj_count1,
      lastRJCount0: row.last_rj_count0,
      rejoinWindow: row.rejoin_window_start === null ? null : { start: row.rejoin_window_start, count: row.rejoin_window_count },
    },
    version: row.version,
    lastJoinAt: row.last_join_at,
    lastJoinPeer: row.last_join_peer,
    createdAt: row.created_at,
    ownership: {
      manufacturer: row.manufacturer_tenant as TenantID,
      owner: row.owner_tenant as TenantID | null,
      ownerTokenHash: row.owner_token_hash,
      profileID: row.profile_id,
      locked: row.locked,
      claimedAt: row.claimed_at,
      activatedAt: row.activated_at,
      activatedTenant: row.activated_tenant as TenantID | null,
    },
  };
}

/** The values of a new device's ownership columns (the operator's own device by default). */
export function newDeviceOwnershipValues(d: NewDevice, now: Date): { manufacturer: string; owner: string | null; tokenHash: string | null; profileID: string; claimedAt: Date | null } {
  const o = d.ownership;
  if (!o) return { manufacturer: OPERATOR_TENANT, owner: OPERATOR_TENANT, tokenHash: null, profileID: '00000000', claimedAt: now };
  if (o.owner === null && (d.nsPeer !== null || d.asPeer !== null)) throw new TypeError(`device ${d.devEUI}: a device that is not claimed cannot be bound`);
  return { manufacturer: o.manufacturer, owner: o.owner, tokenHash: o.ownerTokenHash, profileID: o.profileID, claimedAt: o.owner === null ? null : now };
}

export interface SessionRowValues {
  readonly dev_eui: string;
  readonly session_key_id: string;
  readonly join_nonce: number;
  readonly ns_peer: string;
  readonly as_peer: string | null;
  readonly sealed_app_s_key: Buffer;
  readonly created_at: Date;
}

export function sessionFromRow(row: SessionRowValues): SessionRecord {
  return {
    devEUI: parseEUI64(row.dev_eui, 'sessions.dev_eui'),
    sessionKeyID: row.session_key_id,
    joinNonce: joinNonce(row.join_nonce, 'sessions.join_nonce'),
    nsPeer: row.ns_peer,
    asPeer: row.as_peer,
    sealedAppSKey: row.sealed_app_s_key,
    createdAt: row.created_at,
  };
}

export interface PeerRowValues {
  readonly name: string;
  readonly kind: string;
  readonly cert_fingerprint: string;
  readonly kek_label: string;
  readonly sealed_kek: Buffer;
  readonly net_id: string | null;
  readonly ns_id: string | null;
  readonly vendor: string | null;
  readonly as_id: string | null;
  readonly settings: string;
  readonly tenant_id: string;
  readonly created_at: Date;
  readonly state: string;
  readonly certificates: string;
}

export function peerFromRow(row: PeerRowValues): Peer {
  const base = {
    name: row.name,
    certFingerprint: row.cert_fingerprint,
    kekLabel: row.kek_label,
    sealedKEK: row.sealed_kek,
    settings: parsePeerSettings(row.settings),
    tenantID: row.tenant_id as TenantID,
    createdAt: row.created_at,
    state: parsePeerState(row.state, row.name),
    certificates: parsePeerCertificates(row.certificates, row.name),
  };
  if (row.kind === 'ns') {
    return {
      ...base,
      kind: 'ns',
      netID: parseNetID(row.net_id, 'peers.net_id'),
      nsID: row.ns_id === null ? null : parseEUI64(row.ns_id, 'peers.ns_id'),
      vendor: parseVendor(row.vendor, 'peers.vendor'),
    };
  }
  if (row.kind === 'as') {
    if (row.as_id === null) throw new Error(`peer ${row.name}: application server without as_id`);
    return { ...base, kind: 'as', asID: row.as_id };
  }
  throw new Error(`peer ${row.name}: unknown kind "${row.kind}"`);
}

/** The peers table's columns, in the order `peerRowValues` gives their values. */
export const PEER_COLUMNS = ['name', 'kind', 'cert_fingerprint', 'kek_label', 'sealed_kek', 'net_id', 'ns_id', 'vendor', 'as_id', 'created_at', 'settings', 'tenant_id', 'state', 'certificates'] as const;

/** The inverse of `peerFromRow`: a peer's column values, in `PEER_COLUMNS` order. */
export function peerRowValues(peer: Peer): Array<PeerRowValues[(typeof PEER_COLUMNS)[number]]> {
  const ns = peer.kind === 'ns' ? peer : null;
  const row: PeerRowValues = {
    name: peer.name,
    kind: peer.kind,
    cert_fingerprint: peer.certFingerprint,
    kek_label: peer.kekLabel,
    sealed_kek: peer.sealedKEK,
    net_id: ns ? ns.netID : null,
    ns_id: ns ? ns.nsID : null,
    vendor: ns ? ns.vendor : null,
    as_id: peer.kind === 'as' ? peer.asID : null,
    created_at: peer.createdAt,
    settings: serializePeerSettings(peer.settings),
    tenant_id: peer.tenantID,
    state: peer.state,
    certificates: serializePeerCertificates(peer.certificates),
  };
  return PEER_COLUMNS.map((c) => row[c]);
}

/** The peers columns a change writes, with their values (at least one: an empty change is a programming error). */
export function peerChangeColumns(change: PeerChange): Array<[column: string, value: string | Buffer]> {
  const columns: Array<[string, string | Buffer]> = [];
  if (change.state !== undefined) columns.push(['state', change.state]);
  if (change.certificates !== undefined) columns.push(['certificates', serializePeerCertificates(change.certificates)]);
  if (change.certFingerprint !== undefined) columns.push(['cert_fingerprint', change.certFingerprint]);
  if (change.kek !== undefined) columns.push(['kek_label', change.kek.label], ['sealed_kek', change.kek.sealedKEK]);
  if (columns.length === 0) throw new Error('a peer change that changes nothing');
  return columns;
}

function parsePeerState(state: string, peerName: string): PeerState {
  if (!(PEER_STATES as readonly string[]).includes(state)) throw new Error(`peer ${peerName}: unknown state "${state}"`);
  return state as PeerState;
}

export interface TenantRowValues {
  readonly id: string;
  readonly name: string;
  readonly roles: string;
  readonly created_at: Date;
}

export function tenantFromRow(row: TenantRowValues): Tenant {
  return { id: row.id as TenantID, name: row.name, roles: parseTenantRoles(JSON.parse(row.roles) as unknown, 'tenants.roles'), createdAt: row.created_at };
}

export interface ApiKeyRowValues {
  readonly id: string;
  readonly tenant_id: string;
  readonly scopes: string;
  readonly label: string;
  readonly secret_hash: string;
  readonly created_at: Date;
  readonly revoked_at: Date | null;
}

export function apiKeyFromRow(row: ApiKeyRowValues): ApiKeyRecord {
  return {
    id: row.id,
    tenantID: row.tenant_id as TenantID,
    scopes: parseScopes(JSON.parse(row.scopes) as unknown, 'api_keys.scopes'),
    label: row.label,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export interface AuditRowValues {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly tenant_id: string | null;
  readonly source: string | null;
  readonly action: string;
  readonly dev_eui: string | null;
  readonly detail: string;
  readonly prev_hash: string | null;
  readonly hash: string | null;
}

export const AUDIT_COLUMNS = 'id, at, actor, tenant_id, source, action, dev_eui, detail, prev_hash, hash';

export function auditEventFromRow(row: AuditRowValues): AuditEvent {
  return {
    at: row.at,
    actor: row.actor,
    tenantID: row.tenant_id,
    source: row.source,
    action: row.action,
    devEUI: row.dev_eui === null ? null : parseEUI64(row.dev_eui, 'audit_events.dev_eui'),
    detail: JSON.parse(row.detail) as AuditEvent['detail'],
  };
}

/** A stored entry with its chain fields (an unhashed one reads as hash ''). */
export function auditRecordFromRow(row: AuditRowValues): AuditRecord {
  return { ...auditEventFromRow(row), id: row.id, prevHash: row.prev_hash ?? '', hash: row.hash ?? '' };
}

/** The audit_events column values of an entry, in AUDIT_COLUMNS order. */
export function auditRowValues(id: number, event: AuditEvent, prevHash: string): unknown[] {
  return [id, event.at, event.actor, event.tenantID, event.source, event.action, event.devEUI, JSON.stringify(event.detail), prevHash, auditHash(id, event, prevHash)];
}

/** What a fleet migration keeps beside its columns, as JSON in `fleet_migrations.plan`. */
interface MigrationPlanJSON {
  readonly selection: DeviceSelectionJSON;
  readonly limits: Record<string, { ratePerSecond: number; concurrency: number }>;
  readonly rollbackAtDeadline: boolean;
  readonly maxAttempts: number;
}

export interface FleetMigrationRowValues {
  readonly id: string;
  readonly source_peer: string;
  readonly target_peer: string;
  readonly strategy: string;
  readonly plan: string;
  readonly status: string;
  readonly deadline: Date | null;
  readonly created_at: Date;
  readonly created_by: string;
  readonly finished_at: Date | null;
}

export const FLEET_MIGRATION_COLUMNS = ['id', 'source_peer', 'target_peer', 'strategy', 'plan', 'status', 'deadline', 'created_at', 'created_by', 'finished_at'] as const;

export function fleetMigrationRowValues(m: FleetMigration): Array<FleetMigrationRowValues[(typeof FLEET_MIGRATION_COLUMNS)[number]]> {
  const plan: MigrationPlanJSON = { selection: deviceSelectionJSON(m.selection), limits: { ...m.limits }, rollbackAtDeadline: m.rollbackAtDeadline, maxAttempts: m.maxAttempts };
  const row: FleetMigrationRowValues = {
    id: m.id,
    source_peer: m.sourcePeer,
    target_peer: m.targetPeer,
    strategy: m.strategy,
    plan: JSON.stringify(plan),
    status: m.status,
    deadline: m.deadline,
    created_at: m.createdAt,
    created_by: m.createdBy,
    finished_at: m.finishedAt,
  };
  return FLEET_MIGRATION_COLUMNS.map((c) => row[c]);
}

export function fleetMigrationFromRow(row: FleetMigrationRowValues): FleetMigration {
  const plan = JSON.parse(row.plan) as MigrationPlanJSON;
  const limits: Record<string, ReturnType<typeof parseVendorLimit>> = {};
  for (const [vendor, l] of Object.entries(plan.limits ?? {})) limits[vendor] = parseVendorLimit(l, `fleet_migrations.plan.limits.${vendor}`);
  return {
    id: row.id,
    sourcePeer: row.source_peer,
    targetPeer: row.target_peer,
    strategy: parseMigrationStrategy(row.strategy, 'fleet_migrations.strategy'),
    selection: parseDeviceSelection(plan.selection, 'fleet_migrations.plan.selection'),
    limits: limits as VendorLimits,
    deadline: row.deadline,
    rollbackAtDeadline: plan.rollbackAtDeadline === true,
    maxAttempts: plan.maxAttempts,
    status: parseMigrationStatus(row.status, 'fleet_migrations.status'),
    createdAt: row.created_at,
    createdBy: row.created_by,
    finishedAt: row.finished_at,
  };
}

export interface MigrationEntryRowValues {
  readonly migration_id: string;
  readonly dev_eui: string;
  readonly state: string;
  readonly attempts: number;
  readonly failed_step: string | null;
  readonly last_error: string | null;
  readonly rebound_at: Date | null;
  readonly joined_at: Date | null;
  readonly updated_at: Date;
}

export const MIGRATION_ENTRY_COLUMNS = 'migration_id, dev_eui, state, attempts, failed_step, last_error, rebound_at, joined_at, updated_at';

export function migrationEntryFromRow(row: MigrationEntryRowValues): MigrationEntry {
  return {
    migrationID: row.migration_id,
    devEUI: parseEUI64(row.dev_eui, 'fleet_migration_devices.dev_eui'),
    state: parseDeviceMigrationState(row.state, 'fleet_migration_devices.state'),
    attempts: row.attempts,
    failedStep: row.failed_step === null ? null : parseMigrationStep(row.failed_step),
    lastError: row.last_error,
    reboundAt: row.rebound_at,
    joinedAt: row.joined_at,
    updatedAt: row.updated_at,
  };
}

/** A device in a migration in any other state may not enter another migration. */
export const RELEASED_STATES_SQL = "('done', 'rolled-back')";

export interface JoinRecordRowValues {
  dev_eui: string;
  join_eui: string;
  at: Date;
  peer: string;
  join_type: string;
  mac_version: string;
  result: string;
  description: string | null;
  dev_nonce: number | null;
  join_nonce: number | null;
}

export const JOIN_RECORD_COLUMNS = 'dev_eui, join_eui, at, peer, join_type, mac_version, result, description, dev_nonce, join_nonce';

export function joinRecordFromRow(row: JoinRecordRowValues): JoinRecord {
  return {
    devEUI: parseEUI64(row.dev_eui, 'device_joins.dev_eui'),
    joinEUI: parseEUI64(row.join_eui, 'device_joins.join_eui'),
    at: row.at,
    peer: row.peer,
    joinType: parseJoinType(row.join_type),
    macVersion: row.mac_version,
    result: row.result,
    description: row.description,
    devNonce: row.dev_nonce === null ? null : Number(row.dev_nonce),
    joinNonce: row.join_nonce === null ? null : Number(row.join_nonce),
  };
}

/** A device search prefix: 1 to 16 hex digits, lower-cased (it is put in SQL as a value, never as text). */
export function euiPrefix(prefix: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(prefix)) throw new TypeError(`EUI prefix must be 1 to 16 hex digits, got ${JSON.stringify(prefix)}`);
  return prefix.toLowerCase();
}

import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { parseMACVersion } from '../../lorawan/mac-version';
import { devNonce, joinNonce } from '../../lorawan/nonces';
import { OPERATOR_TENANT, type TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';
import type { Device, DeviceChange, FirstJoin, NewDevice } from '../device';
import type { DeviceFilter, DeviceListQuery, DeviceRegistry, FirstJoinQuery } from '../ports/device-registry';
import { RETAINED_COLUMNS, retainNoncesSQL } from '../retained-nonces';
import { DeviceExistsError } from '../store-errors';
import { audited } from './audit-log-sql';
import { asBool, asDate, asInt, changedOne, count, firstRow, rows, type SqlDialect, type SqlInt, type SqlRunner, type SqlTime, type Work } from './sql-work';

/**
 * A devices row as either database gives it: times as epoch milliseconds (SQLite) or Dates
 * (PostgreSQL), integers as numbers or BIGINT strings, the used DevNonces as JSON text (SQLite)
 * or an INTEGER[] (PostgreSQL), `locked` as 0/1 or a boolean.
 */
export interface DeviceRow {
  readonly dev_eui: string;
  readonly join_eui: string;
  readonly mac_version: string;
  readonly sealed_root_keys: Buffer;
  readonly vault_kind: string;
  readonly ns_peer: string | null;
  readonly overlap_ns_peer: string | null;
  readonly as_peer: string | null;
  readonly last_dev_nonce: SqlInt | null;
  readonly used_dev_nonces: string | readonly SqlInt[];
  readonly last_join_nonce: SqlInt | null;
  readonly last_rj_count1: SqlInt | null;
  readonly last_rj_count0: SqlInt | null;
  readonly rejoin_window_start: SqlTime | null;
  readonly rejoin_window_count: SqlInt;
  readonly version: SqlInt;
  readonly last_join_at: SqlTime | null;
  readonly last_join_peer: string | null;
  readonly created_at: SqlTime;
  readonly manufacturer_tenant: string;
  readonly owner_tenant: string | null;
  readonly owner_token_hash: string | null;
  readonly profile_id: string;
  readonly locked: number | boolean;
  readonly claimed_at: SqlTime | null;
  readonly activated_at: SqlTime | null;
  readonly activated_tenant: string | null;
}

/** The devices table's columns every read selects. */
export const DEVICE_COLUMNS = `dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, overlap_ns_peer, as_peer,
  last_dev_nonce, used_dev_nonces, last_join_nonce, last_rj_count1, last_rj_count0, rejoin_window_start, rejoin_window_count, version, last_join_at, last_join_peer, created_at,
  manufacturer_tenant, owner_tenant, owner_token_hash, profile_id, locked, claimed_at, activated_at, activated_tenant`;

/** A device row parsed into the branded types: both stores map rows the same way, and a corrupt row fails the same way. */
export function deviceFromRow(row: DeviceRow): Device {
  const int = (v: SqlInt | null, column: string): number | null => asInt(v, `devices.${column}`);
  const used: unknown = typeof row.used_dev_nonces === 'string' ? JSON.parse(row.used_dev_nonces) : row.used_dev_nonces;
  if (!Array.isArray(used)) throw new Error(`device ${row.dev_eui}: used_dev_nonces is not an array`);
  const lastDevNonce = int(row.last_dev_nonce, 'last_dev_nonce');
  const lastJoinNonce = int(row.last_join_nonce, 'last_join_nonce');
  const windowStart = asDate(row.rejoin_window_start);
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
      lastDevNonce: lastDevNonce === null ? null : devNonce(lastDevNonce, 'devices.last_dev_nonce'),
      usedDevNonces: (used as SqlInt[]).map((n) => devNonce(asInt(n, 'devices.used_dev_nonces'), 'devices.used_dev_nonces')),
      lastJoinNonce: lastJoinNonce === null ? null : joinNonce(lastJoinNonce, 'devices.last_join_nonce'),
      lastRJCount1: int(row.last_rj_count1, 'last_rj_count1'),
      lastRJCount0: int(row.last_rj_count0, 'last_rj_count0'),
      rejoinWindow: windowStart === null ? null : { start: windowStart, count: asInt(row.rejoin_window_count, 'devices.rejoin_window_count') },
    },
    version: asInt(row.version, 'devices.version'),
    lastJoinAt: asDate(row.last_join_at),
    lastJoinPeer: row.last_join_peer,
    createdAt: asDate(row.created_at),
    ownership: {
      manufacturer: row.manufacturer_tenant as TenantID,
      owner: row.owner_tenant as TenantID | null,
      ownerTokenHash: row.owner_token_hash,
      profileID: row.profile_id,
      locked: asBool(row.locked),
      claimedAt: asDate(row.claimed_at),
      activatedAt: asDate(row.activated_at),
      activatedTenant: row.activated_tenant as TenantID | null,
    },
  };
}

/** The columns a new device is inserted with, in `newDeviceValues` order. */
export const NEW_DEVICE_COLUMNS = 'dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, as_peer, created_at, manufacturer_tenant, owner_tenant, owner_token_hash, profile_id, claimed_at';

/** A new device's values in NEW_DEVICE_COLUMNS order (the operator's own device when it has no ownership). */
export function newDeviceValues(d: NewDevice, now: Date): unknown[] {
  const o = d.ownership;
  if (o && o.owner === null && (d.nsPeer !== null || d.asPeer !== null)) throw new TypeError(`device ${d.devEUI}: a device that is not claimed cannot be bound`);
  const manufacturer = o ? o.manufacturer : OPERATOR_TENANT;
  const owner = o ? o.owner : OPERATOR_TENANT;
  return [d.devEUI, d.joinEUI, d.macVersion, d.sealedRootKeys, d.vaultKind, d.nsPeer, d.asPeer, now, manufacturer, owner, o ? o.ownerTokenHash : null, o ? o.profileID : '00000000', owner === null ? null : now];
}

/** Throws DeviceExistsError for a DevEUI that comes twice in one batch (before anything is written). */
export function refuseRepeatedDevEUIs(devices: readonly NewDevice[]): void {
  const seen = new Set<string>();
  for (const d of devices) {
    if (seen.has(d.devEUI)) throw new DeviceExistsError(d.devEUI);
    seen.add(d.devEUI);
  }
}

/** A device search prefix: 1 to 16 hex digits, lower-cased (it is put in SQL as a value, never as text). */
export function euiPrefix(prefix: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(prefix)) throw new TypeError(`EUI prefix must be 1 to 16 hex digits, got ${JSON.stringify(prefix)}`);
  return prefix.toLowerCase();
}

/** The WHERE clause of a device filter, with its values: the one place a filter becomes SQL. */
function deviceWhere(dialect: SqlDialect, filter: DeviceFilter): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const where = (sql: string, ...values: unknown[]): void => {
    conditions.push(sql);
    params.push(...values);
  };
  if (filter.nsPeer !== undefined) where('ns_peer = ?', filter.nsPeer);
  if (filter.holder !== undefined) where('(owner_tenant = ? OR (owner_tenant IS NULL AND manufacturer_tenant = ?))', filter.holder, filter.holder);
  if (filter.claimed !== undefined) where(filter.claimed ? 'owner_tenant IS NOT NULL' : 'owner_tenant IS NULL');
  if (filter.bound !== undefined) where(filter.bound ? 'ns_peer IS NOT NULL' : 'ns_peer IS NULL');
  if (filter.macVersion !== undefined) where('mac_version = ?', filter.macVersion);
  if (filter.owner !== undefined) where('owner_tenant = ?', filter.owner);
  if (filter.euiPrefix !== undefined) {
    const p = dialect.euiPrefix(euiPrefix(filter.euiPrefix));
    where(p.sql, ...p.params);
  }
  if (filter.joinNonceAbove !== undefined) where('last_join_nonce > ?', filter.joinNonceAbove);
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

/** DevEUIs per `IN` list: under SQLite's limit of bound parameters. */
const IN_LIST = 500;

/** What each dialect does its own way: the join's device read, and imports. */
export type DeviceImport = Pick<DeviceRegistry, 'getDevice' | 'insertDevices' | 'insertDeviceChunks'>;

/** The device registry, the same SQL on both databases (but the join's read and imports: `DeviceImport`). */
export class SqlDeviceRegistry implements DeviceRegistry {
  constructor(
    private readonly sql: SqlRunner,
    private readonly own: DeviceImport,
  ) {}

  insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    return this.own.insertDevices(devices, audit);
  }

  insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    return this.own.insertDeviceChunks(chunks, audit);
  }

  getDevice(devEUI: EUI64): Promise<Device | null> {
    return this.own.getDevice(devEUI);
  }

  async existingDevEUIs(devEUIs: readonly EUI64[]): Promise<Set<EUI64>> {
    const found = new Set<EUI64>();
    for (let start = 0; start < devEUIs.length; start += IN_LIST) {
      const some = devEUIs.slice(start, start + IN_LIST);
      const set = this.sql.dialect.textSet(some);
      for (const r of await this.sql.run('finding existing devices', rows<{ dev_eui: string }>(`SELECT dev_eui FROM devices WHERE dev_eui IN ${set.sql}`, [set.param]))) found.add(r.dev_eui as EUI64);
    }
    return found;
  }

  async listDevices(query: DeviceListQuery): Promise<Device[]> {
    const where = deviceWhere(this.sql.dialect, query);
    const sql = `SELECT ${DEVICE_COLUMNS} FROM devices ${where.sql} ORDER BY ${this.sql.dialect.text('dev_eui')} LIMIT ? OFFSET ?`;
    return (await this.sql.run('listing devices', rows<DeviceRow>(sql, [...where.params, query.limit, query.offset]))).map(deviceFromRow);
  }

  async countDevices(filter: DeviceFilter = {}): Promise<number> {
    const where = deviceWhere(this.sql.dialect, filter);
    const row = await this.sql.run('counting devices', firstRow<{ n: SqlInt }>(`SELECT COUNT(*) AS n FROM devices ${where.sql}`, where.params));
    return asInt(row?.n ?? 0, 'COUNT(*)');
  }

  changeDevice(c: DeviceChange, audit: AuditEvent): Promise<boolean> {
    const write = (): Work<number> =>
      count(
        `UPDATE devices SET owner_tenant = ?, owner_token_hash = ?, ns_peer = ?, as_peer = ?, locked = ?, claimed_at = ?, version = version + 1
        WHERE dev_eui = ? AND version = ?`,
        [c.owner, c.ownerTokenHash, c.nsPeer, c.asPeer, c.locked, c.claimedAt, c.devEUI, c.expectedVersion],
      );
    return this.sql.transaction('changing a device', () => audited(this.sql.dialect, changedOne(write()), audit));
  }

  deleteDevice(devEUI: EUI64, audit: AuditEvent): Promise<boolean> {
    // The device's nonce state stays behind, by DevEUI and JoinEUI (see retained-nonces.ts).
    const write = function* (): Work<boolean> {
      yield* count(retainNoncesSQL(`SELECT ${RETAINED_COLUMNS} FROM devices WHERE dev_eui = ?`), [devEUI]);
      return (yield* count('DELETE FROM devices WHERE dev_eui = ?', [devEUI])) === 1;
    };
    return this.sql.transaction('deleting a device', () => audited(this.sql.dialect, write(), audit));
  }

  async resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null> {
    const write = (): Work<number> => count(`UPDATE devices SET last_dev_nonce = NULL, used_dev_nonces = ${this.sql.dialect.emptyIntList}, version = version + 1 WHERE dev_eui = ?`, [devEUI]);
    const reset = await this.sql.transaction('resetting DevNonces', () => audited(this.sql.dialect, changedOne(write()), audit));
    return reset ? this.getDevice(devEUI) : null;
  }

  async listFirstJoins(query: FirstJoinQuery): Promise<FirstJoin[]> {
    const params: unknown[] = [query.since];
    let sql = 'SELECT dev_eui, join_eui, activated_tenant, activated_at FROM devices WHERE activated_at >= ?';
    if (query.until !== undefined) {
      sql += ' AND activated_at < ?';
      params.push(query.until);
    }
    if (query.tenantID !== undefined) {
      sql += ' AND activated_tenant = ?';
      params.push(query.tenantID);
    }
    sql += ` ORDER BY activated_at, ${this.sql.dialect.text('dev_eui')}`;
    const found = await this.sql.run('listing first joins', rows<{ dev_eui: string; join_eui: string; activated_tenant: string; activated_at: SqlTime }>(sql, params));
    return found.map((r) => ({ devEUI: parseEUI64(r.dev_eui), joinEUI: parseEUI64(r.join_eui), tenantID: r.activated_tenant as TenantID, activatedAt: asDate(r.activated_at) }));
  }
}

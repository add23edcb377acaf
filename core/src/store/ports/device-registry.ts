import type { EUI64 } from '../../lorawan/identifiers';
import type { MACVersion } from '../../lorawan/mac-version';
import type { TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';
import type { Device, DeviceChange, FirstJoin, NewDevice } from '../device';

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

export interface FirstJoinQuery {
  /** Only devices that first joined while this tenant owned them. */
  readonly tenantID?: TenantID;
  /** First joined at or after. */
  readonly since: Date;
  /** First joined before (default: now and later). */
  readonly until?: Date;
}

/**
 * The device registry: importing, listing, claiming, binding and deleting devices (the admin
 * API, the CLI, claims, usage metering). The join's own read and write are JoinState's.
 */
export interface DeviceRegistry {
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
  /**
   * The operator's way out of a "DevNonce already used" loop: forgets the device's used
   * DevNonces (the counter of 1.0.4/1.1 devices, the set of 1.0.0-1.0.3 devices) and records
   * `audit`, in one transaction. The JoinNonce and RJcount1 are never reset. Returns the device
   * as it now is, or null when there is no such device.
   */
  resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null>;
  /** Devices' first accepted joins (what usage is metered on), oldest first. */
  listFirstJoins(query: FirstJoinQuery): Promise<FirstJoin[]>;
}

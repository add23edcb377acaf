import type { EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';
import type { DevNonce, JoinNonce } from '../lorawan/nonces';
import type { TenantID } from '../tenants/tenant';

/**
 * What the Join Server remembers of a device's nonces. One atomic, durable write changes it
 * for every accepted join, before the join-accept leaves.
 */
export interface NonceState {
  /** Counter devices (1.0.4, 1.1): the last accepted DevNonce; null before the first join. */
  readonly lastDevNonce: DevNonce | null;
  /** Random-nonce devices (1.0.0-1.0.3): DevNonces already used, oldest first, bounded. */
  readonly usedDevNonces: readonly DevNonce[];
  /** The last JoinNonce issued; null before the first join. The next one is this + 1. */
  readonly lastJoinNonce: JoinNonce | null;
  /** 1.1: the last accepted RJcount1 of a rejoin-request type 1. */
  readonly lastRJCount1: number | null;
  /**
   * 1.1: the last accepted RJcount0 of a rejoin-request type 0 or 2 since the device's last
   * join-accept; null when that join-accept answered anything else (the device restarts its
   * RJcount0 at every join-accept it processes).
   */
  readonly lastRJCount0: number | null;
  /** The rejoins accepted in the device's current rate window (`join/rejoin-rate-bound.ts`); null = none yet. */
  readonly rejoinWindow: RejoinWindow | null;
}

/** A window of the rejoin rate bound: when it opened, and how many rejoins it accepted since. */
export interface RejoinWindow {
  readonly start: Date;
  readonly count: number;
}

export const EMPTY_NONCE_STATE: NonceState = {
  lastDevNonce: null,
  usedDevNonces: [],
  lastJoinNonce: null,
  lastRJCount1: null,
  lastRJCount0: null,
  rejoinWindow: null,
};

export interface Device {
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly macVersion: MACVersion;
  /** Root keys sealed by the key vault: never readable here. */
  readonly sealedRootKeys: Buffer;
  /** The vault kind that sealed the root keys. */
  readonly vaultKind: string;
  /** Name of the network server peer the device is bound to (may join through); null = none. */
  readonly nsPeer: string | null;
  /**
   * During an overlap fleet migration: the target network server peer, which may join the
   * device as well as `nsPeer`; null otherwise.
   */
  readonly overlapNsPeer: string | null;
  /** Name of the application server peer that gets the AppSKey; null = none. */
  readonly asPeer: string | null;
  readonly nonces: NonceState;
  /** Incremented by every write: the optimistic-concurrency token of `commitJoin`. */
  readonly version: number;
  readonly lastJoinAt: Date | null;
  /** Name of the network server peer of the last accepted join. */
  readonly lastJoinPeer: string | null;
  readonly createdAt: Date;
  readonly ownership: DeviceOwnership;
}

/**
 * Who a device belongs to. A maker imports it unclaimed (`owner` null, no binding); an owner
 * claims it with its owner token, then binds it to a network server (and application server).
 * Only a claimed device joins, and only through the network server it is bound to.
 */
export interface DeviceOwnership {
  /** The tenant that imported it. */
  readonly manufacturer: TenantID;
  /** The tenant that claimed it; null = not claimed (a pre-provisioned device in stock). */
  readonly owner: TenantID | null;
  /** The owner token, hashed (see claims/owner-token.ts); null = no token (cannot be claimed). */
  readonly ownerTokenHash: string | null;
  /** TR005 ProfileID for the device's QR code. */
  readonly profileID: string;
  /**
   * Locked: the device stays its owner's. Nobody else may claim it, and it is neither transferred
   * nor deleted until its owner unlocks it; its owner may still unclaim it (The Things Stack
   * claims every device locked, and unclaims it when its user deletes it).
   */
  readonly locked: boolean;
  readonly claimedAt: Date | null;
  /** The first accepted join (what usage is metered on), and the owner at that time. */
  readonly activatedAt: Date | null;
  readonly activatedTenant: TenantID | null;
}

export type NewDeviceOwnership = Pick<DeviceOwnership, 'manufacturer' | 'owner' | 'ownerTokenHash' | 'profileID'>;

/**
 * A device to insert. Without `ownership` it is the operator's own device (made, owned and
 * claimed by the operator tenant), as an import through the local CLI with `--ns` makes it.
 * A device that is not claimed has no binding.
 */
export type NewDevice = Pick<Device, 'devEUI' | 'joinEUI' | 'macVersion' | 'sealedRootKeys' | 'vaultKind' | 'nsPeer' | 'asPeer'> & {
  readonly ownership?: NewDeviceOwnership;
};

/**
 * An ownership or binding change of one device, written if and only if the device is still at
 * `expectedVersion` (so it never overwrites a change it did not see), with its audit entry.
 */
export interface DeviceChange {
  readonly devEUI: EUI64;
  readonly expectedVersion: number;
  readonly owner: TenantID | null;
  readonly ownerTokenHash: string | null;
  readonly nsPeer: string | null;
  readonly asPeer: string | null;
  readonly locked: boolean;
  readonly claimedAt: Date | null;
}

/** A device's first accepted join, for usage metering (charged to its owner then). */
export interface FirstJoin {
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly tenantID: TenantID;
  readonly activatedAt: Date;
}

/** What an accepted join writes, if and only if the device is still at `expectedVersion`. */
export interface JoinCommit {
  readonly devEUI: EUI64;
  readonly expectedVersion: number;
  readonly nonces: NonceState;
  readonly joinedAt: Date;
  readonly peer: string;
  /**
   * Whether the device at `expectedVersion` has its activation still to record (see
   * activationRecorded): the commit then records it. When it is recorded, the commit leaves
   * those columns alone, which is the same outcome: the activation is set once and only a
   * join commit sets it, and every change of the owner moves the version, so a commit that
   * lands finds them as they were read. A store may write them anyway (PostgreSQL does: it
   * compares the values, and an unchanged one leaves its indexes alone); SQLite rewrites the
   * index entries of every column it is told to set, changed or not.
   */
  readonly recordsActivation: boolean;
}

/**
 * Whether a device's first accepted join (its activation, metered once) and the owner it was
 * charged to are recorded. Once they are, no later join changes them.
 */
export function activationRecorded(o: DeviceOwnership): boolean {
  return o.activatedAt !== null && o.activatedTenant !== null;
}

/** Whether a network server peer may join the device: its own, or a migration's overlap target. */
export function mayJoinThrough(device: Pick<Device, 'nsPeer' | 'overlapNsPeer'>, peerName: string): boolean {
  return device.nsPeer === peerName || device.overlapNsPeer === peerName;
}

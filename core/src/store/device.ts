import type { EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';
import type { DevNonce, JoinNonce } from '../lorawan/nonces';

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
}

export const EMPTY_NONCE_STATE: NonceState = {
  lastDevNonce: null,
  usedDevNonces: [],
  lastJoinNonce: null,
  lastRJCount1: null,
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
}

export type NewDevice = Pick<Device, 'devEUI' | 'joinEUI' | 'macVersion' | 'sealedRootKeys' | 'vaultKind' | 'nsPeer' | 'asPeer'>;

/** What an accepted join writes, if and only if the device is still at `expectedVersion`. */
export interface JoinCommit {
  readonly devEUI: EUI64;
  readonly expectedVersion: number;
  readonly nonces: NonceState;
  readonly joinedAt: Date;
  readonly peer: string;
}

/** Whether a network server peer may join the device: its own, or a migration's overlap target. */
export function mayJoinThrough(device: Pick<Device, 'nsPeer' | 'overlapNsPeer'>, peerName: string): boolean {
  return device.nsPeer === peerName || device.overlapNsPeer === peerName;
}

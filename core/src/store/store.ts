import type { EUI64 } from '../lorawan/identifiers';
import type { Peer } from '../peers/peer';
import type { PeerSettings } from '../peers/peer-settings';
import type { AuditEvent, AuditQuery } from './audit-event';
import type { Device, JoinCommit, NewDevice } from './device';
import type { SessionRecord } from './session';

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

export interface DeviceListQuery {
  readonly limit: number;
  readonly offset: number;
  /** Only devices bound to this network server peer. */
  readonly nsPeer?: string;
}

/**
 * The storage port. Every implementation (SQLite, PostgreSQL) passes the same conformance
 * suite. Writes are durable when the promise resolves.
 */
export interface Store {
  /** Inserts all devices or none (one transaction); a duplicate DevEUI throws DeviceExistsError. */
  insertDevices(devices: readonly NewDevice[]): Promise<void>;
  getDevice(devEUI: EUI64): Promise<Device | null>;
  listDevices(query: DeviceListQuery): Promise<Device[]>;
  countDevices(): Promise<number>;
  /**
   * The nonce check-and-update: writes the commit's nonce state if, and only if, the device is
   * still at `expectedVersion` (one conditional statement, atomic and durable). Returns false
   * when another join got there first; the caller re-reads and decides again.
   */
  commitJoin(commit: JoinCommit): Promise<boolean>;

  /** Records an issued session and keeps only the newest `keep` of that device. */
  addSession(session: SessionRecord, keep: number): Promise<void>;
  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null>;

  /** Throws PeerExistsError on a duplicate name or certificate fingerprint. */
  insertPeer(peer: Peer): Promise<void>;
  getPeer(name: string): Promise<Peer | null>;
  /** Replaces a peer's settings; false when there is no such peer. */
  updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean>;
  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null>;
  listPeers(): Promise<Peer[]>;

  /**
   * The operator's way out of a "DevNonce already used" loop: forgets the device's used
   * DevNonces (the counter of 1.0.4/1.1 devices, the set of 1.0.0-1.0.3 devices) and records
   * `audit`, in one transaction. The JoinNonce and RJcount1 are never reset. Returns the device
   * as it now is, or null when there is no such device.
   */
  resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null>;
  /** Audit entries, newest first. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;

  /** Store reachable and usable (for readiness). */
  /**
   * Master-key rotation: hands every sealed blob (devices' root keys, peers' KEKs, sessions'
   * AppSKeys) to `reseal`, a batch at a time, and stores what it returns in place of the blob,
   * only if the blob is still the one handed over (a session pruned meanwhile is skipped).
   * Returns how many blobs were replaced.
   */
  resealAll(reseal: Resealer): Promise<number>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

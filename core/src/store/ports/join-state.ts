import type { EUI64 } from '../../lorawan/identifiers';
import type { Device, JoinCommit } from '../device';
import type { SessionRecord } from '../session';

/**
 * What a join reads and writes (the join engine, the AppSKey service): the device with its
 * nonce state, the conditional commit of an accepted join, and the sessions it issues. The hot
 * path: each dialect's SQL here is written and measured by hand.
 */
export interface JoinState {
  /**
   * The device as a join decides on it: possibly a copy kept in memory (a store may keep one,
   * `join-device-cache.ts` says when that is safe), so only the join engine reads it; everything
   * else reads `DeviceRegistry.getDevice`. null = no such device.
   */
  deviceForJoin(devEUI: EUI64): Promise<Device | null>;
  /**
   * The nonce check-and-update: writes the commit's nonce state if, and only if, the device is
   * still at `expectedVersion` (one conditional statement, atomic and durable). Returns false
   * when another join got there first; the caller re-reads and decides again.
   */
  commitJoin(commit: JoinCommit): Promise<boolean>;
  /** Records an issued session and keeps only the newest `keep` of that device. */
  addSession(session: SessionRecord, keep: number): Promise<void>;
  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null>;
}

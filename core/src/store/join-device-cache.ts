import type { EUI64 } from '../lorawan/identifiers';
import { DEFAULT_KEY_CACHE_SIZE } from '../keys/key-vault';
import { LRUCache } from '../keys/lru-cache';
import { activationRecorded, type Device, type JoinCommit } from './device';
import type { JoinState } from './ports/join-state';
import type { SessionRecord } from './session';

/** Devices kept at most: the key vault's default cache size, so at the default a device whose keys are cached is too. */
export const JOIN_DEVICE_CACHE_CAPACITY = DEFAULT_KEY_CACHE_SIZE;

/**
 * The devices the join reads, kept in memory between joins (a JoinState decorator): on SQLite
 * the device read was the largest part of a join's store time (the main connection's page cache
 * is dropped after every batch the commit thread writes, so each read goes back to the file).
 *
 * Why a cached device is safe to join with:
 * - A device this process committed is kept as committed (the commit's nonce state, version + 1),
 *   and a commit that loses (false) or fails drops it: the engine's retry reads it afresh.
 * - Every other write to a device that can change a join's decision before its commit (claim,
 *   binding, lock, removal, DevNonce reset, resealing, a fleet migration's rebinding), by any
 *   process, bumps the devices' change counter (`readChanges`, read at most once per turn of the
 *   event loop); a counter that moved drops every device kept, so such a write is seen from the
 *   next turn on, as without the cache. A write through this store drops them at once (`clear`).
 * - A join commit of another process (a second server on the same file) does not bump the
 *   counter: a device kept from before it has older nonce state, never newer (the nonce state only
 *   grows, but through a DevNonce reset, which bumps). Deciding on older state can only accept
 *   what the newer state refuses, and then the commit, conditional on the version read, loses:
 *   the engine reads again and decides on the state that won. A refusal never comes from a
 *   stale copy, and no answer leaves before its commit.
 * Only devices that exist are kept: an unknown DevEUI is read every time, so a caller cannot
 * fill the cache with DevEUIs of its own choosing. And a device is kept from its second read in
 * a while on (the first only notes its DevEUI): in a registry far larger than the cache (a
 * million devices, a storm where each joins once) nearly every read misses, and keeping each
 * device read, to be evicted unused, cost more (its copy outlives the young generation, and the
 * collector pays for it) than the few reads it saved.
 */
export class CachedJoinState implements JoinState {
  readonly #inner: JoinState;
  readonly #readChanges: () => Promise<number>;
  readonly #devices: LRUCache<EUI64, Device>;
  /** DevEUIs read once and not kept (yet): a second read keeps the device. Emptied when full. */
  readonly #readOnce = new Set<EUI64>();
  readonly #capacity: number;
  /** The change counter the kept devices were read at. */
  #changes: number | null = null;
  /** Bumped by every clear: a read that started before a write does not keep what it read. */
  #generation = 0;

  constructor(inner: JoinState, readChanges: () => Promise<number>, capacity = JOIN_DEVICE_CACHE_CAPACITY) {
    this.#inner = inner;
    this.#readChanges = readChanges;
    this.#devices = new LRUCache(capacity);
    this.#capacity = capacity;
  }

  async deviceForJoin(devEUI: EUI64): Promise<Device | null> {
    const generation = this.#generation;
    const changes = await this.#readChanges();
    if (generation !== this.#generation) return this.#inner.deviceForJoin(devEUI); // written meanwhile: no cache this time
    if (changes !== this.#changes) {
      this.#devices.clear();
      this.#changes = changes;
    }
    const kept = this.#devices.get(devEUI);
    if (kept !== undefined) return kept;
    const device = await this.#inner.deviceForJoin(devEUI);
    if (device !== null && generation === this.#generation && changes === this.#changes) this.#keep(devEUI, device);
    return device;
  }

  async commitJoin(commit: JoinCommit): Promise<boolean> {
    let committed = false;
    try {
      committed = await this.#inner.commitJoin(commit);
      return committed;
    } finally {
      const kept = this.#devices.get(commit.devEUI);
      if (kept !== undefined) {
        if (committed && kept.version === commit.expectedVersion) this.#devices.set(commit.devEUI, asCommitted(kept, commit));
        else this.#devices.delete(commit.devEUI);
      }
    }
  }

  addSession(session: SessionRecord, keep: number): Promise<void> {
    return this.#inner.addSession(session, keep);
  }

  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    return this.#inner.getSession(devEUI, sessionKeyID);
  }

  /** Keeps a device read for the second time in a while (see the class comment). */
  #keep(devEUI: EUI64, device: Device): void {
    if (this.#readOnce.delete(devEUI)) {
      this.#devices.set(devEUI, device);
      return;
    }
    if (this.#readOnce.size >= this.#capacity) this.#readOnce.clear();
    this.#readOnce.add(devEUI);
  }

  /** After a write to devices through this store. */
  clear(): void {
    this.#generation++;
    this.#changes = null;
    this.#devices.clear();
  }
}

/** The device as its join commit wrote it (the commit statements' SET list, in domain terms). */
function asCommitted(device: Device, commit: JoinCommit): Device {
  const o = device.ownership;
  return {
    ...device,
    nonces: commit.nonces,
    version: device.version + 1,
    lastJoinAt: commit.joinedAt,
    lastJoinPeer: commit.peer,
    // The first accepted join is the device's first join, charged to its owner then.
    ownership: activationRecorded(o) ? o : { ...o, activatedAt: o.activatedAt ?? commit.joinedAt, activatedTenant: o.activatedTenant ?? o.owner },
  };
}

import { LRUCache } from '../../keys/lru-cache';
import type { EUI64 } from '../../lorawan/identifiers';
import type { Device } from '../device';

/** Devices kept at most: a 10,000-device fleet whole; of a larger one, those that joined last. */
export const DEVICE_CACHE_CAPACITY = 20_000;

/**
 * The SQLite store's devices as last read or committed, so that a join does not read its device
 * from the file: every batch the commit thread writes makes the main connection's next read
 * start over (its page cache dropped, the pages read again from the WAL), which made
 * `getDevice` 40-50 µs, a tenth of a join's CPU.
 *
 * Why a cached device is never wrong where it matters:
 * - A join's own commit puts the device as the database has it after the UPDATE (its columns
 *   as RETURNING gave them, but for the root keys, which a join does not change).
 * - Any other change of a device, by whoever (this process, the CLI on the same file, another
 *   server process) bumps the devices change counter (triggers: a delete, or an update that
 *   does not issue a JoinNonce: claim, binding, DevNonce reset, resealing, rebinding), which
 *   `readVersion` reads once per turn of the event loop; a changed counter empties the cache.
 * - A join committed by another process does not bump it: the device kept here then has an
 *   older version, so this process's conditional commit fails, which drops the entry, and the
 *   engine reads the device again. Nonce state only grows between resets, so an older copy can
 *   let a replay through to the commit (which refuses it) but never refuses a fresh DevNonce.
 *
 * Unknown devices are never kept.
 */
export class DeviceCache {
  readonly #readVersion: () => Promise<number>;
  readonly #devices: LRUCache<EUI64, Device>;
  #version: number | null = null;
  /** Bumped by every clear: a read that started before a write does not keep what it read. */
  #generation = 0;

  constructor(readVersion: () => Promise<number>, capacity: number = DEVICE_CACHE_CAPACITY) {
    this.#readVersion = readVersion;
    this.#devices = new LRUCache(capacity);
  }

  async get(devEUI: EUI64, read: () => Promise<Device | null>): Promise<Device | null> {
    const generation = this.#generation;
    const version = await this.#readVersion();
    if (generation !== this.#generation) return read();
    if (version !== this.#version) {
      this.#devices.clear();
      this.#version = version;
    }
    const hit = this.#devices.get(devEUI);
    if (hit !== undefined) return hit;
    const device = await read();
    if (device !== null && generation === this.#generation && version === this.#version) this.#keep(device);
    return device;
  }

  /**
   * A join's commit: `after` makes the device as the database now has it from the one kept
   * (a commit changes the nonce columns only; the rest, root keys included, is what was read).
   * A device not kept stays so: the next join reads it.
   */
  committed(devEUI: EUI64, after: (kept: Device) => Device): void {
    const kept = this.#version === null ? undefined : this.#devices.get(devEUI);
    if (kept !== undefined) this.#keep(after(kept));
  }

  /** A commit that did not apply (another writer got there first): read it again next time. */
  forget(devEUI: EUI64): void {
    this.#devices.delete(devEUI);
  }

  /** After any other write to devices through this store. */
  clear(): void {
    this.#generation++;
    this.#version = null;
    this.#devices.clear();
  }

  /** The newest version wins: a read and a commit's answer may arrive in either order. */
  #keep(device: Device): void {
    const kept = this.#devices.get(device.devEUI);
    if (kept === undefined || kept.version <= device.version) this.#devices.set(device.devEUI, device);
  }
}

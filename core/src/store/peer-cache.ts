import { LRUCache } from '../keys/lru-cache';
import type { Peer } from '../peers/peer';

/** Peers cached at most (by name and by fingerprint, each): more than any deployment registers. */
const PEER_CACHE_CAPACITY = 4_096;

/**
 * The store's peers, kept in memory between requests: every Backend Interfaces request looks
 * its caller up by certificate fingerprint (or by name), and reading and mapping that row was
 * 5-9% of the server's CPU under load.
 *
 * What is kept is checked against the peers' change counter (bumped with every write to
 * `peers`, whoever writes; `readVersion` reads it through the store's ChangeWatch, once per
 * turn of the event loop): a peer changed by another process (the CLI on the same SQLite file,
 * another instance on the same PostgreSQL database) is seen from the next turn on, as before
 * the cache. A write through the same store also clears it at once.
 *
 * Only peers that exist are kept: an unknown name or fingerprint is read every time, so a
 * caller cannot fill the cache with names of its own choosing.
 */
export class PeerCache {
  readonly #readVersion: () => Promise<number>;
  readonly #byName = new LRUCache<string, Peer>(PEER_CACHE_CAPACITY);
  readonly #byFingerprint = new LRUCache<string, Peer>(PEER_CACHE_CAPACITY);
  /** The change counter the cached peers were read at. */
  #version: number | null = null;
  /** Bumped by every clear: a read that started before a write does not keep what it read. */
  #generation = 0;

  constructor(readVersion: () => Promise<number>) {
    this.#readVersion = readVersion;
  }

  byName(name: string, read: () => Promise<Peer | null>): Promise<Peer | null> {
    return this.#get(this.#byName, name, read);
  }

  byFingerprint(certFingerprint: string, read: () => Promise<Peer | null>): Promise<Peer | null> {
    return this.#get(this.#byFingerprint, certFingerprint, read);
  }

  /** After a write to peers through this store. */
  clear(): void {
    this.#generation++;
    this.#version = null;
    this.#byName.clear();
    this.#byFingerprint.clear();
  }

  async #get(cache: LRUCache<string, Peer>, key: string, read: () => Promise<Peer | null>): Promise<Peer | null> {
    const generation = this.#generation;
    const version = await this.#readVersion();
    if (generation !== this.#generation) return read(); // written meanwhile: no cache this time
    if (version !== this.#version) {
      this.#byName.clear();
      this.#byFingerprint.clear();
      this.#version = version;
    }
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const peer = await read();
    if (peer !== null && generation === this.#generation && version === this.#version) {
      // Both ways of finding it, so the next request by either is a hit.
      this.#byName.set(peer.name, peer);
      for (const c of peer.certificates) this.#byFingerprint.set(c.fingerprint, peer);
    }
    return peer;
  }
}

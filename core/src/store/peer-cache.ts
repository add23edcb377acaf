import { LRUCache } from '../keys/lru-cache';
import type { Peer } from '../peers/peer';
import type { PeerSettings } from '../peers/peer-settings';
import type { TenantID } from '../tenants/tenant';
import type { AuditEvent } from './audit-event';
import type { PeerChange, PeerDeletion, PeerRegistry, PeerUsage } from './ports/peer-registry';

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

/**
 * A PeerRegistry with the PeerCache in front of its two lookups: the one decorator both stores
 * put around their peers. Every write through it clears the cache (whether it wrote or threw);
 * `clear()` is for the store's other writes to peers (resealing their KEKs).
 */
export class CachedPeerRegistry implements PeerRegistry {
  readonly #inner: PeerRegistry;
  readonly #cache: PeerCache;

  /** `readVersion`: the peers' change counter (through the store's ChangeWatch). */
  constructor(inner: PeerRegistry, readVersion: () => Promise<number>) {
    this.#inner = inner;
    this.#cache = new PeerCache(readVersion);
  }

  getPeer(name: string): Promise<Peer | null> {
    return this.#cache.byName(name, () => this.#inner.getPeer(name));
  }

  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    return this.#cache.byFingerprint(certFingerprint, () => this.#inner.getPeerByFingerprint(certFingerprint));
  }

  insertPeer(peer: Peer, audit?: AuditEvent): Promise<void> {
    return this.#writing(() => this.#inner.insertPeer(peer, audit));
  }

  updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    return this.#writing(() => this.#inner.updatePeerSettings(name, settings));
  }

  updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean> {
    return this.#writing(() => this.#inner.updatePeer(name, change, audit));
  }

  deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion> {
    return this.#writing(() => this.#inner.deletePeer(name, unbindDevices, audit));
  }

  peerUsage(): Promise<Map<string, PeerUsage>> {
    return this.#inner.peerUsage();
  }

  peerJoinResults(name: string, since: Date): Promise<Record<string, number>> {
    return this.#inner.peerJoinResults(name, since);
  }

  listPeers(tenantID?: TenantID): Promise<Peer[]> {
    return this.#inner.listPeers(tenantID);
  }

  /** After a write to peers that did not go through this registry. */
  clear(): void {
    this.#cache.clear();
  }

  async #writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#cache.clear();
    }
  }
}

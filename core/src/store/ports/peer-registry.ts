import type { Peer, PeerCertificate, PeerState } from '../../peers/peer';
import type { PeerSettings } from '../../peers/peer-settings';
import type { TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';

/** What `updatePeer` changes (absent fields are kept). */
export interface PeerChange {
  readonly state?: PeerState;
  /** The whole certificate set; its new fingerprints identify the peer from then on. */
  readonly certificates?: readonly PeerCertificate[];
  /** The current certificate (one of `certificates`). */
  readonly certFingerprint?: string;
  readonly kek?: { readonly label: string; readonly sealedKEK: Buffer };
}

export type PeerDeletion = { readonly kind: 'deleted'; readonly unbound: number } | { readonly kind: 'not-found' } | { readonly kind: 'bound'; readonly devices: number };

export interface PeerUsage {
  readonly boundDevices: number;
  readonly lastJoinAt: Date | null;
}

/**
 * The network and application servers Joinery talks to (peer commands and routes; the Backend
 * Interfaces listener looks its caller up by name or certificate on every request).
 */
export interface PeerRegistry {
  /** Throws PeerExistsError on a duplicate name or certificate fingerprint. Audited when given an entry. */
  insertPeer(peer: Peer, audit?: AuditEvent): Promise<void>;
  getPeer(name: string): Promise<Peer | null>;
  /** Replaces a peer's settings; false when there is no such peer. */
  updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean>;
  /** The peer one of whose certificates (current, overlapping or retired) has this fingerprint. */
  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null>;
  /**
   * Writes a peer's lifecycle change with its audit entry, in one transaction; other processes'
   * caches see it from their next turn on. False when there is no such peer.
   */
  updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean>;
  /**
   * Deletes a peer (its certificates are refused from then on) with its audit entry. Refused,
   * writing nothing, while devices are bound to it (as network server, overlap network server or
   * application server), unless `unbindDevices`: then their bindings to it are removed in the
   * same transaction.
   */
  deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion>;
  /** For every peer with bound devices or joins: how many devices are bound to it, and its last accepted join. */
  peerUsage(): Promise<Map<string, PeerUsage>>;
  /**
   * The joins through a peer at or after `since`, by BI result code, from the join history (so
   * only of devices Joinery knows, and as many as each device's history keeps).
   */
  peerJoinResults(name: string, since: Date): Promise<Record<string, number>>;
  /** By name; only the tenant's when given. */
  listPeers(tenantID?: TenantID): Promise<Peer[]>;
}

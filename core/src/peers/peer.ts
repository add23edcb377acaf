import type { EUI64, NetID } from '../lorawan/identifiers';
import type { TenantID } from '../tenants/tenant';
import type { PeerSettings } from './peer-settings';
import type { Vendor } from './vendor';

/**
 * A peer is a server that talks to the Join Server over the Backend Interfaces: a network
 * server (JoinReq, RejoinReq, HomeNSReq) or an application server (AppSKeyReq). It is
 * identified by the client certificate Joinery's CA issued to it (SHA-256 fingerprint of the
 * DER certificate), and holds a KEK under which its session keys are wrapped.
 */
interface PeerBase {
  /** Unique, operator-chosen: `[a-z0-9][a-z0-9-]{0,62}`. */
  readonly name: string;
  /** SHA-256 of the current client certificate's DER, lower-case hex (one of `certificates`). */
  readonly certFingerprint: string;
  /**
   * Every client certificate issued to it that is not forgotten: the current one, earlier ones
   * still accepted during a renewal's overlap, and retired (revoked) ones, refused.
   */
  readonly certificates: readonly PeerCertificate[];
  /** A disabled peer is refused (`UnknownSender`); its devices keep their binding. */
  readonly state: PeerState;
  /** KEK label, as the peer's own key table names it (ChirpStack: `[[keks]] label`). */
  readonly kekLabel: string;
  /** The KEK, sealed by the key vault (context `kek:<name>`). */
  readonly sealedKEK: Buffer;
  /** Asynchronous answers, Authorization-header identification. */
  readonly settings: PeerSettings;
  /** The tenant that registered it (the operator's for `ns add` / `as add` on the local CLI). */
  readonly tenantID: TenantID;
  readonly createdAt: Date;
}

export interface NetworkServerPeer extends PeerBase {
  readonly kind: 'ns';
  readonly netID: NetID;
  /** NSID (BI 1.1 `SenderNSID`), when the network server has one. */
  readonly nsID: EUI64 | null;
  readonly vendor: Vendor;
}

export interface ApplicationServerPeer extends PeerBase {
  readonly kind: 'as';
  /** AS-ID as the application server sends it in `SenderID` (a string, often a host name). */
  readonly asID: string;
}

export type PeerState = 'enabled' | 'disabled';
export const PEER_STATES: readonly PeerState[] = ['enabled', 'disabled'];

/** A client certificate of a peer, as the store keeps it (never its private key, which only the bundle holds). */
export interface PeerCertificate {
  /** SHA-256 of the certificate's DER, lower-case hex. */
  readonly fingerprint: string;
  readonly issuedAt: Date;
  /** The certificate's notAfter; null when unknown (registered before Joinery kept it). */
  readonly notAfter: Date | null;
  /** Refused from this instant on (retired or revoked); null: accepted while the peer is enabled. */
  readonly retiresAt: Date | null;
}

export type Peer = NetworkServerPeer | ApplicationServerPeer;

export const PEER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

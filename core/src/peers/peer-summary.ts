import type { PeerRegistry, PeerUsage } from '../store/ports/peer-registry';
import type { Peer, PeerCertificate, PeerState } from './peer';

/** Where a certificate stands: the current one, an earlier one still accepted, or refused. */
export type CertificateStatus = 'current' | 'accepted' | 'retired';

export interface CertificateSummary {
  readonly fingerprint: string;
  readonly status: CertificateStatus;
  readonly issuedAt: string;
  readonly notAfter: string | null;
  readonly retiresAt: string | null;
}

/**
 * What `ns list` / `ns show` (and the admin API) tell of a peer: never its KEK, nor the
 * Authorization secret (only whether one is set), nor the management API key.
 */
export interface PeerSummary {
  readonly name: string;
  readonly kind: Peer['kind'];
  readonly tenant: string;
  readonly vendor: string | null;
  readonly netID: string | null;
  readonly nsID: string | null;
  readonly asID: string | null;
  readonly state: PeerState;
  readonly kekLabel: string;
  /** The current certificate's notAfter (null: unknown, a peer registered before it was kept). */
  readonly certificateExpiry: string | null;
  readonly certificates: readonly CertificateSummary[];
  readonly boundDevices: number;
  readonly lastJoinAt: string | null;
  readonly asyncAnswerURL: string | null;
  readonly authorizationHeaderSet: boolean;
  readonly managementAPIURL: string | null;
  readonly createdAt: string;
  /** Its joins over the last day by BI result code, from the join history (in a summary of one peer only). */
  readonly recentJoinResults?: Readonly<Record<string, number>>;
}

/** How far back a peer's summary counts its joins by result. */
export const RECENT_JOINS_MS = 24 * 60 * 60 * 1000;

export function certificateStatus(peer: Peer, c: PeerCertificate, now: Date): CertificateStatus {
  if (c.retiresAt !== null && c.retiresAt <= now) return 'retired';
  return c.fingerprint === peer.certFingerprint ? 'current' : 'accepted';
}

export function peerSummary(peer: Peer, usage: PeerUsage | undefined, now = new Date(), recentJoinResults?: Readonly<Record<string, number>>): PeerSummary {
  const current = peer.certificates.find((c) => c.fingerprint === peer.certFingerprint);
  return {
    name: peer.name,
    kind: peer.kind,
    tenant: peer.tenantID,
    vendor: peer.kind === 'ns' ? peer.vendor : null,
    netID: peer.kind === 'ns' ? peer.netID : null,
    nsID: peer.kind === 'ns' ? peer.nsID : null,
    asID: peer.kind === 'as' ? peer.asID : null,
    state: peer.state,
    kekLabel: peer.kekLabel,
    certificateExpiry: current?.notAfter?.toISOString() ?? null,
    certificates: peer.certificates.map((c) => ({
      fingerprint: c.fingerprint,
      status: certificateStatus(peer, c, now),
      issuedAt: c.issuedAt.toISOString(),
      notAfter: c.notAfter?.toISOString() ?? null,
      retiresAt: c.retiresAt?.toISOString() ?? null,
    })),
    boundDevices: usage?.boundDevices ?? 0,
    lastJoinAt: usage?.lastJoinAt?.toISOString() ?? null,
    asyncAnswerURL: peer.settings.asyncAnswers?.url ?? null,
    authorizationHeaderSet: peer.settings.authorizationSHA256 !== null,
    managementAPIURL: peer.settings.adapter?.apiUrl ?? null,
    createdAt: peer.createdAt.toISOString(),
    ...(recentJoinResults ? { recentJoinResults } : {}),
  };
}

/** The summary of one peer, with its joins of the last day by result. */
export async function fullPeerSummary(store: PeerRegistry, peer: Peer, now = new Date()): Promise<PeerSummary> {
  const [usage, results] = await Promise.all([store.peerUsage(), store.peerJoinResults(peer.name, new Date(now.getTime() - RECENT_JOINS_MS))]);
  return peerSummary(peer, usage.get(peer.name), now, results);
}

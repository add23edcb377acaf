import type { Peer, PeerCertificate } from './peer';

/** A peer's certificate set when it is registered: one certificate, current. */
export function firstCertificate(fingerprint: string, issuedAt: Date, notAfter: Date | null): PeerCertificate[] {
  return [{ fingerprint, issuedAt, notAfter, retiresAt: null }];
}

/** Whether the certificate of this fingerprint may identify the peer at `now`. */
export function certificateAccepted(peer: Peer, fingerprint: string, now: Date): boolean {
  const cert = peer.certificates.find((c) => c.fingerprint === fingerprint);
  return cert !== undefined && (cert.retiresAt === null || now < cert.retiresAt);
}

/** The peer's current certificate (the newest, the one `certFingerprint` names). */
export function currentCertificate(peer: Peer): PeerCertificate | null {
  return peer.certificates.find((c) => c.fingerprint === peer.certFingerprint) ?? null;
}

/**
 * The certificate set after a renewal: `added` becomes current; every other certificate still
 * accepted is retired at `retireOthersAt` (now: at once; later: an overlap), or kept accepted
 * until retired explicitly when null.
 */
export function withRenewedCertificate(peer: Peer, added: PeerCertificate, retireOthersAt: Date | null): PeerCertificate[] {
  return [...peer.certificates.map((c) => (retireOthersAt === null ? c : retireAt(c, retireOthersAt))), added];
}

/** The certificate set with every certificate but the current one (or only `fingerprint`) refused from `at` on. */
export function withRetiredCertificates(peer: Peer, at: Date, fingerprint?: string): PeerCertificate[] {
  return peer.certificates.map((c) => (c.fingerprint === peer.certFingerprint || (fingerprint !== undefined && c.fingerprint !== fingerprint) ? c : retireAt(c, at)));
}

function retireAt(c: PeerCertificate, at: Date): PeerCertificate {
  return c.retiresAt !== null && c.retiresAt <= at ? c : { ...c, retiresAt: at };
}

/** The certificates' JSON column, and back (dates as ISO strings). */
export function serializePeerCertificates(certs: readonly PeerCertificate[]): string {
  return JSON.stringify(certs.map((c) => ({ fingerprint: c.fingerprint, issuedAt: c.issuedAt.toISOString(), notAfter: c.notAfter?.toISOString() ?? null, retiresAt: c.retiresAt?.toISOString() ?? null })));
}

export function parsePeerCertificates(json: string, peerName: string): PeerCertificate[] {
  const raw = JSON.parse(json) as unknown;
  if (!Array.isArray(raw)) throw new Error(`peer ${peerName}: certificates is not a list`);
  const date = (v: unknown, field: string): Date | null => {
    if (v === null) return null;
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new Error(`peer ${peerName}: certificate ${field} is not a date`);
    return new Date(v);
  };
  return raw.map((c: { fingerprint?: unknown; issuedAt?: unknown; notAfter?: unknown; retiresAt?: unknown }) => {
    if (typeof c.fingerprint !== 'string') throw new Error(`peer ${peerName}: certificate without fingerprint`);
    return { fingerprint: c.fingerprint, issuedAt: date(c.issuedAt, 'issuedAt') ?? new Date(0), notAfter: date(c.notAfter ?? null, 'notAfter'), retiresAt: date(c.retiresAt ?? null, 'retiresAt') };
  });
}

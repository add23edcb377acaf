import { createHash, timingSafeEqual } from 'node:crypto';
import type { Peer } from '../peers/peer';
import { certificateAccepted } from '../peers/peer-certificates';
import type { Store } from '../store/store';

/** Who is asking, as the transport established it. */
export interface Caller {
  /**
   * SHA-256 of the client certificate's DER: the TLS client certificate (verified against
   * Joinery's CA), or the one a trusted TLS-terminating proxy forwarded. Null: none.
   */
  readonly certFingerprint: string | null;
  /** The peer named by the path (`/bi/<peer-name>`); null on the shared endpoint. */
  readonly pathPeer: string | null;
  /** The `Authorization` header as received. */
  readonly authorization: string | undefined;
}

export type CallerResolution =
  | { readonly kind: 'peer'; readonly peer: Peer }
  /** The transport identified nobody we know: a BI answer `UnknownSender`. */
  | { readonly kind: 'unknown'; readonly reason: string }
  /**
   * No credential at all, or a wrong secret: refused at the HTTP level, 401. `reason` is what
   * the caller is told: on `/bi/<name>` the same whether or not a peer of that name exists.
   * `detail` is for the log only.
   */
  | { readonly kind: 'unauthenticated'; readonly cause: UnauthenticatedCause; readonly reason: string; readonly detail: string };

/** Why a caller is refused with 401: no credential at all, or a header secret that does not match. */
export type UnauthenticatedCause = 'no client certificate' | 'bad or missing header secret';

/** What a caller of `/bi/<name>` is told whatever is wrong: it never says whether the peer exists. */
function badSecret(pathPeer: string, detail: string): CallerResolution {
  return { kind: 'unauthenticated', cause: 'bad or missing header secret', reason: `missing or wrong Authorization header for /bi/${pathPeer}`, detail: `/bi/${pathPeer.slice(0, 100)}: ${detail}` };
}

export function authorizationDigest(headerValue: string): string {
  return createHash('sha256').update(headerValue, 'utf8').digest('hex');
}

function authorizationMatches(peer: Peer, header: string | undefined): boolean {
  const expected = peer.settings.authorizationSHA256;
  if (expected === null) return true;
  if (header === undefined) return false;
  return timingSafeEqual(Buffer.from(authorizationDigest(header), 'hex'), Buffer.from(expected, 'hex'));
}

/**
 * Identifies the peer behind a request:
 * - a client certificate identifies its peer; on `/bi/<name>` it must be that peer's;
 * - without one, `/bi/<name>` identifies the peer by its Authorization header secret;
 * - a peer configured with an Authorization secret must send it in every case (the second
 *   factor besides its certificate);
 * - a disabled peer, or a certificate retired (after a renewal's overlap, or revoked), is
 *   `UnknownSender`, once the caller has proven who it is.
 */
export async function resolveCaller(store: Store, caller: Caller, now = new Date()): Promise<CallerResolution> {
  if (caller.pathPeer !== null) {
    const peer = await store.getPeer(caller.pathPeer);
    if (!peer) {
      return caller.certFingerprint === null ? badSecret(caller.pathPeer, 'no such peer') : { kind: 'unknown', reason: `no peer named ${caller.pathPeer}` };
    }
    if (caller.certFingerprint !== null && !peer.certificates.some((c) => c.fingerprint === caller.certFingerprint)) {
      return { kind: 'unknown', reason: `the client certificate is not the one of ${peer.name} (the path /bi/${peer.name} names it)` };
    }
    if (caller.certFingerprint === null && peer.settings.authorizationSHA256 === null) {
      return badSecret(peer.name, 'the peer has no Authorization secret: it must present its client certificate');
    }
    if (!authorizationMatches(peer, caller.authorization)) return badSecret(peer.name, 'missing or wrong Authorization header');
    return usable(peer, caller.certFingerprint, now);
  }
  if (caller.certFingerprint === null) {
    const reason = 'a client certificate issued by the Join Server is required (or a per-peer endpoint /bi/<name> with its Authorization header)';
    return { kind: 'unauthenticated', cause: 'no client certificate', reason, detail: 'no client certificate on the shared endpoint' };
  }
  const peer = await store.getPeerByFingerprint(caller.certFingerprint);
  if (!peer) return { kind: 'unknown', reason: 'the client certificate does not belong to a registered peer' };
  if (!authorizationMatches(peer, caller.authorization)) {
    const reason = `missing or wrong Authorization header for ${peer.name}`;
    return { kind: 'unauthenticated', cause: 'bad or missing header secret', reason, detail: `the client certificate is ${peer.name}'s` };
  }
  return usable(peer, caller.certFingerprint, now);
}

/** An identified peer is refused while disabled, and when its certificate is retired. */
function usable(peer: Peer, certFingerprint: string | null, now: Date): CallerResolution {
  if (peer.state !== 'enabled') return { kind: 'unknown', reason: `${peer.name} is disabled` };
  if (certFingerprint !== null && !certificateAccepted(peer, certFingerprint, now)) {
    return { kind: 'unknown', reason: `the client certificate of ${peer.name} was retired (renewed or revoked)` };
  }
  return { kind: 'peer', peer };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Peer } from '../peers/peer';
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
  /** No credential at all (or a wrong secret): refused at the HTTP level, 401. */
  | { readonly kind: 'unauthenticated'; readonly reason: string };

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
 *   factor besides its certificate).
 */
export async function resolveCaller(store: Store, caller: Caller): Promise<CallerResolution> {
  if (caller.pathPeer !== null) {
    const peer = await store.getPeer(caller.pathPeer);
    if (!peer) {
      return caller.certFingerprint === null
        ? { kind: 'unauthenticated', reason: `no peer named ${caller.pathPeer}` }
        : { kind: 'unknown', reason: `no peer named ${caller.pathPeer}` };
    }
    if (caller.certFingerprint !== null && caller.certFingerprint !== peer.certFingerprint) {
      return { kind: 'unknown', reason: `the client certificate is not the one of ${peer.name} (the path /bi/${peer.name} names it)` };
    }
    if (caller.certFingerprint === null && peer.settings.authorizationSHA256 === null) {
      return { kind: 'unauthenticated', reason: `${peer.name} has no Authorization secret: it must present its client certificate` };
    }
    if (!authorizationMatches(peer, caller.authorization)) {
      return { kind: 'unauthenticated', reason: `missing or wrong Authorization header for ${peer.name}` };
    }
    return { kind: 'peer', peer };
  }
  if (caller.certFingerprint === null) {
    return { kind: 'unauthenticated', reason: 'a client certificate issued by the Join Server is required (or a per-peer endpoint /bi/<name> with its Authorization header)' };
  }
  const peer = await store.getPeerByFingerprint(caller.certFingerprint);
  if (!peer) return { kind: 'unknown', reason: 'the client certificate does not belong to a registered peer' };
  if (!authorizationMatches(peer, caller.authorization)) {
    return { kind: 'unauthenticated', reason: `missing or wrong Authorization header for ${peer.name}` };
  }
  return { kind: 'peer', peer };
}

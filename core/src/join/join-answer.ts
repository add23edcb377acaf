import type { DevNonce, JoinNonce } from '../lorawan/nonces';
import type { KeyEnvelope } from './key-envelope';

/** The network session keys of an accepted join, wrapped for the network server. */
export type NetworkKeys =
  | { readonly kind: 'legacy'; readonly nwkSKey: KeyEnvelope }
  /** A 1.1 device answered with OptNeg: three keys. */
  | { readonly kind: '1.1'; readonly fNwkSIntKey: KeyEnvelope; readonly sNwkSIntKey: KeyEnvelope; readonly nwkSEncKey: KeyEnvelope };

export interface JoinAnswer {
  readonly ok: true;
  /** The encrypted join-accept. */
  readonly phyPayload: Buffer;
  readonly networkKeys: NetworkKeys;
  /**
   * Also send the 1.0-mode NwkSKey as the three 1.1 key fields: a network server that thinks
   * the device is 1.1 reads those, while the device was answered without OptNeg.
   */
  readonly legacyKeysAs11: boolean;
  readonly appSKey: KeyEnvelope;
  /** Present when the application server can fetch the AppSKey later (AppSKeyReq). */
  readonly sessionKeyID: string | undefined;
  readonly joinNonce: JoinNonce;
  readonly devNonce: DevNonce;
  readonly optNeg: boolean;
}

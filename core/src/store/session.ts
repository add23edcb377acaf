import type { EUI64 } from '../lorawan/identifiers';
import type { JoinNonce } from '../lorawan/nonces';

/**
 * A session the Join Server issued, kept so the application server can fetch its AppSKey
 * later (`AppSKeyReq` with the `SessionKeyID`). A bounded history per device.
 */
export interface SessionRecord {
  readonly devEUI: EUI64;
  /** 16 random bytes, lower-case hex. */
  readonly sessionKeyID: string;
  readonly joinNonce: JoinNonce;
  /** The network server the join came through. */
  readonly nsPeer: string;
  /** The application server allowed to fetch the AppSKey; null = none. */
  readonly asPeer: string | null;
  /** The AppSKey, sealed by the key vault (context `appskey:<devEUI>:<sessionKeyID>`). */
  readonly sealedAppSKey: Buffer;
  readonly createdAt: Date;
}

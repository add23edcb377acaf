import type { Vendor } from './vendor';

/**
 * How a vendor's network server must be answered, where vendors differ (vendors.md, "What each
 * network server does with our JoinAns"). Adapters may refine this later; this table is the
 * core's default.
 */
export interface VendorDialect {
  /**
   * The AppSKey of a device with no application server of its own:
   * - `clear`: a plaintext KeyEnvelope (ChirpStack stores the AppSKey as received and never
   *   unwraps it; a wrapped one, or a SessionKeyID, switches the device to end-to-end mode and
   *   ChirpStack stops decrypting payloads);
   * - `wrapped-ns-kek`: wrapped under the network server's KEK (its application server shares
   *   the key table, as The Things Stack's `key-vault.static` does).
   */
  readonly appSKeyWithoutAS: 'clear' | 'wrapped-ns-kek';
  /**
   * `always`: every JoinAns carries a SessionKeyID (The Things Stack replaces a missing one by a
   * local id and its AS then never asks for the AppSKey); `end-to-end`: only when the AppSKey
   * goes to the device's own application server.
   */
  readonly sessionKeyID: 'always' | 'end-to-end';
}

const CHIRPSTACK: VendorDialect = { appSKeyWithoutAS: 'clear', sessionKeyID: 'end-to-end' };
const DEFAULT: VendorDialect = { appSKeyWithoutAS: 'wrapped-ns-kek', sessionKeyID: 'always' };

export function dialectOf(vendor: Vendor): VendorDialect {
  return vendor === 'chirpstack' ? CHIRPSTACK : DEFAULT;
}

import type { Vendor } from './vendor';

/**
 * How each vendor's network server must be answered, where vendors differ: one entry per
 * vendor, in this one table (sources: shared/docs/vendors.md, "What each network server does
 * with our JoinAns"). What they SEND needs no entry: the Backend Interfaces parser accepts every
 * vendor's spelling on one listener (hex case, `0x`, MACVersion spellings, TransactionID 0,
 * `VSExtension`, misspelt result codes). Adapters may refine an entry for their vendor later.
 */
export interface VendorDialect {
  /**
   * The AppSKey of a device with no application server of its own:
   * - `clear`: a plaintext KeyEnvelope;
   * - `wrapped-ns-kek`: wrapped under the network server's KEK (its application server shares
   *   the key table, as The Things Stack's `key-vault.static` does).
   * A device bound to an application server always gets its AppSKey wrapped under that
   * server's KEK, with a SessionKeyID: end-to-end is the owner's choice.
   */
  readonly appSKeyWithoutAS: 'clear' | 'wrapped-ns-kek';
  /**
   * `always`: every JoinAns carries a SessionKeyID; `end-to-end`: only when the AppSKey goes to
   * the device's own application server.
   */
  readonly sessionKeyID: 'always' | 'end-to-end';
  /**
   * A device the network server declared 1.1 but that was answered without OptNeg (1.0 mode):
   * also send FNwkSIntKey, SNwkSIntKey and NwkSEncKey, each equal to NwkSKey, for a network
   * server that reads only the 1.1 fields for a 1.1 device.
   */
  readonly legacyKeysAs11: boolean;
  /** Why: the vendor behaviour this entry answers to. */
  readonly notes: string;
}

export const VENDOR_DIALECTS: Readonly<Record<Vendor, VendorDialect>> = {
  chirpstack: {
    appSKeyWithoutAS: 'clear',
    sessionKeyID: 'end-to-end',
    legacyKeysAs11: true,
    notes:
      'ChirpStack stores the AppSKey as received and never unwraps it: a wrapped AppSKey or any ' +
      'SessionKeyID switches the device to end-to-end mode and ChirpStack stops decrypting payloads. ' +
      'For 1.1 it needs all three network keys (a missing one crashes its session code); NwkSKey fills all three.',
  },
  'the-things-stack': {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    notes:
      'A missing SessionKeyID is replaced by a local id and the AS then never asks for the AppSKey: always send one. ' +
      'Below 1.1 it reads NwkSKey, for 1.1 the three network keys; every KEK label must be in its key-vault.static.',
  },
  actility: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    notes: 'No public description of its JoinAns handling: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  loriot: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    notes: 'No public description of its JoinAns handling: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  orbiwise: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    notes: 'Its REST documentation cites BI 1.0 only: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  generic: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    notes: 'Any other TS002 network server: keys wrapped under its KEK, a SessionKeyID so its AS can fetch the AppSKey.',
  },
};

export function dialectOf(vendor: Vendor): VendorDialect {
  return VENDOR_DIALECTS[vendor];
}

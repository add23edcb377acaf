import { ParseError } from '../lorawan/parse-error';
import type { Vendor } from './vendor';

/**
 * How each vendor's network server must be answered, where vendors differ: one entry per
 * vendor, in this one table (each entry's `notes` say which vendor behaviour it answers to;
 * docs/network-servers.md says it for operators). What they SEND needs no entry: the Backend Interfaces parser accepts every
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
  /**
   * Whether its Backend Interfaces client takes asynchronous answers (TS002: an empty HTTP 200
   * at once, the answer POSTed later to the network server's own listener). A client that reads
   * the answer from the HTTP response fails every join in asynchronous mode.
   */
  readonly asyncAnswers: boolean;
  /**
   * Its setup file configures the listener that receives asynchronous answers with certificate
   * files: the bundle carries a server certificate for it, issued by Joinery's CA (which Joinery
   * then trusts for that listener), unless the operator gives the CA of their own.
   */
  readonly asyncListenerInBundle: boolean;
  /** The KEK labels its configuration can name, and why; null: any non-empty label. */
  readonly kekLabel: { readonly pattern: RegExp; readonly rule: string } | null;
  /** Why: the vendor behaviour this entry answers to. */
  readonly notes: string;
}

export const VENDOR_DIALECTS: Readonly<Record<Vendor, VendorDialect>> = {
  chirpstack: {
    appSKeyWithoutAS: 'clear',
    sessionKeyID: 'end-to-end',
    legacyKeysAs11: true,
    asyncAnswers: true,
    asyncListenerInBundle: true,
    kekLabel: null,
    notes:
      'With async_timeout above zero ChirpStack takes an empty 200 and waits for the answer on its [backend_interfaces] listener. ' +
      'ChirpStack stores the AppSKey as received and never unwraps it: a wrapped AppSKey or any ' +
      'SessionKeyID switches the device to end-to-end mode and ChirpStack stops decrypting payloads. ' +
      'For 1.1 it needs all three network keys (a missing one crashes its session code); NwkSKey fills all three.',
  },
  'the-things-stack': {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    asyncAnswers: false,
    asyncListenerInBundle: false,
    kekLabel: { pattern: /^[^A-Z.]+$/, rule: 'its configuration loader lower-cases keys and splits them on "."' },
    notes:
      'Its interop client is synchronous: it reads the answer from the HTTP response. ' +
      'KEK labels are keys of its key-vault.static map, which its configuration loader lower-cases and splits on ".". ' +
      'A missing SessionKeyID is replaced by a local id and the AS then never asks for the AppSKey: always send one. ' +
      'Below 1.1 it reads NwkSKey, for 1.1 the three network keys; every KEK label must be in its key-vault.static.',
  },
  actility: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    asyncAnswers: true,
    asyncListenerInBundle: false,
    kekLabel: null,
    notes: 'No public description of its JoinAns handling: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  loriot: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    asyncAnswers: true,
    asyncListenerInBundle: false,
    kekLabel: null,
    notes: 'No public description of its JoinAns handling: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  orbiwise: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    asyncAnswers: true,
    asyncListenerInBundle: false,
    kekLabel: null,
    notes: 'Its REST documentation cites BI 1.0 only: the TS002 default (keys wrapped, SessionKeyID for AppSKeyReq).',
  },
  generic: {
    appSKeyWithoutAS: 'wrapped-ns-kek',
    sessionKeyID: 'always',
    legacyKeysAs11: true,
    asyncAnswers: true,
    asyncListenerInBundle: false,
    kekLabel: null,
    notes: 'Any other TS002 network server: keys wrapped under its KEK, a SessionKeyID so its AS can fetch the AppSKey.',
  },
};

export function dialectOf(vendor: Vendor): VendorDialect {
  return VENDOR_DIALECTS[vendor];
}

/**
 * Refuses, with a one-line reason, a peer setting the vendor's network server cannot use: a KEK
 * label its configuration cannot name, asynchronous answers its client cannot receive.
 */
export function checkVendorPeerSettings(vendor: Vendor, settings: { readonly kekLabel?: string; readonly asyncAnswers?: boolean }): void {
  const dialect = VENDOR_DIALECTS[vendor];
  if (settings.kekLabel !== undefined && dialect.kekLabel && !dialect.kekLabel.pattern.test(settings.kekLabel)) {
    throw new ParseError('--kek-label', `${vendor} cannot find the KEK label "${settings.kekLabel}": ${dialect.kekLabel.rule}; use lower case without "."`);
  }
  if (settings.asyncAnswers && !dialect.asyncAnswers) {
    throw new ParseError('--async-answer-url', `${vendor} reads every answer from the HTTP response: asynchronous answers cannot reach it`);
  }
}

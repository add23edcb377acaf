import { ParseError } from './parse-error';

/** The LoRaWAN MAC versions a device can implement, in their canonical spelling. */
export const MAC_VERSIONS = ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.1'] as const;
export type MACVersion = (typeof MAC_VERSIONS)[number];

/** 1.0.x devices (the spec's "legacy"): one root key, AppKey. */
export type LegacyMACVersion = Exclude<MACVersion, '1.1'>;

export function isLegacy(v: MACVersion): v is LegacyMACVersion {
  return v !== '1.1';
}

/** From 1.0.4 on, and in 1.1, DevNonce is a counter and must strictly increase. */
export function devNonceIsCounter(v: MACVersion): boolean {
  return v === '1.0.4' || v === '1.1';
}

const SPELLINGS: ReadonlyMap<string, MACVersion> = new Map<string, MACVersion>([
  // ChirpStack: 1.0.0..1.0.4, 1.1.0; The Things Stack BI: 1.0, 1.0.1..1.0.4, 1.1;
  // TTS API enums: MAC_V1_0, MAC_V1_0_1 .. MAC_V1_1.
  ['1.0', '1.0.0'],
  ['1.0.0', '1.0.0'],
  ['1.0.1', '1.0.1'],
  ['1.0.2', '1.0.2'],
  ['1.0.3', '1.0.3'],
  ['1.0.4', '1.0.4'],
  ['1.1', '1.1'],
  ['1.1.0', '1.1'],
]);

/**
 * Accepts every spelling the network servers in vendors.md send: `1.0`, `1.0.0`..`1.0.4`,
 * `1.1`, `1.1.0`, a `v`/`V` prefix, the TTS enum form `MAC_V1_0_3`, and the 1.0.2 revision
 * suffixes (`1.0.2rB`, `1.0.2-b`).
 */
export function parseMACVersion(value: unknown, field = 'MACVersion'): MACVersion {
  if (typeof value !== 'string') throw new ParseError(field, 'expected a string such as "1.0.3" or "1.1"');
  let s = value.trim().toLowerCase();
  if (s.startsWith('mac_v')) s = s.slice(5).replace(/_/g, '.');
  else if (s.startsWith('lorawan')) s = s.slice(7).trim();
  if (s.startsWith('v')) s = s.slice(1);
  // Revision suffix: `rB`, `revB`, `-rev-b`, `-b`, `_REV_B` (after the `_` -> `.` above).
  s = s.replace(/(\d)[-.]?(?:rev|r)?[-.]?[ab]$/, '$1');
  const v = SPELLINGS.get(s);
  if (!v) throw new ParseError(field, `unknown LoRaWAN MAC version "${value}" (expected one of ${MAC_VERSIONS.join(', ')})`);
  return v;
}

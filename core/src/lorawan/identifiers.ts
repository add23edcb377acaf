import { parseHex, reversed, toHex } from './hex';

/**
 * Identifiers are kept in their canonical display form: big-endian, lower-case hex. On air
 * (and inside every MIC and derivation block) they travel little-endian: use `*ToLE` /
 * `*FromLE` at that boundary and nowhere else.
 */
declare const euiBrand: unique symbol;
declare const devAddrBrand: unique symbol;
declare const netIDBrand: unique symbol;

/** A 64-bit EUI (DevEUI, JoinEUI, NSID), big-endian lower-case hex, 16 digits. */
export type EUI64 = string & { readonly [euiBrand]: true };
/** A 32-bit device address, big-endian lower-case hex, 8 digits. */
export type DevAddr = string & { readonly [devAddrBrand]: true };
/** A 24-bit LoRaWAN NetID, big-endian lower-case hex, 6 digits. */
export type NetID = string & { readonly [netIDBrand]: true };

export function parseEUI64(value: unknown, field = 'EUI64'): EUI64 {
  return toHex(parseHex(value, field, 8)) as EUI64;
}
export function eui64FromLE(bytes: Uint8Array): EUI64 {
  return toHex(reversed(bytes)) as EUI64;
}
export function eui64ToLE(eui: EUI64): Buffer {
  return reversed(Buffer.from(eui, 'hex'));
}

export function parseDevAddr(value: unknown, field = 'DevAddr'): DevAddr {
  return toHex(parseHex(value, field, 4)) as DevAddr;
}
export function devAddrFromLE(bytes: Uint8Array): DevAddr {
  return toHex(reversed(bytes)) as DevAddr;
}
export function devAddrToLE(devAddr: DevAddr): Buffer {
  return reversed(Buffer.from(devAddr, 'hex'));
}

export function parseNetID(value: unknown, field = 'NetID'): NetID {
  return toHex(parseHex(value, field, 3)) as NetID;
}
export function netIDFromLE(bytes: Uint8Array): NetID {
  return toHex(reversed(bytes)) as NetID;
}
export function netIDToLE(netID: NetID): Buffer {
  return reversed(Buffer.from(netID, 'hex'));
}

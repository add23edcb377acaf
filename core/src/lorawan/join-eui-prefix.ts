import { parseHex, toHex } from './hex';
import type { EUI64 } from './identifiers';
import { ParseError } from './parse-error';

/**
 * A JoinEUI range, written as network servers write it: `70b3d57ed0000000/40` (the first 40
 * bits), or a bare 16-hex-digit EUI for exactly that JoinEUI (/64).
 */
export interface JoinEUIPrefix {
  readonly prefix: bigint;
  readonly bits: number;
  /** Canonical text: `<16 hex>/<bits>`. */
  readonly text: string;
}

export function parseJoinEUIPrefix(value: unknown, field = 'JoinEUI prefix'): JoinEUIPrefix {
  if (typeof value !== 'string') throw new ParseError(field, 'expected <16 hex digits>[/<bits>]');
  const [hex, bitsText, ...rest] = value.trim().split('/');
  if (rest.length > 0) throw new ParseError(field, `expected <16 hex digits>[/<bits>], got "${value}"`);
  const bits = bitsText === undefined ? 64 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 64) throw new ParseError(field, 'prefix length must be 0..64 bits');
  const value64 = BigInt(`0x${toHex(parseHex(hex, field, 8))}`);
  const mask = prefixMask(bits);
  if ((value64 & ~mask & 0xffffffffffffffffn) !== 0n) {
    throw new ParseError(field, `${value} has bits set beyond its /${bits} prefix`);
  }
  return { prefix: value64, bits, text: `${value64.toString(16).padStart(16, '0')}/${bits}` };
}

function prefixMask(bits: number): bigint {
  return bits === 0 ? 0n : (0xffffffffffffffffn << BigInt(64 - bits)) & 0xffffffffffffffffn;
}

export function joinEUIInPrefix(joinEUI: EUI64, p: JoinEUIPrefix): boolean {
  return (BigInt(`0x${joinEUI}`) & prefixMask(p.bits)) === p.prefix;
}

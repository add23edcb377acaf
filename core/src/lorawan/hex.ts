import { ParseError } from './parse-error';

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Tolerant hex input: any case, an optional `0x`/`0X` prefix, surrounding whitespace, and the
 * `-` or `:` separators people copy from labels (`00-16-C0-01-FF-FE-00-01`).
 * Returns the bytes, checking the length when one is required.
 */
export function parseHex(value: unknown, field: string, byteLength?: number): Buffer {
  if (typeof value !== 'string') throw new ParseError(field, 'expected a hex string');
  let s = value.trim();
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
  if (s.includes('-') || s.includes(':')) s = s.replace(/[-:]/g, '');
  if (!HEX.test(s)) throw new ParseError(field, 'not a hex string');
  if (s.length % 2 !== 0) throw new ParseError(field, 'hex string of odd length');
  const bytes = Buffer.from(s, 'hex');
  if (byteLength !== undefined && bytes.length !== byteLength) {
    throw new ParseError(field, `expected ${byteLength} bytes (${byteLength * 2} hex digits), got ${bytes.length}`);
  }
  return bytes;
}

/** Canonical output form: lower-case hex, no prefix. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A copy of `bytes` in reverse order (big-endian display order <-> little-endian wire order). */
export function reversed(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[bytes.length - 1 - i]!;
  return out;
}

/** `bytes` as a Buffer without copying (the same memory: do not keep it past the caller's use). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

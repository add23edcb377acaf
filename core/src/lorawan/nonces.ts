import { ParseError } from './parse-error';

declare const devNonceBrand: unique symbol;
declare const joinNonceBrand: unique symbol;

/** DevNonce (16 bit). In 1.0.0-1.0.3 a random value; from 1.0.4 and in 1.1 a counter. Also RJcount0/1. */
export type DevNonce = number & { readonly [devNonceBrand]: true };
/** JoinNonce (AppNonce in 1.0.x), 24 bit, issued by the Join Server, never reused. */
export type JoinNonce = number & { readonly [joinNonceBrand]: true };

export const MAX_DEV_NONCE = 0xffff;
export const MAX_JOIN_NONCE = 0xffffff;

export function devNonce(value: number, field = 'DevNonce'): DevNonce {
  if (!Number.isInteger(value) || value < 0 || value > MAX_DEV_NONCE) {
    throw new ParseError(field, `expected an integer 0..${MAX_DEV_NONCE}`);
  }
  return value as DevNonce;
}

export function joinNonce(value: number, field = 'JoinNonce'): JoinNonce {
  if (!Number.isInteger(value) || value < 0 || value > MAX_JOIN_NONCE) {
    throw new ParseError(field, `expected an integer 0..${MAX_JOIN_NONCE}`);
  }
  return value as JoinNonce;
}

/** Little-endian wire bytes. */
export function devNonceToLE(n: DevNonce): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16LE(n, 0);
  return b;
}
export function joinNonceToLE(n: JoinNonce): Buffer {
  const b = Buffer.allocUnsafe(3);
  b.writeUIntLE(n, 0, 3);
  return b;
}

import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES key wrap (RFC 3394) with the default initial value A6A6A6A6A6A6A6A6: how the Backend
 * Interfaces carry a session key to a peer (KeyEnvelope.AESKey, the KEK named by KEKLabel).
 *
 * The work is done by OpenSSL's `id-aesNNN-wrap` ciphers (through node:crypto), picked by the
 * KEK length; nothing here re-implements the algorithm.
 */

/** The RFC 3394 §2.2.3.1 default initial value. */
const DEFAULT_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

export type KeyWrapErrorCode = 'KEKSize' | 'KeyDataSize' | 'Integrity';

/**
 * A key wrap or unwrap that cannot be done. The message names the problem and sizes only:
 * never a KEK, a key or a wrapped value.
 */
export class KeyWrapError extends Error {
  override readonly name = 'KeyWrapError';
  constructor(
    readonly code: KeyWrapErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function algorithmFor(kek: Uint8Array): string {
  switch (kek.length) {
    case 16:
      return 'id-aes128-wrap';
    case 24:
      return 'id-aes192-wrap';
    case 32:
      return 'id-aes256-wrap';
    default:
      throw new KeyWrapError('KEKSize', `KEK must be 16, 24 or 32 bytes, got ${kek.length}`);
  }
}

/** Wraps `keyData` (a multiple of 8 bytes, at least 16) under `kek`; the result is 8 bytes longer. */
export function aesKeyWrap(kek: Uint8Array, keyData: Uint8Array): Buffer {
  const algorithm = algorithmFor(kek);
  if (keyData.length < 16 || keyData.length % 8 !== 0) {
    throw new KeyWrapError('KeyDataSize', `key data must be a multiple of 8 bytes and at least 16, got ${keyData.length}`);
  }
  const cipher = createCipheriv(algorithm, kek, DEFAULT_IV);
  return Buffer.concat([cipher.update(keyData), cipher.final()]);
}

/**
 * Unwraps `wrapped` (a multiple of 8 bytes, at least 24) with `kek`. Throws a KeyWrapError
 * with code `Integrity` when the integrity check fails (wrong KEK or altered data).
 */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const algorithm = algorithmFor(kek);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) {
    throw new KeyWrapError('KeyDataSize', `wrapped key must be a multiple of 8 bytes and at least 24, got ${wrapped.length}`);
  }
  let out: Buffer;
  try {
    const decipher = createDecipheriv(algorithm, kek, DEFAULT_IV);
    out = Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    // OpenSSL reports a failed check as a generic cipher error; the original error is dropped
    // on purpose so that nothing from the crypto layer travels further than this message.
    throw new KeyWrapError('Integrity', 'AES key unwrap failed its integrity check (wrong KEK or altered data)');
  }
  if (out.length !== wrapped.length - 8) {
    throw new KeyWrapError('Integrity', 'AES key unwrap returned an unexpected length');
  }
  return out;
}

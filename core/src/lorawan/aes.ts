import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import type { AES128Key, PrimitiveSlot } from './aes128-key';

/**
 * AES-128 in ECB mode, the primitive under every LoRaWAN MIC, key derivation and join-accept.
 *
 * Hot path: a join needs a dozen or so block operations, so creating an OpenSSL context per
 * block would dominate. Each key gets one long-lived `aes-128-ecb` Cipher and Decipher (kept
 * on the AES128Key object, see primitiveState, so they are collected with the key), created
 * with padding off. Only `update()` is ever called on them, always with whole 16-byte blocks:
 * ECB carries no state from one block to the next, and with padding off OpenSSL holds nothing
 * back, so each `update()` returns exactly the transformed input and leaves the context ready
 * for the next call. `final()` is called only when the key lets go of its contexts
 * (AES128Key.releasePrimitives), which frees OpenSSL's memory at once. Node runs this
 * synchronously on one thread, and every caller fetches the contexts afresh from the key, so
 * sharing them between callers is safe.
 */
/**
 * The two contexts are made apart, each on its first use: most keys only ever encrypt (a
 * derived JSIntKey used for one CMAC, a 1.1 AppKey that only derives the AppSKey), and a
 * context made for nothing cost such a join a createDecipheriv.
 */
function ecbSlot<C extends Cipher | Decipher>(create: (keyBytes: Buffer) => C): PrimitiveSlot<C> {
  return {
    make(key) {
      const context = create(key.unsafeBytes());
      context.setAutoPadding(false);
      return context;
    },
    // Whole blocks only ever went in: nothing is pending, final() just ends the context.
    dispose: (context) => void context.final(),
  };
}

const ECB_ENCRYPT = ecbSlot((keyBytes) => createCipheriv('aes-128-ecb', keyBytes, null));
const ECB_DECRYPT = ecbSlot((keyBytes) => createDecipheriv('aes-128-ecb', keyBytes, null));

// Checked before touching a cached context: a partial block fed to update() would be buffered
// inside OpenSSL and shift every later call on that key.
function checkWholeBlocks(data: Uint8Array, what: string): void {
  if (data.length % 16 !== 0) {
    throw new RangeError(`${what}: expected a multiple of 16 bytes, got ${data.length}`);
  }
}

/** AES-128 encryption of exactly one 16-byte block (the spec's `aes128_encrypt(K, B)`). */
export function aesEncryptBlock(key: AES128Key, block: Uint8Array): Buffer {
  if (block.length !== 16) throw new RangeError(`aesEncryptBlock: expected 16 bytes, got ${block.length}`);
  return key.primitiveState(ECB_ENCRYPT).update(block);
}

/** AES-128-ECB encryption, no padding: `data` must be a whole number of 16-byte blocks. */
export function aesEncryptECB(key: AES128Key, data: Uint8Array): Buffer {
  checkWholeBlocks(data, 'aesEncryptECB');
  if (data.length === 0) return Buffer.alloc(0);
  return key.primitiveState(ECB_ENCRYPT).update(data);
}

/** AES-128-ECB decryption, no padding: `data` must be a whole number of 16-byte blocks. */
export function aesDecryptECB(key: AES128Key, data: Uint8Array): Buffer {
  checkWholeBlocks(data, 'aesDecryptECB');
  if (data.length === 0) return Buffer.alloc(0);
  return key.primitiveState(ECB_DECRYPT).update(data);
}

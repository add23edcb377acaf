import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { aesDecryptECB, aesEncryptBlock, aesEncryptECB } from './aes';
import { AES128Key } from './aes128-key';

/** A fresh, one-shot OpenSSL context per call: the reference the cached contexts must match. */
function referenceECB(mode: 'encrypt' | 'decrypt', key: Buffer, data: Buffer): Buffer {
  const c = mode === 'encrypt' ? createCipheriv('aes-128-ecb', key, null) : createDecipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

describe('aes', () => {
  test('aes/cached contexts stay correct across many interleaved calls and keys', () => {
    // The cached Cipher/Decipher objects only ever see update(): ECB has no chaining and no
    // padding is held back, so call N must not depend on calls 1..N-1. Interleave keys,
    // directions and lengths, and compare each answer with a fresh one-shot context.
    const rawKeys = Array.from({ length: 5 }, () => randomBytes(16));
    const keys = rawKeys.map((k) => AES128Key.fromBytes(k));
    for (let i = 0; i < 2000; i++) {
      const k = i % keys.length;
      const rawKey = rawKeys[k]!;
      const key = keys[k]!;
      const blocks = 1 + (i % 4);
      const data = randomBytes(16 * blocks);
      switch (i % 3) {
        case 0:
          expect(aesEncryptECB(key, data).equals(referenceECB('encrypt', rawKey, data))).toBe(true);
          break;
        case 1:
          expect(aesDecryptECB(key, data).equals(referenceECB('decrypt', rawKey, data))).toBe(true);
          break;
        default: {
          const block = data.subarray(0, 16);
          expect(aesEncryptBlock(key, block).equals(referenceECB('encrypt', rawKey, block))).toBe(true);
        }
      }
    }
  });

  test('aes/equal keys in distinct AES128Key objects give the same answers', () => {
    const raw = randomBytes(16);
    const a = AES128Key.fromBytes(raw);
    const b = AES128Key.fromBytes(raw);
    const data = randomBytes(48);
    expect(aesEncryptECB(a, data).equals(aesEncryptECB(b, data))).toBe(true);
  });

  test('aes/encrypt then decrypt is the identity', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    for (let blocks = 0; blocks <= 4; blocks++) {
      const data = randomBytes(16 * blocks);
      expect(aesDecryptECB(key, aesEncryptECB(key, data)).equals(data)).toBe(true);
    }
  });

  test('aes/accepts a Uint8Array that is a view into a larger buffer', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const backing = randomBytes(64);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 8, 32);
    expect(aesEncryptECB(key, view).equals(referenceECB('encrypt', key.unsafeBytes(), Buffer.from(view)))).toBe(true);
  });

  test('aes/rejects partial blocks without disturbing the cached context', () => {
    const raw = randomBytes(16);
    const key = AES128Key.fromBytes(raw);
    expect(() => aesEncryptBlock(key, Buffer.alloc(15))).toThrow(RangeError);
    expect(() => aesEncryptBlock(key, Buffer.alloc(32))).toThrow(RangeError);
    expect(() => aesEncryptECB(key, Buffer.alloc(17))).toThrow(RangeError);
    expect(() => aesDecryptECB(key, Buffer.alloc(31))).toThrow(RangeError);
    const data = randomBytes(32);
    expect(aesEncryptECB(key, data).equals(referenceECB('encrypt', raw, data))).toBe(true);
    expect(aesDecryptECB(key, data).equals(referenceECB('decrypt', raw, data))).toBe(true);
  });

  test('aes/empty input gives empty output', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    expect(aesEncryptECB(key, Buffer.alloc(0))).toHaveLength(0);
    expect(aesDecryptECB(key, Buffer.alloc(0))).toHaveLength(0);
  });
});

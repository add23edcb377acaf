import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyWrapError, aesKeyUnwrap, aesKeyWrap } from './key-wrap';

/** The RFC 3394 and Backend Interfaces vectors run from the shared file (kat.test.ts). */

function expectKeyWrapError(fn: () => unknown, code: KeyWrapError['code']): KeyWrapError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeyWrapError);
    expect((e as KeyWrapError).code).toBe(code);
    return e as KeyWrapError;
  }
  throw new Error('expected a KeyWrapError');
}

/** Every way the secret could be spelled in a message. */
function spellings(bytes: Buffer): string[] {
  const h = bytes.toString('hex');
  return [h, h.toUpperCase(), bytes.toString('base64'), bytes.subarray(0, 8).toString('hex')];
}

function expectNoSecret(err: Error, ...secrets: Buffer[]): void {
  const texts = [err.message, String(err), inspect(err), JSON.stringify(err)];
  for (const text of texts) for (const s of secrets) for (const spelled of spellings(s)) expect(text).not.toContain(spelled);
}

describe('key-wrap', () => {
  test('key-wrap/round trip for every KEK size and several key sizes', () => {
    for (const kekSize of [16, 24, 32]) {
      for (const dataSize of [16, 24, 32, 40]) {
        const kek = randomBytes(kekSize);
        const keyData = randomBytes(dataSize);
        const wrapped = aesKeyWrap(kek, keyData);
        expect(wrapped).toHaveLength(dataSize + 8);
        expect(aesKeyUnwrap(kek, wrapped).equals(keyData)).toBe(true);
      }
    }
  });

  test('key-wrap/unwrap with the wrong KEK fails the integrity check', () => {
    const kek = randomBytes(16);
    const wrapped = aesKeyWrap(kek, randomBytes(16));
    const other = Buffer.from(kek);
    other[15]! ^= 0x80;
    expectKeyWrapError(() => aesKeyUnwrap(other, wrapped), 'Integrity');
  });

  test('key-wrap/every single-bit change of the wrapped value fails the integrity check', () => {
    const kek = randomBytes(16);
    const wrapped = aesKeyWrap(kek, randomBytes(16));
    for (let bit = 0; bit < wrapped.length * 8; bit += 7) {
      const tampered = Buffer.from(wrapped);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expectKeyWrapError(() => aesKeyUnwrap(kek, tampered), 'Integrity');
    }
  });

  test('key-wrap/error messages never contain a KEK, a key or a wrapped value', () => {
    const kek = randomBytes(16);
    const keyData = randomBytes(16);
    const wrapped = aesKeyWrap(kek, keyData);
    const tampered = Buffer.from(wrapped);
    tampered[3]! ^= 0xff;
    expectNoSecret(
      expectKeyWrapError(() => aesKeyUnwrap(kek, tampered), 'Integrity'),
      kek,
      keyData,
      wrapped,
      tampered,
    );
    expectNoSecret(
      expectKeyWrapError(() => aesKeyWrap(kek.subarray(0, 15), keyData), 'KEKSize'),
      kek,
      keyData,
    );
    expectNoSecret(
      expectKeyWrapError(() => aesKeyWrap(kek, keyData.subarray(0, 12)), 'KeyDataSize'),
      kek,
      keyData,
    );
    expectNoSecret(
      expectKeyWrapError(() => aesKeyUnwrap(kek, wrapped.subarray(0, 20)), 'KeyDataSize'),
      kek,
      wrapped,
    );
  });

  test('key-wrap/size checks', () => {
    const keyData = randomBytes(16);
    for (const kekSize of [0, 8, 15, 17, 31, 33]) expectKeyWrapError(() => aesKeyWrap(randomBytes(kekSize), keyData), 'KEKSize');
    for (const kekSize of [15, 33]) expectKeyWrapError(() => aesKeyUnwrap(randomBytes(kekSize), randomBytes(24)), 'KEKSize');
    for (const size of [0, 8, 12, 17, 23]) expectKeyWrapError(() => aesKeyWrap(randomBytes(16), randomBytes(size)), 'KeyDataSize');
    for (const size of [0, 8, 16, 23, 25, 31]) expectKeyWrapError(() => aesKeyUnwrap(randomBytes(16), randomBytes(size)), 'KeyDataSize');
  });

  test('key-wrap/KeyWrapError is an Error with a name', () => {
    const err = expectKeyWrapError(() => aesKeyWrap(Buffer.alloc(1), Buffer.alloc(16)), 'KEKSize');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('KeyWrapError');
  });
});

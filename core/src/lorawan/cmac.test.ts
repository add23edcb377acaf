import { createCipheriv, randomBytes } from 'node:crypto';
import { AES128Key } from './aes128-key';
import { aesCmac, cmacSubkeys } from './cmac';

/**
 * The RFC 4493 examples and subkeys run from the shared vectors (kat.test.ts). Here: a second,
 * deliberately different formulation of CMAC (BigInt doubling, one AES-CBC pass with a fresh
 * context), compared on every message length up to 5 blocks.
 */
function referenceCmac(rawKey: Buffer, message: Buffer): Buffer {
  const aes = (block: Buffer): Buffer => {
    const c = createCipheriv('aes-128-ecb', rawKey, null);
    c.setAutoPadding(false);
    return c.update(block);
  };
  const mask = (1n << 128n) - 1n;
  const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);
  const fromBig = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(32, '0'), 'hex');
  const double = (n: bigint): bigint => ((n << 1n) & mask) ^ (n >> 127n === 1n ? 0x87n : 0n);
  const k1 = double(toBig(aes(Buffer.alloc(16))));
  const k2 = double(k1);
  const complete = message.length > 0 && message.length % 16 === 0;
  const padded = complete ? Buffer.from(message) : Buffer.concat([message, Buffer.from([0x80]), Buffer.alloc(15 - (message.length % 16))]);
  const last = padded.subarray(padded.length - 16);
  fromBig(toBig(last) ^ (complete ? k1 : k2)).copy(last);
  const cbc = createCipheriv('aes-128-cbc', rawKey, Buffer.alloc(16));
  cbc.setAutoPadding(false);
  const out = Buffer.concat([cbc.update(padded), cbc.final()]);
  return out.subarray(out.length - 16);
}

describe('cmac', () => {
  test('cmac/matches an independent formulation for every length 0..80', () => {
    for (let round = 0; round < 3; round++) {
      const raw = randomBytes(16);
      const key = AES128Key.fromBytes(raw);
      for (let len = 0; len <= 80; len++) {
        const message = randomBytes(len);
        expect(aesCmac(key, message).toString('hex')).toBe(referenceCmac(raw, message).toString('hex'));
      }
    }
  });

  test('cmac/subkeys are stable and callers cannot alter the cached ones', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const message = randomBytes(21);
    const tag = aesCmac(key, message);
    const first = cmacSubkeys(key);
    const k1 = Buffer.from(first.k1);
    first.k1.fill(0);
    first.k2.fill(0);
    expect(cmacSubkeys(key).k1.equals(k1)).toBe(true);
    expect(aesCmac(key, message).equals(tag)).toBe(true);
  });

  test('cmac/does not modify its input', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const message = randomBytes(40);
    const copy = Buffer.from(message);
    aesCmac(key, message);
    expect(message.equals(copy)).toBe(true);
  });

  test('cmac/a one-bit change in the message changes the tag', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const message = randomBytes(19);
    const tag = aesCmac(key, message);
    message[18]! ^= 1;
    expect(aesCmac(key, message).equals(tag)).toBe(false);
  });
});

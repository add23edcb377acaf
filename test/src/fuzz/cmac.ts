import { createCipheriv, type Cipher } from 'node:crypto';

/**
 * AES-128-CMAC (RFC 4493) with node's OpenSSL, independent of Joinery's own: the fuzzer uses it
 * to make sure a forged frame for a real device never carries its right MIC by chance.
 */

interface CMACKey {
  readonly ecb: Cipher;
  readonly k1: Buffer;
  readonly k2: Buffer;
}

/** One ECB cipher per key, kept open: `update` of whole blocks encrypts them, one by one. */
const keys = new Map<string, CMACKey>();

function double(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  let carry = 0;
  for (let i = 15; i >= 0; i--) {
    const v = b[i]!;
    out[i] = ((v << 1) | carry) & 0xff;
    carry = v >>> 7;
  }
  if ((b[0]! & 0x80) !== 0) out[15] = out[15]! ^ 0x87;
  return out;
}

function cmacKey(key: Buffer): CMACKey {
  const id = key.toString('hex');
  let k = keys.get(id);
  if (!k) {
    const ecb = createCipheriv('aes-128-ecb', key, null);
    ecb.setAutoPadding(false);
    const k1 = double(ecb.update(Buffer.alloc(16)));
    k = { ecb, k1, k2: double(k1) };
    keys.set(id, k);
  }
  return k;
}

/** aes128_encrypt(key, block) for one 16-byte block. */
export function aesEncryptBlock(key: Buffer, block: Buffer): Buffer {
  return cmacKey(key).ecb.update(block);
}

export function aesCmac(key: Buffer, message: Buffer): Buffer {
  const { ecb, k1, k2 } = cmacKey(key);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  message.copy(last, 0, (n - 1) * 16);
  if (!complete) last[message.length - (n - 1) * 16] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] = last[i]! ^ sub[i]!;
  let x: Buffer = Buffer.alloc(16);
  for (let i = 0; i < n - 1; i++) {
    const block = message.subarray(i * 16, i * 16 + 16);
    for (let j = 0; j < 16; j++) x[j] = x[j]! ^ block[j]!;
    x = ecb.update(x);
  }
  for (let j = 0; j < 16; j++) x[j] = x[j]! ^ last[j]!;
  return ecb.update(x);
}

import { aesEncryptBlock } from './aes';
import type { AES128Key, PrimitiveSlot } from './aes128-key';

/**
 * AES-CMAC (RFC 4493). A LoRaWAN MIC is the first four bytes of the 16-byte tag.
 */

const ZERO_BLOCK = Buffer.alloc(16);
/** R_128 from RFC 4493 §2.3: the low byte of the constant 0^120 || 10000111. */
const RB = 0x87;

interface Subkeys {
  readonly k1: Buffer;
  readonly k2: Buffer;
}

/** Doubling in GF(2^128): a left shift of the whole 16-byte big-endian string, XOR Rb on carry. */
function dbl(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 15; i++) out[i] = ((input[i]! << 1) | (input[i + 1]! >>> 7)) & 0xff;
  out[15] = (input[15]! << 1) & 0xff;
  if ((input[0]! & 0x80) !== 0) out[15] ^= RB;
  return out;
}

const SUBKEYS: PrimitiveSlot<Subkeys> = {
  make(key) {
    const l = aesEncryptBlock(key, ZERO_BLOCK);
    const k1 = dbl(l);
    l.fill(0);
    return { k1, k2: dbl(k1) };
  },
  dispose({ k1, k2 }) {
    k1.fill(0);
    k2.fill(0);
  },
};

function subkeysFor(key: AES128Key): Subkeys {
  return key.primitiveState(SUBKEYS);
}

/** RFC 4493 §2.3 subkeys K1 and K2 (copies: the cached values stay private). */
export function cmacSubkeys(key: AES128Key): { k1: Buffer; k2: Buffer } {
  const s = subkeysFor(key);
  return { k1: Buffer.from(s.k1), k2: Buffer.from(s.k2) };
}

/** AES-CMAC tag (16 bytes) of `message` under `key`, RFC 4493 §2.4. */
export function aesCmac(key: AES128Key, message: Uint8Array): Buffer {
  const { k1, k2 } = subkeysFor(key);
  const len = message.length;
  // n blocks, the last one handled apart; an empty message is one incomplete block.
  const n = len === 0 ? 1 : Math.ceil(len / 16);
  const lastComplete = len !== 0 && len % 16 === 0;
  const lastStart = (n - 1) * 16;

  // CBC-MAC over the first n-1 blocks, one ECB block at a time on the cached cipher.
  let x: Buffer = Buffer.alloc(16);
  const y = Buffer.allocUnsafe(16);
  for (let off = 0; off < lastStart; off += 16) {
    for (let i = 0; i < 16; i++) y[i] = x[i]! ^ message[off + i]!;
    x = aesEncryptBlock(key, y);
  }

  // Last block: XOR K1 if complete, else pad with 10...0 and XOR K2; then chain it in.
  const subkey = lastComplete ? k1 : k2;
  const remaining = len - lastStart;
  for (let i = 0; i < 16; i++) {
    let m: number;
    if (i < remaining) m = message[lastStart + i]!;
    else if (i === remaining) m = 0x80;
    else m = 0;
    y[i] = x[i]! ^ m ^ subkey[i]!;
  }
  return aesEncryptBlock(key, y);
}

import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { SealedBlobError } from './sealed-blob-error';

/**
 * The software vault's sealed blob, format version 1 (what the store keeps in
 * `devices.sealed_root_keys`, `peers.sealed_kek`, `sessions.sealed_app_s_key`):
 *
 * ```
 * offset  size  field
 *      0     1  format version: 0x01
 *      1     1  master key id (0..255): which master key sealed it (`joinery keys rotate-master`)
 *      2    12  IV, random per blob
 *     14    16  AES-GCM authentication tag
 *     30     n  ciphertext: AES-256-GCM under the master key
 * ```
 *
 * Additional authenticated data (not stored, rebuilt by whoever opens the blob):
 * `version byte || key id byte || purpose byte || UTF-8(context)`, with purpose 0x01 for a
 * device's root keys (context `rootkeys:<devEUI>`, DevEUI in lower-case hex) and 0x02 for a
 * single key (the caller's context, e.g. `kek:<peer>` or `appskey:<devEUI>:<sessionKeyID>`).
 * A blob therefore opens only for the device or purpose it was sealed for; a blob copied to
 * another device row, a KEK opened as an AppSKey, a changed header or ciphertext all fail the
 * tag check.
 *
 * Plaintext of a single key: its 16 bytes. Plaintext of root keys: a kind byte, then the
 * keys: `0x01 || AppKey` (1.0.x, 17 bytes) or `0x02 || AppKey || NwkKey` (1.1, 33 bytes).
 */
export const SEALED_BLOB_VERSION = 0x01;

export const SealPurpose = {
  rootKeys: 0x01,
  key: 0x02,
} as const;
export type SealPurpose = (typeof SealPurpose)[keyof typeof SealPurpose];

const HEADER_LENGTH = 2;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const CIPHERTEXT_OFFSET = HEADER_LENGTH + IV_LENGTH + TAG_LENGTH;

export interface SealingKey {
  /** AES-256 key object of the master key. */
  readonly key: KeyObject;
  /** The id written into (and expected in) every blob. */
  readonly keyId: number;
}

/**
 * IVs are cut from a buffer of random bytes filled 4,096 IVs at a time, each slice used once:
 * the same CSPRNG output as one randomBytes call per blob, without a call per blob (a bulk
 * import seals a million).
 */
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function freshIV(): Buffer {
  if (ivOffset + IV_LENGTH > ivPool.length) {
    ivPool = randomBytes(IV_LENGTH * 4096);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_LENGTH));
  ivOffset += IV_LENGTH;
  return iv;
}

export function sealBlob(sealing: SealingKey, purpose: SealPurpose, context: string, plaintext: Uint8Array): Buffer {
  const header = Buffer.from([SEALED_BLOB_VERSION, sealing.keyId]);
  const iv = freshIV();
  const cipher = createCipheriv('aes-256-gcm', sealing.key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(additionalData(header, purpose, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
}

/** The master key id a blob says it was sealed with (byte 1), or undefined for a blob too short to say. */
export function sealedBlobKeyId(sealed: Uint8Array): number | undefined {
  return sealed.length > 1 ? sealed[1] : undefined;
}

/**
 * Opens a blob sealed with the same purpose and context, or throws SealedBlobError. `sealing`
 * is the one master key, or a lookup of the key with the blob's key id. The caller owns the
 * returned plaintext and should zero it once copied.
 */
export function openBlob(sealing: SealingKey | ((keyId: number) => SealingKey | undefined), purpose: SealPurpose, context: string, sealed: Uint8Array): Buffer {
  const blob = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (blob.length <= CIPHERTEXT_OFFSET) {
    throw new SealedBlobError(`sealed blob too short (${blob.length} bytes): not a software vault blob`);
  }
  const version = blob[0]!;
  if (version !== SEALED_BLOB_VERSION) {
    throw new SealedBlobError(`sealed blob has format version ${version}; this vault reads version ${SEALED_BLOB_VERSION}`);
  }
  const keyId = blob[1]!;
  const key = typeof sealing === 'function' ? sealing(keyId) : sealing.keyId === keyId ? sealing : undefined;
  if (!key) {
    const held = typeof sealing === 'function' ? 'not this master key id' : `master key id ${sealing.keyId}`;
    throw new SealedBlobError(`sealed blob was sealed with master key id ${keyId}; this vault holds ${held}`);
  }
  const header = blob.subarray(0, HEADER_LENGTH);
  const iv = blob.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
  const tag = blob.subarray(HEADER_LENGTH + IV_LENGTH, CIPHERTEXT_OFFSET);
  const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(additionalData(header, purpose, context));
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(blob.subarray(CIPHERTEXT_OFFSET));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new SealedBlobError(`sealed blob does not open for "${context}": it was sealed for another device or purpose, under another master key, or altered`);
  }
  return plaintext;
}

function additionalData(header: Buffer, purpose: SealPurpose, context: string): Buffer {
  return Buffer.concat([header, Buffer.from([purpose]), Buffer.from(context, 'utf8')]);
}

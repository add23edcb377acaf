import type { EUI64 } from '../lorawan/identifiers';
import { SealedBlobError } from './sealed-blob-error';
import type { KeyClass } from './pkcs11-templates';

/**
 * What the store keeps for the PKCS#11 vault (`devices.sealed_root_keys`, `peers.sealed_kek`,
 * `sessions.sealed_app_s_key`). Byte 0 is the format: 0x81 = PKCS#11 vault, format 1 (a
 * software vault blob starts 0x01, so neither vault mistakes the other's blob for its own).
 * Byte 1 is the blob type.
 *
 * Root keys (type 0x01) are a REFERENCE to token objects, not key material, 19 bytes:
 *
 * ```
 * offset size
 *      0    1  0x81
 *      1    1  0x01 root keys
 *      2    1  0x01 1.0.x (AppKey), 0x02 1.1 (AppKey and NwkKey)
 *      3   16  object nonce, random per import
 * ```
 *
 * The objects' `CKA_ID` is `"JR" || DevEUI (8 bytes, big-endian) || nonce || role`, role `A`
 * (AppKey) or `N` (NwkKey); their `CKA_LABEL` is `joinery:<deveui>:AppKey` (or `NwkKey`). The
 * id is rebuilt from the DevEUI the caller opens for, so a reference copied to another device's
 * row finds nothing.
 *
 * A single key (type 0x02: a KEK, an AppSKey kept for AppSKeyReq) is the key wrapped (RFC 3394,
 * `CKM_AES_KEY_WRAP`) under one of the vault's own sealing keys and authenticated together with
 * its context by CMAC under the sealing key's MAC twin, 59 bytes:
 *
 * ```
 * offset size
 *      0    1  0x81
 *      1    1  0x02 single key
 *      2   16  sealing key id (CKA_ID of the token objects "joinery:seal-wrap" and "joinery:seal-mac")
 *     18    1  key class: 0x01 session key, 0x02 KEK (what the key may do once unwrapped)
 *     19   24  the key, RFC 3394-wrapped under the sealing wrap key
 *     43   16  AES-CMAC under the sealing MAC key of bytes 0..42 || UTF-8(context)
 * ```
 */
export const PKCS11_BLOB_FORMAT = 0x81;
const TYPE_ROOT_KEYS = 0x01;
const TYPE_KEY = 0x02;
const ROOT_LEGACY = 0x01;
const ROOT_1_1 = 0x02;
export const NONCE_LENGTH = 16;
export const SEALING_KEY_ID_LENGTH = 16;
const ROOT_BLOB_LENGTH = 3 + NONCE_LENGTH;
const WRAPPED_LENGTH = 24;
const TAG_LENGTH = 16;
const KEY_MAC_END = 2 + SEALING_KEY_ID_LENGTH + 1 + WRAPPED_LENGTH;
const KEY_BLOB_LENGTH = KEY_MAC_END + TAG_LENGTH;

export type RootKeyRole = 'AppKey' | 'NwkKey';

export interface RootKeysReference {
  readonly kind: 'legacy' | '1.1';
  readonly nonce: Buffer;
}

export function encodeRootKeysReference(ref: RootKeysReference): Buffer {
  if (ref.nonce.length !== NONCE_LENGTH) throw new RangeError('root key reference: the nonce must be 16 bytes');
  return Buffer.concat([Buffer.from([PKCS11_BLOB_FORMAT, TYPE_ROOT_KEYS, ref.kind === 'legacy' ? ROOT_LEGACY : ROOT_1_1]), ref.nonce]);
}

export function decodeRootKeysReference(blob: Uint8Array, context: string): RootKeysReference {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  checkHeader(b, TYPE_ROOT_KEYS, context);
  if (b.length !== ROOT_BLOB_LENGTH) throw new SealedBlobError(`root key reference of ${context} has ${b.length} bytes, expected ${ROOT_BLOB_LENGTH}`);
  const kind = b[2] === ROOT_LEGACY ? 'legacy' : b[2] === ROOT_1_1 ? '1.1' : null;
  if (kind === null) throw new SealedBlobError(`root key reference of ${context} has an unknown key layout (${b[2]})`);
  return { kind, nonce: Buffer.from(b.subarray(3, ROOT_BLOB_LENGTH)) };
}

/** The CKA_ID of a device's root key object. */
export function rootKeyObjectId(devEUI: EUI64, nonce: Buffer, role: RootKeyRole): Buffer {
  return Buffer.concat([Buffer.from('JR', 'ascii'), Buffer.from(devEUI, 'hex'), nonce, Buffer.from(role === 'AppKey' ? 'A' : 'N', 'ascii')]);
}

/** The CKA_LABEL of a device's root key object (for people looking at the token). */
export function rootKeyObjectLabel(devEUI: EUI64, role: RootKeyRole): string {
  return `joinery:${devEUI}:${role}`;
}

export interface SealedKey {
  readonly sealingKeyId: Buffer;
  readonly keyClass: Exclude<KeyClass, 'root'>;
  readonly wrapped: Buffer;
  readonly tag: Buffer;
  /** The bytes the tag covers, without the context. */
  readonly authenticated: Buffer;
}

/** The first 43 bytes of a sealed key (what the MAC covers, before the context). */
export function sealedKeyHeader(sealingKeyId: Buffer, keyClass: Exclude<KeyClass, 'root'>, wrapped: Buffer): Buffer {
  if (sealingKeyId.length !== SEALING_KEY_ID_LENGTH) throw new RangeError('sealing key id must be 16 bytes');
  if (wrapped.length !== WRAPPED_LENGTH) throw new RangeError(`a wrapped AES-128 key has ${WRAPPED_LENGTH} bytes, got ${wrapped.length}`);
  return Buffer.concat([Buffer.from([PKCS11_BLOB_FORMAT, TYPE_KEY]), sealingKeyId, Buffer.from([keyClass === 'kek' ? 0x02 : 0x01]), wrapped]);
}

export function macInput(header: Buffer, context: string): Buffer {
  return Buffer.concat([header, Buffer.from(context, 'utf8')]);
}

export function encodeSealedKey(header: Buffer, tag: Buffer): Buffer {
  if (tag.length !== TAG_LENGTH) throw new RangeError('a sealed key tag is 16 bytes');
  return Buffer.concat([header, tag]);
}

export function decodeSealedKey(blob: Uint8Array, context: string): SealedKey {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  checkHeader(b, TYPE_KEY, `"${context}"`);
  if (b.length !== KEY_BLOB_LENGTH) throw new SealedBlobError(`sealed key of "${context}" has ${b.length} bytes, expected ${KEY_BLOB_LENGTH}`);
  const cls = b[2 + SEALING_KEY_ID_LENGTH];
  const keyClass = cls === 0x01 ? 'session' : cls === 0x02 ? 'kek' : null;
  if (keyClass === null) throw new SealedBlobError(`sealed key of "${context}" has an unknown key class (${cls})`);
  return {
    sealingKeyId: Buffer.from(b.subarray(2, 2 + SEALING_KEY_ID_LENGTH)),
    keyClass,
    wrapped: Buffer.from(b.subarray(2 + SEALING_KEY_ID_LENGTH + 1, KEY_MAC_END)),
    tag: Buffer.from(b.subarray(KEY_MAC_END)),
    authenticated: Buffer.from(b.subarray(0, KEY_MAC_END)),
  };
}

function checkHeader(b: Buffer, type: number, what: string): void {
  if (b.length < 2) throw new SealedBlobError(`sealed blob of ${what} is too short (${b.length} bytes): not a PKCS#11 vault blob`);
  if (b[0] !== PKCS11_BLOB_FORMAT) {
    const hint = b[0] === 0x01 ? " (format 0x01 is the software vault's: this store was written with --vault software)" : '';
    throw new SealedBlobError(`sealed blob of ${what} has format byte 0x${b[0]!.toString(16).padStart(2, '0')}, not the PKCS#11 vault's 0x81${hint}`);
  }
  if (b[1] !== type) {
    throw new SealedBlobError(
      `sealed blob of ${what} is a ${b[1] === TYPE_ROOT_KEYS ? 'root key reference' : b[1] === TYPE_KEY ? 'single key' : `type ${b[1]} blob`}, not a ${type === TYPE_ROOT_KEYS ? 'root key reference' : 'single key'}`,
    );
  }
}

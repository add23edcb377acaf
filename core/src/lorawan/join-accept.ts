import { timingSafeEqual } from 'node:crypto';
import { aesDecryptECB, aesEncryptECB } from './aes';
import type { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { FrameError } from './frame-error';
import { bufferView } from './hex';
import { devAddrFromLE, devAddrToLE, eui64ToLE, netIDFromLE, netIDToLE, type DevAddr, type EUI64, type NetID } from './identifiers';
import { checkMHDR, MTYPE_JOIN_ACCEPT } from './mhdr';
import { devNonceToLE, joinNonce as toJoinNonce, joinNonceToLE, type DevNonce, type JoinNonce } from './nonces';

/**
 * Join-accept, 17 or 33 bytes (multi-byte fields little-endian on air):
 *
 *   byte  0       MHDR 0x20 (MType 001 join-accept, Major 00)         never encrypted
 *   bytes 1..3    JoinNonce (AppNonce in 1.0.x)                       \
 *   bytes 4..6    NetID                                               |
 *   bytes 7..10   DevAddr                                             | "encrypted": AES-ECB
 *   byte  11      DLSettings (bit 7 OptNeg, 6..4 RX1DROffset, 3..0 RX2DR)  | *decryption*, so the
 *   byte  12      RxDelay                                             | device only needs
 *   [bytes 13..28 CFList]                                             | AES encryption
 *   last 4 bytes  MIC                                                 /
 *
 * MIC, OptNeg clear (1.0.x, and 1.1 in 1.0 mode): cmac(AppKey or NwkKey, MHDR..CFList)[0:4].
 * MIC, OptNeg set (1.1): cmac(JSIntKey, JoinReqType | JoinEUI | DevNonce | MHDR..CFList)[0:4].
 * Encryption key: AppKey (1.0.x), NwkKey (answering a join-request), JSEncKey (answering a
 * rejoin-request).
 */
export interface JoinAcceptFields {
  readonly joinNonce: JoinNonce;
  readonly netID: NetID;
  readonly devAddr: DevAddr;
  /** DLSettings byte. */
  readonly dlSettings: number;
  /** RxDelay byte. */
  readonly rxDelay: number;
  /** CFList, 16 bytes, when present. */
  readonly cfList?: Buffer;
}

export const JOIN_ACCEPT_MHDR = 0x20;
/** DLSettings bit 7: set by a 1.1 Join Server answering a 1.1 device (1.1 MIC and derivations). */
export const DL_SETTINGS_OPT_NEG = 0x80;

const SIZE_PLAIN = 13;
const SIZE_PLAIN_CFLIST = 29;
const SIZE = 17;
const SIZE_CFLIST = 33;

function checkByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${field}: expected a byte 0..255`);
}

/**
 * MHDR | JoinNonce | NetID | DevAddr | DLSettings | RxDelay | [CFList], without a MIC: 13 or
 * 29 bytes. This is also the whole LoRaWAN 1.0 MIC input.
 */
export function encodeJoinAcceptPlain(fields: JoinAcceptFields): Buffer {
  checkByte(fields.dlSettings, 'DLSettings');
  checkByte(fields.rxDelay, 'RxDelay');
  const cfList = fields.cfList;
  if (cfList !== undefined && cfList.length !== 16) throw new RangeError(`CFList: expected 16 bytes, got ${cfList.length}`);
  const plain = Buffer.alloc(cfList === undefined ? SIZE_PLAIN : SIZE_PLAIN_CFLIST);
  plain[0] = JOIN_ACCEPT_MHDR;
  joinNonceToLE(fields.joinNonce).copy(plain, 1);
  netIDToLE(fields.netID).copy(plain, 4);
  devAddrToLE(fields.devAddr).copy(plain, 7);
  plain[11] = fields.dlSettings;
  plain[12] = fields.rxDelay;
  if (cfList !== undefined) cfList.copy(plain, 13);
  return plain;
}

/**
 * The LoRaWAN 1.1 (OptNeg set) MIC input: JoinReqType | JoinEUI (LE) | DevNonce (LE) | plain.
 * JoinReqType is 0xFF answering a join-request and the rejoin type (0, 1, 2) answering a
 * rejoin-request, whose RJcount0/RJcount1 is then passed as `devNonce`. `plain` is
 * encodeJoinAcceptPlain's output (MHDR .. CFList).
 */
export function joinAcceptMICInput11(joinReqType: number, joinEUI: EUI64, devNonce: DevNonce, plain: Buffer): Buffer {
  checkByte(joinReqType, 'JoinReqType');
  return Buffer.concat([Buffer.of(joinReqType), eui64ToLE(joinEUI), devNonceToLE(devNonce), plain]);
}

function checkSize(phyPayload: Uint8Array, frame: string): void {
  if (phyPayload.length !== SIZE && phyPayload.length !== SIZE_CFLIST) {
    throw new FrameError('FrameSize', `${frame}: expected ${SIZE} or ${SIZE_CFLIST} bytes, got ${phyPayload.length}`);
  }
}

/**
 * Join-accept "encryption" as a Join Server does it: the MHDR is kept, everything after it
 * (MACPayload and MIC, one or two blocks) is AES-ECB **decrypted** with `key`.
 */
export function encryptJoinAccept(key: AES128Key, plainWithMIC: Buffer): Buffer {
  checkSize(plainWithMIC, 'join-accept');
  return Buffer.concat([plainWithMIC.subarray(0, 1), aesDecryptECB(key, plainWithMIC.subarray(1))]);
}

/** The inverse of encryptJoinAccept, as a device does it (AES-ECB *encryption* after the MHDR). */
export function decryptJoinAccept(key: AES128Key, phyPayload: Uint8Array): Buffer {
  checkSize(phyPayload, 'join-accept');
  const b = bufferView(phyPayload);
  return Buffer.concat([b.subarray(0, 1), aesEncryptECB(key, b.subarray(1))]);
}

function checkJoinAccept(plainPhy: Uint8Array): void {
  checkMHDR(plainPhy, MTYPE_JOIN_ACCEPT, 'join-accept');
  checkSize(plainPhy, 'join-accept');
}

/** Decodes a decrypted join-accept (FrameError on a bad size or MHDR). The MIC is not checked. */
export function decodeJoinAccept(plainPhy: Uint8Array): JoinAcceptFields & { mic: Buffer } {
  checkJoinAccept(plainPhy);
  const b = bufferView(plainPhy);
  const fields = {
    joinNonce: toJoinNonce(b.readUIntLE(1, 3)),
    netID: netIDFromLE(b.subarray(4, 7)),
    devAddr: devAddrFromLE(b.subarray(7, 11)),
    dlSettings: b[11]!,
    rxDelay: b[12]!,
    mic: Buffer.from(b.subarray(b.length - 4)),
  };
  return b.length === SIZE_CFLIST ? { ...fields, cfList: Buffer.from(b.subarray(13, 29)) } : fields;
}

function mic(key: AES128Key, input: Uint8Array): Buffer {
  return aesCmac(key, input).subarray(0, 4);
}

/**
 * A LoRaWAN 1.0 join-accept (OptNeg clear) on air: MIC'd and encrypted with `key`, the root
 * key (a 1.0.x device's AppKey, or a 1.1 device's NwkKey in 1.0 mode).
 */
export function buildJoinAccept10(key: AES128Key, fields: JoinAcceptFields): Buffer {
  const plain = encodeJoinAcceptPlain(fields);
  return encryptJoinAccept(key, Buffer.concat([plain, mic(key, plain)]));
}

/**
 * A LoRaWAN 1.1 join-accept (the caller sets OptNeg in `fields.dlSettings`) on air: MIC'd with
 * `jsIntKey` over the 1.1 MIC input, encrypted with `encKey` (NwkKey answering a join-request,
 * JSEncKey answering a rejoin-request).
 */
export function buildJoinAccept11(jsIntKey: AES128Key, encKey: AES128Key, joinReqType: number, joinEUI: EUI64, devNonce: DevNonce, fields: JoinAcceptFields): Buffer {
  const plain = encodeJoinAcceptPlain(fields);
  const tag = mic(jsIntKey, joinAcceptMICInput11(joinReqType, joinEUI, devNonce, plain));
  return encryptJoinAccept(encKey, Buffer.concat([plain, tag]));
}

function sameMIC(expected: Buffer, plainPhy: Buffer): boolean {
  return timingSafeEqual(expected, plainPhy.subarray(plainPhy.length - 4));
}

/**
 * Checks the 1.0 MIC of a decrypted join-accept (constant-time). FrameError when the bytes
 * are not a join-accept at all; false when only the MIC is wrong.
 */
export function verifyJoinAcceptMIC10(key: AES128Key, plainPhy: Uint8Array): boolean {
  checkJoinAccept(plainPhy);
  const b = bufferView(plainPhy);
  return sameMIC(mic(key, b.subarray(0, b.length - 4)), b);
}

/**
 * Checks the 1.1 (OptNeg) MIC of a decrypted join-accept (constant-time). FrameError when the
 * bytes are not a join-accept at all; false when only the MIC is wrong.
 */
export function verifyJoinAcceptMIC11(jsIntKey: AES128Key, joinReqType: number, joinEUI: EUI64, devNonce: DevNonce, plainPhy: Uint8Array): boolean {
  checkJoinAccept(plainPhy);
  const b = bufferView(plainPhy);
  const input = joinAcceptMICInput11(joinReqType, joinEUI, devNonce, b.subarray(0, b.length - 4));
  return sameMIC(mic(jsIntKey, input), b);
}

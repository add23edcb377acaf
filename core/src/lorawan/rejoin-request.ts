import type { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { FrameError } from './frame-error';
import { bufferView } from './hex';
import { eui64FromLE, eui64ToLE, netIDFromLE, netIDToLE, type EUI64, type NetID } from './identifiers';
import { checkMHDR, mhdrByte, MTYPE_REJOIN_REQUEST } from './mhdr';
import { devNonce as toDevNonce, devNonceToLE, type DevNonce } from './nonces';

/**
 * Rejoin-request (LoRaWAN 1.1), MHDR 0xC0, multi-byte fields little-endian on air.
 *
 * Type 0 or 2, 19 bytes (MIC'd with SNwkSIntKey, checked by the network server):
 *
 *   byte 0 MHDR | byte 1 type | bytes 2..4 NetID | bytes 5..12 DevEUI | bytes 13..14 RJcount0 | bytes 15..18 MIC
 *
 * Type 1, 24 bytes (MIC'd with JSIntKey, checked by the Join Server):
 *
 *   byte 0 MHDR | byte 1 type | bytes 2..9 JoinEUI | bytes 10..17 DevEUI | bytes 18..19 RJcount1 | bytes 20..23 MIC
 *
 * MIC = cmac(key, every byte before the MIC)[0:4]. RJcount0/1 are 16-bit counters typed as
 * DevNonce, whose place they take when a rejoin is answered.
 */
export type RejoinRequest =
  | {
      readonly rejoinType: 0 | 2;
      readonly netID: NetID;
      readonly devEUI: EUI64;
      readonly rjCount0: DevNonce;
      readonly mic: Buffer;
    }
  | {
      readonly rejoinType: 1;
      readonly joinEUI: EUI64;
      readonly devEUI: EUI64;
      readonly rjCount1: DevNonce;
      readonly mic: Buffer;
    };

const SIZE_TYPE_0_2 = 19;
const SIZE_TYPE_1 = 24;

/** Checks MHDR, type and size; returns the rejoin type. */
function checkRejoinRequest(phyPayload: Uint8Array): 0 | 1 | 2 {
  checkMHDR(phyPayload, MTYPE_REJOIN_REQUEST, 'rejoin-request');
  const type = phyPayload[1];
  if (type === undefined) throw new FrameError('FrameSize', 'rejoin-request: too short to hold a rejoin type');
  if (type !== 0 && type !== 1 && type !== 2) {
    throw new FrameError('RejoinType', `rejoin-request: unknown rejoin type ${type} (expected 0, 1 or 2)`);
  }
  const size = type === 1 ? SIZE_TYPE_1 : SIZE_TYPE_0_2;
  if (phyPayload.length !== size) {
    throw new FrameError('FrameSize', `rejoin-request type ${type}: expected ${size} bytes, got ${phyPayload.length}`);
  }
  return type;
}

/** Decodes a rejoin-request PHYPayload (FrameError when it is not one). The MIC is not checked here. */
export function decodeRejoinRequest(phyPayload: Uint8Array): RejoinRequest {
  const rejoinType = checkRejoinRequest(phyPayload);
  const b = bufferView(phyPayload);
  const mic = Buffer.from(b.subarray(b.length - 4));
  if (rejoinType === 1) {
    return {
      rejoinType,
      joinEUI: eui64FromLE(b.subarray(2, 10)),
      devEUI: eui64FromLE(b.subarray(10, 18)),
      rjCount1: toDevNonce(b.readUInt16LE(18), 'RJcount1'),
      mic,
    };
  }
  return {
    rejoinType,
    netID: netIDFromLE(b.subarray(2, 5)),
    devEUI: eui64FromLE(b.subarray(5, 13)),
    rjCount0: toDevNonce(b.readUInt16LE(13), 'RJcount0'),
    mic,
  };
}

/** The bytes a rejoin-request MIC covers: all but the last four. */
export function rejoinRequestMICInput(phyPayload: Uint8Array): Buffer {
  checkRejoinRequest(phyPayload);
  return Buffer.from(bufferView(phyPayload).subarray(0, phyPayload.length - 4));
}

/** The fields of a rejoin-request, without its MIC. */
export type RejoinRequestFields = WithoutMIC<RejoinRequest>;
// Distributes over the union, so each variant keeps its own fields.
type WithoutMIC<T> = T extends unknown ? Omit<T, 'mic'> : never;

/**
 * Builds a rejoin-request as a device does, MIC'd with `key` (JSIntKey for type 1,
 * SNwkSIntKey for types 0 and 2). For the device simulator and tests.
 */
export function encodeRejoinRequest(fields: RejoinRequestFields, key: AES128Key): Buffer {
  let frame: Buffer;
  if (fields.rejoinType === 1) {
    frame = Buffer.alloc(SIZE_TYPE_1);
    eui64ToLE(fields.joinEUI).copy(frame, 2);
    eui64ToLE(fields.devEUI).copy(frame, 10);
    devNonceToLE(fields.rjCount1).copy(frame, 18);
  } else {
    frame = Buffer.alloc(SIZE_TYPE_0_2);
    netIDToLE(fields.netID).copy(frame, 2);
    eui64ToLE(fields.devEUI).copy(frame, 5);
    devNonceToLE(fields.rjCount0).copy(frame, 13);
  }
  frame[0] = mhdrByte(MTYPE_REJOIN_REQUEST);
  frame[1] = fields.rejoinType;
  const micOffset = frame.length - 4;
  aesCmac(key, frame.subarray(0, micOffset)).copy(frame, micOffset, 0, 4);
  return frame;
}

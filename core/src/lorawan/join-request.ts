import type { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { FrameError } from './frame-error';
import { bufferView } from './hex';
import { eui64FromLE, eui64ToLE, type EUI64 } from './identifiers';
import { checkMHDR, mhdrByte, MTYPE_JOIN_REQUEST } from './mhdr';
import { devNonce as toDevNonce, devNonceToLE, type DevNonce } from './nonces';

/**
 * Join-request, 23 bytes on air (EUIs and DevNonce little-endian):
 *
 *   byte  0       MHDR 0x00 (MType 000 join-request, Major 00)
 *   bytes 1..8    JoinEUI (AppEUI in 1.0.x)
 *   bytes 9..16   DevEUI
 *   bytes 17..18  DevNonce
 *   bytes 19..22  MIC = cmac(key, bytes 0..18)[0:4]; key = AppKey (1.0.x) or NwkKey (1.1)
 */
export interface JoinRequest {
  readonly joinEUI: EUI64;
  readonly devEUI: EUI64;
  readonly devNonce: DevNonce;
  readonly mic: Buffer;
}

const JOIN_REQUEST_SIZE = 23;
const MIC_OFFSET = 19;

function checkJoinRequest(phyPayload: Uint8Array): void {
  checkMHDR(phyPayload, MTYPE_JOIN_REQUEST, 'join-request');
  if (phyPayload.length !== JOIN_REQUEST_SIZE) {
    throw new FrameError('FrameSize', `join-request: expected ${JOIN_REQUEST_SIZE} bytes, got ${phyPayload.length}`);
  }
}

/** Decodes a join-request PHYPayload (FrameError when it is not one). The MIC is not checked here. */
export function decodeJoinRequest(phyPayload: Uint8Array): JoinRequest {
  checkJoinRequest(phyPayload);
  const b = bufferView(phyPayload);
  return {
    joinEUI: eui64FromLE(b.subarray(1, 9)),
    devEUI: eui64FromLE(b.subarray(9, 17)),
    devNonce: toDevNonce(b.readUInt16LE(17)),
    mic: Buffer.from(b.subarray(MIC_OFFSET, JOIN_REQUEST_SIZE)),
  };
}

/** The bytes the join-request MIC covers: MHDR | JoinEUI | DevEUI | DevNonce (the first 19). */
export function joinRequestMICInput(phyPayload: Uint8Array): Buffer {
  checkJoinRequest(phyPayload);
  return Buffer.from(bufferView(phyPayload).subarray(0, MIC_OFFSET));
}

/**
 * Builds a join-request as a device does, MIC'd with `key` (the AppKey of a 1.0.x device, the
 * NwkKey of a 1.1 device). For the device simulator and tests.
 */
export function encodeJoinRequest(fields: { readonly joinEUI: EUI64; readonly devEUI: EUI64; readonly devNonce: DevNonce }, key: AES128Key): Buffer {
  const frame = Buffer.alloc(JOIN_REQUEST_SIZE);
  frame[0] = mhdrByte(MTYPE_JOIN_REQUEST);
  eui64ToLE(fields.joinEUI).copy(frame, 1);
  eui64ToLE(fields.devEUI).copy(frame, 9);
  devNonceToLE(fields.devNonce).copy(frame, 17);
  aesCmac(key, frame.subarray(0, MIC_OFFSET)).copy(frame, MIC_OFFSET, 0, 4);
  return frame;
}

import { FrameError } from './frame-error';

/**
 * The MHDR, first byte of every PHYPayload: MType (bits 7..5) | RFU (bits 4..2) | Major (bits 1..0).
 */
export const MTYPE_JOIN_REQUEST = 0b000;
export const MTYPE_JOIN_ACCEPT = 0b001;
export const MTYPE_REJOIN_REQUEST = 0b110;

/** The MHDR byte for `mType` with RFU 000 and Major 00 (LoRaWAN R1), as a sender writes it. */
export function mhdrByte(mType: number): number {
  return (mType << 5) & 0xff;
}

const MTYPE_NAMES: readonly string[] = ['join-request', 'join-accept', 'unconfirmed data up', 'unconfirmed data down', 'confirmed data up', 'confirmed data down', 'rejoin-request', 'proprietary'];

/**
 * Checks a received frame's MHDR: present, the expected MType, Major 00. The RFU bits are
 * ignored, as a receiver should ignore RFU bits; they stay covered by the MIC, which is
 * computed over the byte as received.
 */
export function checkMHDR(phyPayload: Uint8Array, mType: number, frame: string): void {
  const mhdr = phyPayload[0];
  if (mhdr === undefined) throw new FrameError('FrameSize', `${frame}: empty PHYPayload`);
  const got = mhdr >>> 5;
  if (got !== mType) {
    throw new FrameError('MType', `${frame}: the MHDR message type is ${MTYPE_NAMES[got] ?? got}, not ${MTYPE_NAMES[mType] ?? mType}`);
  }
  const major = mhdr & 0b11;
  if (major !== 0) throw new FrameError('Major', `${frame}: unknown LoRaWAN major version ${major} (only 0, LoRaWAN R1)`);
}

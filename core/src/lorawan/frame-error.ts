/**
 * What is wrong with a LoRaWAN frame:
 * - `FrameSize`: wrong length for the frame (or too short to hold an MHDR);
 * - `MType`: the MHDR's message type is not the one this decoder reads;
 * - `Major`: the MHDR's major version is not LoRaWAN R1 (00);
 * - `RejoinType`: a rejoin-request whose type is not 0, 1 or 2.
 */
export type FrameErrorCode = 'FrameSize' | 'MType' | 'Major' | 'RejoinType';

/** A PHYPayload that is not the frame it should be. Messages name sizes and types, never bytes. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}

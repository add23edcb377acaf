import type { DevAddr, EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';

/** A JoinReq after parsing at the edge: every field typed, nothing left to validate but meaning. */
export interface JoinRequestInput {
  /** The MAC version the network server believes the device has. */
  readonly macVersion: MACVersion;
  readonly phyPayload: Buffer;
  readonly devEUI: EUI64;
  /** The request's ReceiverID: the JoinEUI the network server resolved to this Join Server. */
  readonly receiverJoinEUI: EUI64;
  readonly devAddr: DevAddr;
  readonly dlSettings: number;
  readonly rxDelay: number;
  readonly cfList: Buffer | undefined;
}

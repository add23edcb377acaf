import type { DevAddr, EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';
import type { Failure } from './failure';
import type { JoinRequestFrame } from './join-request-frame';

/**
 * A JoinReq or RejoinReq after parsing at the edge: every field typed, and its PHYPayload
 * decoded once (or why it does not decode: refused by the engine, after the checks that come
 * before it). Nothing left to validate but meaning.
 */
export interface JoinRequestMessage {
  readonly messageType: 'JoinReq' | 'RejoinReq';
  /** The MAC version the network server believes the device has. */
  readonly macVersion: MACVersion;
  readonly phyPayload: Buffer;
  readonly frame: JoinRequestFrame | Failure;
  readonly devEUI: EUI64;
  /** The request's ReceiverID: the JoinEUI the network server resolved to this Join Server. */
  readonly receiverJoinEUI: EUI64;
  readonly devAddr: DevAddr;
  readonly dlSettings: number;
  readonly rxDelay: number;
  readonly cfList: Buffer | undefined;
}

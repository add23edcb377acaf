import { FrameError } from '../lorawan/frame-error';
import type { EUI64, NetID } from '../lorawan/identifiers';
import { decodeJoinRequest } from '../lorawan/join-request';
import type { DevNonce } from '../lorawan/nonces';
import { decodeRejoinRequest } from '../lorawan/rejoin-request';
import type { JoinType } from '../store/join-record';
import { failure, type Failure } from './failure';

/**
 * The PHYPayload of a JoinReq or RejoinReq, decoded once at the edge: a join-request, or a
 * LoRaWAN 1.1 rejoin-request of type 0, 1 or 2. `counter` is what the answer's session keys and
 * 1.1 join-accept MIC take as DevNonce: the DevNonce of a join-request, RJcount1 of a rejoin
 * type 1, RJcount0 of a rejoin type 0 or 2. `joinReqType` is the 1.1 join-accept MIC's: 0xFF
 * answering a join-request, else the rejoin type.
 */
export type JoinRequestFrame =
  | (FrameCheckedHere & { readonly joinType: 'join'; readonly joinReqType: 0xff })
  | (FrameCheckedHere & { readonly joinType: 'rejoin-1'; readonly joinReqType: 1 })
  | {
      readonly ok: true;
      /** MIC'd with SNwkSIntKey, which only the network server has: it checked the MIC. They name a NetID, no JoinEUI. */
      readonly joinType: 'rejoin-0' | 'rejoin-2';
      readonly joinReqType: 0 | 2;
      readonly devEUI: EUI64;
      readonly netID: NetID;
      readonly counter: DevNonce;
    };

/** A join-request (MIC'd with a root key) or rejoin-request type 1 (with JSIntKey): the Join Server checks its MIC, over `micInput`. */
interface FrameCheckedHere {
  readonly ok: true;
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly counter: DevNonce;
  readonly mic: Buffer;
  readonly micInput: Buffer;
}

/** A JoinReq carries a join-request, a RejoinReq a rejoin-request; anything else is FrameSize or Malformed. */
export function decodeJoinRequestFrame(messageType: 'JoinReq' | 'RejoinReq', phyPayload: Buffer): JoinRequestFrame | Failure {
  try {
    const micInput = phyPayload.subarray(0, phyPayload.length - 4);
    if (messageType === 'JoinReq') {
      const f = decodeJoinRequest(phyPayload);
      return { ok: true, joinType: 'join', joinReqType: 0xff, devEUI: f.devEUI, joinEUI: f.joinEUI, counter: f.devNonce, mic: f.mic, micInput };
    }
    const f = decodeRejoinRequest(phyPayload);
    if (f.rejoinType === 1) return { ok: true, joinType: 'rejoin-1', joinReqType: 1, devEUI: f.devEUI, joinEUI: f.joinEUI, counter: f.rjCount1, mic: f.mic, micInput };
    return { ok: true, joinType: f.rejoinType === 0 ? 'rejoin-0' : 'rejoin-2', joinReqType: f.rejoinType, devEUI: f.devEUI, netID: f.netID, counter: f.rjCount0 };
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    const what = messageType === 'JoinReq' ? 'join-request' : 'rejoin-request';
    return failure(err.code === 'FrameSize' ? 'FrameSize' : 'Malformed', `PHYPayload is not a ${what}: ${err.message}`);
  }
}

/** What the join-request or rejoin-request is called in a refusal's Description. */
export function frameName(frame: JoinRequestFrame): string {
  return frame.joinType === 'join' ? 'join-request' : `rejoin-request type ${frame.joinReqType}`;
}

/** The join type of a request whose frame did not decode: its message type, and a rejoin's type byte when it has one. */
export function undecodedJoinType(messageType: 'JoinReq' | 'RejoinReq', phyPayload: Buffer): JoinType {
  if (messageType === 'JoinReq') return 'join';
  const type = phyPayload[1];
  return type === 1 ? 'rejoin-1' : type === 2 ? 'rejoin-2' : 'rejoin-0';
}

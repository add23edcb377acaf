import type { BIReply } from '../backend-interfaces/bi-handler';
import type { RequestHeader } from '../backend-interfaces/request-header';
import type { Failure } from '../join/failure';
import type { JoinAnswer } from '../join/join-answer';
import type { JoinRequestInput } from '../join/join-request-input';
import type { JoineryMetrics } from '../metrics/metrics';
import type { Peer } from '../peers/peer';
import { decodeJoinRequest } from '../lorawan/join-request';
import { decodeRejoinRequest } from '../lorawan/rejoin-request';
import type { JoinType } from '../store/join-record';
import type { Device } from '../store/device';
import { OPERATOR_TENANT, type TenantID } from '../tenants/tenant';
import type { JoinEventListener } from './join-event';

/** What the handler learnt of a JoinReq/RejoinReq on its way to the answer. */
export interface SeenActivation {
  input?: JoinRequestInput;
  outcome?: JoinAnswer | Failure;
  /** The tenant the device belongs to, once it was found (joinEventTenant). */
  tenant?: TenantID;
}

/**
 * The tenant of a device's join events: its owner, or, while nobody has claimed it, the maker
 * that imported it. A request for no known device is the operator's to see.
 */
export function joinEventTenant(device: Pick<Device, 'ownership'> | null): TenantID {
  return device ? (device.ownership.owner ?? device.ownership.manufacturer) : OPERATOR_TENANT;
}

/**
 * The metrics of one answered join (joins by result, MAC version and peer; latency; DevNonce
 * refusals) and its join event. Labels are bounded: message type, BI result code, MAC version
 * (`unknown` when the request did not parse), peer name. Never a DevEUI, never a key.
 */
export function recordJoin(metrics: JoineryMetrics, onJoin: JoinEventListener | undefined, header: RequestHeader, peer: Peer, seen: SeenActivation, reply: BIReply, started: bigint): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const resultObject = reply.kind === 'answer' ? reply.answer.Result : undefined;
  const result = resultObject?.ResultCode ?? 'Acknowledged';
  const macVersion = seen.input?.macVersion ?? 'unknown';
  const messageType = header.messageType === 'RejoinReq' ? 'RejoinReq' : 'JoinReq';
  metrics.joins.inc({ message_type: messageType, result, mac_version: macVersion, peer: peer.name });
  metrics.joinLatency.observe({ mac_version: macVersion, outcome: result === 'Success' ? 'success' : 'refused' }, seconds);
  const outcome = seen.outcome;
  if (outcome && !outcome.ok && (outcome.code === 'DevNonceReplayed' || outcome.code === 'RJCountReplayed')) {
    metrics.devNonceRefusals.inc({ mac_version: macVersion, peer: peer.name });
  }
  if (outcome && !outcome.ok && outcome.code === 'RejoinRateExceeded') metrics.rejoinsRefused.inc({ peer: peer.name });
  if (!onJoin || !seen.input) return;
  try {
    onJoin({
      messageType,
      ...requestKind(messageType, seen.input.phyPayload),
      devEUI: seen.input.devEUI,
      joinEUI: seen.input.receiverJoinEUI,
      tenant: seen.tenant ?? joinEventTenant(null),
      peer: peer.name,
      macVersion,
      result,
      ...(result !== 'Success' && resultObject?.Description ? { description: resultObject.Description } : {}),
      ...(outcome?.ok ? { joinNonce: outcome.joinNonce, devNonce: outcome.devNonce } : {}),
      time: new Date().toISOString(),
      latencyMs: Math.round(seconds * 1e6) / 1000,
    });
  } catch {
    // A listener never fails a join.
  }
}

/** The request's type and counter (DevNonce, RJcount0 or RJcount1), read from its frame; no counter when it does not decode. */
function requestKind(messageType: 'JoinReq' | 'RejoinReq', phyPayload: Buffer): { joinType: JoinType; devNonce?: number } {
  try {
    if (messageType === 'JoinReq') return { joinType: 'join', devNonce: decodeJoinRequest(phyPayload).devNonce };
    const rejoin = decodeRejoinRequest(phyPayload);
    return rejoin.rejoinType === 1 ? { joinType: 'rejoin-1', devNonce: rejoin.rjCount1 } : { joinType: `rejoin-${rejoin.rejoinType}`, devNonce: rejoin.rjCount0 };
  } catch {
    const type = phyPayload[1];
    return { joinType: messageType === 'JoinReq' ? 'join' : type === 1 ? 'rejoin-1' : type === 2 ? 'rejoin-2' : 'rejoin-0' };
  }
}

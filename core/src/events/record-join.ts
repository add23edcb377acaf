import type { JoinOutcome } from '../join/join-outcome';
import { undecodedJoinType } from '../join/join-request-frame';
import type { JoinRequestMessage } from '../join/join-request-message';
import type { JoineryMetrics } from '../metrics/metrics';
import type { Device } from '../store/device';
import { OPERATOR_TENANT, type TenantID } from '../tenants/tenant';
import type { JoinEventListener } from './join-event';

/** A JoinReq or RejoinReq once answered: what is known of it, whatever stage it reached. */
export interface AnsweredJoin {
  readonly messageType: 'JoinReq' | 'RejoinReq';
  /** The network server (peer name) that asked. */
  readonly peer: string;
  /** The request, once it parsed. */
  readonly request: JoinRequestMessage | undefined;
  /** The engine's outcome, once the engine answered. */
  readonly outcome: JoinOutcome | undefined;
  /** The BI result code answered, and its Description. */
  readonly result: string;
  readonly description: string | undefined;
  /** Since the request was received. */
  readonly seconds: number;
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
export function recordJoin(metrics: JoineryMetrics, onJoin: JoinEventListener | undefined, join: AnsweredJoin): void {
  const { messageType, peer, request, result } = join;
  const macVersion = request?.macVersion ?? 'unknown';
  metrics.joins.inc({ message_type: messageType, result, mac_version: macVersion, peer });
  metrics.joinLatency.observe({ mac_version: macVersion, outcome: result === 'Success' ? 'success' : 'refused' }, join.seconds);
  const outcome = join.outcome?.result;
  if (outcome && !outcome.ok && (outcome.code === 'DevNonceReplayed' || outcome.code === 'RJCountReplayed')) {
    metrics.devNonceRefusals.inc({ mac_version: macVersion, peer });
  }
  if (outcome && !outcome.ok && outcome.code === 'RejoinRateExceeded') metrics.rejoinsRefused.inc({ peer });
  if (!onJoin || !request) return;
  const frame = request.frame;
  try {
    onJoin({
      messageType,
      // The request's type and counter (DevNonce, RJcount0 or RJcount1); no counter when its frame did not decode.
      ...(frame.ok ? { joinType: frame.joinType, devNonce: frame.counter } : { joinType: undecodedJoinType(messageType, request.phyPayload) }),
      devEUI: request.devEUI,
      joinEUI: request.receiverJoinEUI,
      tenant: joinEventTenant(join.outcome?.device ?? null),
      peer,
      macVersion,
      result,
      ...(result !== 'Success' && join.description ? { description: join.description } : {}),
      ...(outcome?.ok ? { joinNonce: outcome.joinNonce, devNonce: outcome.devNonce } : {}),
      time: new Date().toISOString(),
      latencyMs: Math.round(join.seconds * 1e6) / 1000,
    });
  } catch {
    // A listener never fails a join.
  }
}

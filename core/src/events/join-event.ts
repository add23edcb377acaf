/**
 * What happened to one join-request or rejoin-request, for integrations (MQTT) and metrics.
 * Identifiers, the outcome and the JoinNonce issued: never a key, wrapped or not.
 */
import type { JoinType } from '../store/join-record';

export interface JoinEvent {
  readonly messageType: 'JoinReq' | 'RejoinReq';
  /** A join-request, or a rejoin-request of type 0, 1 or 2. */
  readonly joinType: JoinType;
  /** Canonical lower-case hex (parsed, so safe in a topic). */
  readonly devEUI: string;
  readonly joinEUI: string;
  /** The device's owner (its maker while unclaimed; the operator for an unknown device): record-join.ts. */
  readonly tenant: string;
  /** The network server (peer name) that asked. */
  readonly peer: string;
  /** The MAC version the network server gave. */
  readonly macVersion: string;
  /** The BI result code answered (`Success`, `MICFailed`, `JoinReqFailed`...). */
  readonly result: string;
  /** Why it was refused (the BI Result Description); absent on success. */
  readonly description?: string;
  /** The JoinNonce issued, on success. */
  readonly joinNonce?: number;
  /** The DevNonce (or rejoin counter) of the request, whenever its frame decoded. */
  readonly devNonce?: number;
  /** When it was answered (ISO 8601). */
  readonly time: string;
  readonly latencyMs: number;
}

export type JoinEventListener = (event: JoinEvent) => void;

/** The MQTT topic of a join event: `<prefix>/<tenant>/devices/<devEUI>/join`. */
export function joinEventTopic(prefix: string, event: Pick<JoinEvent, 'tenant' | 'devEUI'>): string {
  return `${prefix}/${event.tenant}/devices/${event.devEUI}/join`;
}

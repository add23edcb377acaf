import type { EUI64 } from '../lorawan/identifiers';

/** Which request a join attempt was: a join-request, or a LoRaWAN 1.1 rejoin-request of type 0, 1 or 2. */
export type JoinType = 'join' | 'rejoin-0' | 'rejoin-1' | 'rejoin-2';

export const JOIN_TYPES: readonly JoinType[] = ['join', 'rejoin-0', 'rejoin-1', 'rejoin-2'];

/**
 * One join attempt that reached a known device, accepted or refused: an entry of the device's
 * join history. Identifiers, the outcome and nonce values; never a key.
 */
export interface JoinRecord {
  readonly devEUI: EUI64;
  /** The JoinEUI the network server resolved (the request's ReceiverID). */
  readonly joinEUI: EUI64;
  readonly at: Date;
  /** The network server peer that asked. */
  readonly peer: string;
  readonly joinType: JoinType;
  /** The MAC version the network server gave. */
  readonly macVersion: string;
  /** The BI result code answered: `Success`, `JoinReqFailed`, `MICFailed`... */
  readonly result: string;
  /** Why it was refused (the BI Result Description); null on success. */
  readonly description: string | null;
  /** The request's DevNonce (RJcount for a rejoin), when the frame decoded. */
  readonly devNonce: number | null;
  /** The JoinNonce issued, on success. */
  readonly joinNonce: number | null;
}

/** How many join records a device keeps (the newest). */
export const DEFAULT_JOIN_HISTORY = 50;

export function parseJoinType(value: string): JoinType {
  if ((JOIN_TYPES as readonly string[]).includes(value)) return value as JoinType;
  throw new Error(`join record: unknown join type ${JSON.stringify(value)}`);
}

import type { EUI64 } from '../lorawan/identifiers';

/** A join or uplink the network server reported (its MQTT integration). */
export interface NetworkServerEvent {
  readonly kind: 'join' | 'up';
  readonly devEUI: EUI64;
  /** When the network server says it happened (else when it arrived). */
  readonly at: Date;
  /** Uplinks: the frame counter and FPort, when the network server sent them. */
  readonly fCnt?: number;
  readonly fPort?: number;
  /** Uplinks: the decrypted FRMPayload as the network server sent it (base64 decoded), when present. */
  readonly payload?: Buffer;
  /** Joins: the DevAddr assigned, when sent. */
  readonly devAddr?: string;
  /** The MQTT topic it came on. */
  readonly topic: string;
}

/** An open event stream: iterate it; close() ends the iteration and disconnects. */
export interface EventWatch extends AsyncIterable<NetworkServerEvent> {
  /** Resolves once the subscriptions are in place (events published after this are seen). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

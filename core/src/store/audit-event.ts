import type { EUI64 } from '../lorawan/identifiers';

/**
 * One entry of the audit trail: who did what to which device, when. `detail` holds plain,
 * non-secret facts (never a key); the store keeps entries in the order they were written.
 */
export interface AuditEvent {
  readonly at: Date;
  /** Who: `cli:<user>@<host>`, an API key id, `system`. */
  readonly actor: string;
  /** What, as a stable dotted name: `device.dev-nonce.reset`. */
  readonly action: string;
  readonly devEUI: EUI64 | null;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditQuery {
  readonly devEUI?: EUI64;
  readonly limit: number;
}

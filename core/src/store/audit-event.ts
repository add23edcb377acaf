import type { EUI64 } from '../lorawan/identifiers';

/**
 * One entry of the audit trail: who did what to which device, when. `detail` holds plain,
 * non-secret facts (never a key); the store keeps entries in the order they were written.
 */
export interface AuditEvent {
  readonly at: Date;
  /** Who: `cli:<user>@<host>`, `api-key:<id>`, `peer:<name>`, `system`. */
  readonly actor: string;
  /** On behalf of which tenant; null: the instance itself. */
  readonly tenantID: string | null;
  /** From where: the client address of an API request, `cli@<host>` for the local CLI. */
  readonly source: string | null;
  /** What, as a stable dotted name: `device.dev-nonce.reset`. */
  readonly action: string;
  readonly devEUI: EUI64 | null;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditQuery {
  readonly devEUI?: EUI64;
  /** Only entries of this tenant. */
  readonly tenantID?: string;
  readonly limit: number;
}

/**
 * An audit entry as stored: numbered, and chained. `hash` is SHA-256 over the entry's content
 * and `prevHash` (the previous entry's hash; 64 zeros for the first), so an edited, removed or
 * inserted row breaks the chain at that row (`joinery audit verify`).
 */
export interface AuditRecord extends AuditEvent {
  readonly id: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** Who acts, for whom, from where: what every audit entry of one request or command shares. */
export interface AuditContext {
  readonly actor: string;
  readonly tenantID: string | null;
  readonly source: string | null;
}

export function auditEvent(context: AuditContext, action: string, devEUI: EUI64 | null, detail: AuditEvent['detail'] = {}): AuditEvent {
  return { at: new Date(), actor: context.actor, tenantID: context.tenantID, source: context.source, action, devEUI, detail };
}

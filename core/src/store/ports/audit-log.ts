import type { AuditEvent, AuditQuery, AuditRecord } from '../audit-event';

/** The hash-chained audit trail (every audited write appends to it in its own transaction). */
export interface AuditLog {
  /** Audit entries, newest first. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Appends an entry to the audit trail (hash-chained to the one before it). */
  appendAudit(event: AuditEvent): Promise<void>;
  /** The audit trail as stored, with its chain: entries with an id above `afterID`, ascending. */
  readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]>;
}

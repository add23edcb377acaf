import { parseEUI64 } from '../../lorawan/identifiers';
import { AUDIT_GENESIS, auditHash } from '../audit-chain';
import type { AuditEvent, AuditQuery, AuditRecord } from '../audit-event';
import type { AuditLog } from '../ports/audit-log';
import { asDate, asInt, count, firstRow, rows, type SqlDialect, type SqlInt, type SqlRunner, type SqlTime, type Work } from './sql-work';

/** An audit_events row as either database gives it. */
export interface AuditRow {
  readonly id: SqlInt;
  readonly at: SqlTime;
  readonly actor: string;
  readonly tenant_id: string | null;
  readonly source: string | null;
  readonly action: string;
  readonly dev_eui: string | null;
  readonly detail: string;
  readonly prev_hash: string | null;
  readonly hash: string | null;
}

const AUDIT_COLUMNS = 'id, at, actor, tenant_id, source, action, dev_eui, detail, prev_hash, hash';

export function auditEventFromRow(row: AuditRow): AuditEvent {
  return {
    at: asDate(row.at),
    actor: row.actor,
    tenantID: row.tenant_id,
    source: row.source,
    action: row.action,
    devEUI: row.dev_eui === null ? null : parseEUI64(row.dev_eui, 'audit_events.dev_eui'),
    detail: JSON.parse(row.detail) as AuditEvent['detail'],
  };
}

/** A stored entry with its chain fields (an unhashed one reads as hash ''). */
function auditRecordFromRow(row: AuditRow): AuditRecord {
  return { ...auditEventFromRow(row), id: asInt(row.id, 'audit_events.id'), prevHash: row.prev_hash ?? '', hash: row.hash ?? '' };
}

/** Inside a write transaction: the next entry, chained to the last one (one writer at a time: the dialect's lock). */
export function* appendAuditEntry(dialect: SqlDialect, event: AuditEvent): Work<void> {
  for (const s of dialect.auditLock) yield s;
  const last = yield* firstRow<{ id: SqlInt; hash: string | null }>('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1');
  const id = (last ? asInt(last.id, 'audit_events.id') : 0) + 1;
  const prevHash = last?.hash ?? AUDIT_GENESIS;
  const values = [id, event.at, event.actor, event.tenantID, event.source, event.action, event.devEUI, JSON.stringify(event.detail), prevHash, auditHash(id, event, prevHash)];
  yield* count(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values);
}

/** Runs `write` and, when it wrote (true), appends `audit`: the shape of every audited write, inside the caller's transaction. */
export function* audited(dialect: SqlDialect, write: Work<boolean>, audit: AuditEvent | undefined): Work<boolean> {
  if (!(yield* write)) return false;
  if (audit) yield* appendAuditEntry(dialect, audit);
  return true;
}

/** The hash-chained audit trail, the same SQL on both databases. */
export class SqlAuditLog implements AuditLog {
  constructor(private readonly sql: SqlRunner) {}

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (query.devEUI !== undefined) {
      conditions.push('dev_eui = ?');
      params.push(query.devEUI);
    }
    if (query.tenantID !== undefined) {
      conditions.push('tenant_id = ?');
      params.push(query.tenantID);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const found = await this.sql.run('listing audit events', rows<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events ${where} ORDER BY id DESC LIMIT ?`, [...params, query.limit]));
    return found.map(auditEventFromRow);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.sql.transaction('appending to the audit trail', () => appendAuditEntry(this.sql.dialect, event));
  }

  async readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]> {
    const found = await this.sql.run('reading the audit trail', rows<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`, [afterID, limit]));
    return found.map(auditRecordFromRow);
  }

  /** See `chainUnhashedAuditRows` (the function). */
  async chainUnhashedAuditRows(): Promise<void> {
    await this.sql.transaction('chaining the audit trail', () => chainUnhashedAuditRows(this.sql.dialect));
  }
}

/**
 * Entries written before the chain existed (schema 3) get their hashes, in order, chained to
 * the entry before them: once, when a store is opened after the upgrade (under the chain's
 * lock, so two instances opening at once do not race).
 */
export function* chainUnhashedAuditRows(dialect: SqlDialect): Work<void> {
  for (const s of dialect.auditLock) yield s;
  const unhashed = yield* rows<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY id`);
  for (const r of unhashed) {
    const id = asInt(r.id, 'audit_events.id');
    const before = yield* firstRow<{ hash: string | null }>('SELECT hash FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT 1', [id]);
    const prevHash = before?.hash ?? AUDIT_GENESIS;
    yield* count('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?', [prevHash, auditHash(id, auditEventFromRow(r), prevHash), id]);
  }
}

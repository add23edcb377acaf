import { createHash } from 'node:crypto';
import type { AuditEvent, AuditRecord } from './audit-event';

/** The previous hash of the first entry. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one text per value. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** An entry's hash: over its number, every field, and the previous entry's hash. */
export function auditHash(id: number, event: AuditEvent, prevHash: string): string {
  const content = canonical({
    id,
    at: event.at.getTime(),
    actor: event.actor,
    tenantID: event.tenantID,
    source: event.source,
    action: event.action,
    devEUI: event.devEUI,
    detail: event.detail,
    prevHash,
  });
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export type AuditChainCheck = { readonly ok: true; readonly entries: number } | { readonly ok: false; readonly entries: number; readonly badID: number; readonly reason: string };

/**
 * Walks the chain page by page (ascending ids) and names the first row that does not hold:
 * its hash is not the hash of its content, or its previous hash is not the hash of the row
 * before it.
 */
export async function verifyAuditChain(readPage: (afterID: number, limit: number) => Promise<readonly AuditRecord[]>, pageSize = 1000): Promise<AuditChainCheck> {
  let prev = AUDIT_GENESIS;
  let after = 0;
  let entries = 0;
  for (;;) {
    const page = await readPage(after, pageSize);
    if (page.length === 0) return { ok: true, entries };
    for (const r of page) {
      if (r.prevHash !== prev) return { ok: false, entries, badID: r.id, reason: 'its previous hash is not the hash of the entry before it (an entry was removed, inserted or edited)' };
      if (auditHash(r.id, r, r.prevHash) !== r.hash) return { ok: false, entries, badID: r.id, reason: 'its content does not match its hash (the entry was edited)' };
      prev = r.hash;
      after = r.id;
      entries++;
    }
  }
}

import { type Store } from '@joinery/core';
import { verifyAuditChain } from '../../../../core/src/store/audit-chain';
import type { StoreConformance } from './conformance-context';

/** The hash-chained audit trail. */
export function auditLogConformance(c: StoreConformance): void {
  const { audit } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

  test('audit/every entry is chained to the one before it; the whole chain verifies', async () => {
    await store.appendAudit(audit('test.one'));
    await Promise.all([1, 2, 3, 4, 5].map((i) => store.appendAudit(audit(`test.concurrent.${i}`))));
    const chain = await store.readAuditChain(0, 1_000_000);
    expect(chain.length).toBeGreaterThanOrEqual(6);
    chain.forEach((r, i) => {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(r.prevHash).toBe(chain[i - 1]!.hash);
    });
    expect(await verifyAuditChain((after, limit) => store.readAuditChain(after, limit), 7)).toEqual({ ok: true, entries: chain.length });
  });
}

import { type Store } from '@joinery/core';
import { issueApiKey } from '../../../../core/src/tenants/api-key';
import { OPERATOR_TENANT, TenantExistsError } from '../../../../core/src/tenants/tenant';
import type { StoreConformance } from './conformance-context';

/** Tenants and API keys. */
export function tenantRegistryConformance(c: StoreConformance): void {
  const { thrown, audit, tenantOf } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

  test('tenants/insert (audited), get, list; a duplicate id is TenantExistsError', async () => {
    const t = { id: tenantOf('maker'), name: 'Maker Inc.', roles: ['manufacturer', 'owner'] as const, createdAt: new Date(1_700_000_000_789) };
    await store.insertTenant({ ...t, roles: [...t.roles] }, audit('tenant.add', null, t.id));
    expect(await store.getTenant(t.id)).toEqual({ ...t, roles: ['manufacturer', 'owner'] });
    expect((await store.listTenants()).map((x) => x.id)).toEqual(expect.arrayContaining([t.id, OPERATOR_TENANT]));
    expect(await store.getTenant(tenantOf('nobody'))).toBeNull();
    expect(await thrown(store.insertTenant({ ...t, roles: ['owner'] }, audit('tenant.add')))).toBeInstanceOf(TenantExistsError);
    expect((await store.listAuditEvents({ tenantID: t.id, limit: 10 })).map((e) => e.action)).toEqual(['tenant.add']);
  });

  test('tenants/the operator tenant exists from the start, with the admin role', async () => {
    expect((await store.getTenant(OPERATOR_TENANT))?.roles).toContain('admin');
  });

  test('api keys/stored hashed, listed per tenant, revoked once', async () => {
    const tenantID = tenantOf('keys');
    await store.insertTenant({ id: tenantID, name: 'k', roles: ['owner'], createdAt: new Date() }, audit('tenant.add'));
    const issued = issueApiKey(tenantID, ['devices:read', 'claims'], 'ci');
    await store.insertApiKey(issued.record, audit('api-key.add', null, tenantID));
    expect(await store.getApiKey(issued.record.id)).toEqual(issued.record);
    expect(JSON.stringify(await store.getApiKey(issued.record.id))).not.toContain(issued.key.slice('jny_0123456789abcdef_'.length));
    expect(await store.listApiKeys(tenantID)).toEqual([issued.record]);
    const at = new Date(1_700_000_500_000);
    expect(await store.revokeApiKey(issued.record.id, at, audit('api-key.revoke', null, tenantID))).toBe(true);
    expect((await store.getApiKey(issued.record.id))?.revokedAt).toEqual(at);
    expect(await store.revokeApiKey(issued.record.id, at, audit('api-key.revoke', null, tenantID))).toBe(false);
    expect((await store.listAuditEvents({ tenantID, limit: 10 })).map((e) => e.action)).toEqual(['api-key.revoke', 'api-key.add']);
  });
}

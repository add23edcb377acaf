import type { ApiKeyRecord } from '../../tenants/api-key';
import type { Tenant, TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';

/** Tenants and their API keys (tenant commands and routes; the admin API's authentication). */
export interface TenantRegistry {
  /** Throws TenantExistsError on a duplicate id. */
  insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void>;
  getTenant(id: TenantID): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;

  insertApiKey(key: ApiKeyRecord, audit: AuditEvent): Promise<void>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  /** The tenant's keys, revoked ones included, oldest first. */
  listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked (it stops working at once); false when there is no such live key. */
  revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean>;
}

import { auditEvent } from '../store/audit-event';
import type { TenantRegistry } from '../store/ports/tenant-registry';
import { apiKeySecretMatches, issueApiKey, SCOPES, splitApiKey, type ApiKeyRecord, type IssuedApiKey, type Scope } from './api-key';
import { isInstanceAdmin, mayActFor, notFound, requireScopeOf, type Principal } from './principal';
import { Refusal } from './refusal';
import { OPERATOR_TENANT, TenantExistsError, type Tenant, type TenantID, type TenantRole } from './tenant';

/** An API key as shown after creation: never its secret. */
export type ApiKeyView = Omit<ApiKeyRecord, 'secretHash'>;

export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  const { secretHash: _hidden, ...view } = k;
  return view;
}

/**
 * Tenants and their API keys: who may call the admin API, and as whom. Only the operator
 * (a tenant with the `admin` role, with an `admin`-scoped key) creates tenants; a tenant's
 * `admin`-scoped key manages that tenant's own keys.
 */
export class TenantService {
  constructor(private readonly store: TenantRegistry) {}

  /** The principal behind an `Authorization: Bearer <key>` (or a bare key); 401 otherwise. */
  async authenticate(key: string | undefined, source: string | null): Promise<Principal> {
    const presented = key?.replace(/^Bearer\s+/i, '').trim();
    if (!presented) throw new Refusal('unauthenticated', 'an API key is required: Authorization: Bearer <key>');
    const parts = splitApiKey(presented);
    const record = parts ? await this.store.getApiKey(parts.id) : null;
    if (!parts || !record || !apiKeySecretMatches(record, parts.secret) || record.revokedAt !== null) {
      throw new Refusal('unauthenticated', 'unknown or revoked API key');
    }
    const tenant = await this.store.getTenant(record.tenantID);
    if (!tenant) throw new Refusal('unauthenticated', 'unknown or revoked API key');
    return { tenant, tenantID: tenant.id, scopes: record.scopes, actor: `api-key:${record.id}`, source };
  }

  /** The local CLI: the operator, with every scope. */
  async operator(context: { readonly actor: string; readonly source: string | null }): Promise<Principal> {
    const tenant = await this.store.getTenant(OPERATOR_TENANT);
    if (!tenant) throw new Error('the operator tenant is missing from the database (schema migration 3 creates it)');
    return { tenant, tenantID: tenant.id, scopes: SCOPES, actor: context.actor, source: context.source };
  }

  /** Creates a tenant and its first API key (every scope), shown once. */
  async createTenant(p: Principal, input: { readonly id: TenantID; readonly name: string; readonly roles: readonly TenantRole[] }): Promise<{ tenant: Tenant; apiKey: IssuedApiKey }> {
    this.#requireInstanceAdmin(p);
    const tenant: Tenant = { id: input.id, name: input.name.trim() === '' ? input.id : input.name.trim(), roles: input.roles, createdAt: new Date() };
    try {
      await this.store.insertTenant(tenant, auditEvent(p, 'tenant.add', null, { tenant: tenant.id, roles: tenant.roles.join(',') }));
    } catch (err) {
      if (err instanceof TenantExistsError) throw new Refusal('conflict', err.message);
      throw err;
    }
    const apiKey = await this.#issue(p, tenant.id, SCOPES, 'first key');
    return { tenant, apiKey };
  }

  async listTenants(p: Principal): Promise<Tenant[]> {
    if (isInstanceAdmin(p)) return this.store.listTenants();
    return [p.tenant];
  }

  async getTenant(p: Principal, id: TenantID): Promise<Tenant> {
    const tenant = mayActFor(p, id) ? await this.store.getTenant(id) : null;
    if (!tenant) throw notFound(`tenant ${id}`);
    return tenant;
  }

  async createApiKey(p: Principal, tenantID: TenantID, scopes: readonly Scope[], label: string): Promise<IssuedApiKey> {
    await this.#requireKeyAdmin(p, tenantID);
    return this.#issue(p, tenantID, scopes, label);
  }

  async listApiKeys(p: Principal, tenantID: TenantID): Promise<ApiKeyView[]> {
    await this.#requireKeyAdmin(p, tenantID);
    return (await this.store.listApiKeys(tenantID)).map(apiKeyView);
  }

  async revokeApiKey(p: Principal, tenantID: TenantID, keyID: string): Promise<void> {
    await this.#requireKeyAdmin(p, tenantID);
    const key = await this.store.getApiKey(keyID);
    if (!key || key.tenantID !== tenantID) throw notFound(`API key ${keyID} of tenant ${tenantID}`);
    if (!(await this.store.revokeApiKey(keyID, new Date(), auditEvent(p, 'api-key.revoke', null, { tenant: tenantID, keyID })))) {
      throw new Refusal('conflict', `API key ${keyID} is already revoked`);
    }
  }

  async #issue(p: Principal, tenantID: TenantID, scopes: readonly Scope[], label: string): Promise<IssuedApiKey> {
    const issued = issueApiKey(tenantID, scopes, label.slice(0, 200));
    await this.store.insertApiKey(issued.record, auditEvent(p, 'api-key.add', null, { tenant: tenantID, keyID: issued.record.id, scopes: scopes.join(',') }));
    return issued;
  }

  #requireInstanceAdmin(p: Principal): void {
    if (!isInstanceAdmin(p)) throw new Refusal('forbidden', 'only the operator (a tenant with the admin role, with an admin-scoped key) can do this');
  }

  async #requireKeyAdmin(p: Principal, tenantID: TenantID): Promise<void> {
    requireScopeOf(p, 'admin');
    if (!mayActFor(p, tenantID) || !(await this.store.getTenant(tenantID))) throw notFound(`tenant ${tenantID}`);
  }
}

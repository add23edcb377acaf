import { parseScopes, type ApiKeyRecord } from '../../tenants/api-key';
import { parseTenantRoles, TenantExistsError, type Tenant, type TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';
import type { TenantRegistry } from '../ports/tenant-registry';
import { audited } from './audit-log-sql';
import { asDate, changedOne, count, firstRow, rows, type SqlRunner, type SqlTime, type Work } from './sql-work';

/** A tenants row as either database gives it. */
interface TenantRow {
  readonly id: string;
  readonly name: string;
  readonly roles: string;
  readonly created_at: SqlTime;
}

/** An api_keys row as either database gives it. */
interface ApiKeyRow {
  readonly id: string;
  readonly tenant_id: string;
  readonly scopes: string;
  readonly label: string;
  readonly secret_hash: string;
  readonly created_at: SqlTime;
  readonly revoked_at: SqlTime | null;
}

function tenantFromRow(row: TenantRow): Tenant {
  return { id: row.id as TenantID, name: row.name, roles: parseTenantRoles(JSON.parse(row.roles) as unknown, 'tenants.roles'), createdAt: asDate(row.created_at) };
}

function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantID: row.tenant_id as TenantID,
    scopes: parseScopes(JSON.parse(row.scopes) as unknown, 'api_keys.scopes'),
    label: row.label,
    secretHash: row.secret_hash,
    createdAt: asDate(row.created_at),
    revokedAt: asDate(row.revoked_at),
  };
}

const TENANT_COLUMNS = 'id, name, roles, created_at';
const API_KEY_COLUMNS = 'id, tenant_id, scopes, label, secret_hash, created_at, revoked_at';

/** Tenants and API keys, the same SQL on both databases. */
export class SqlTenantRegistry implements TenantRegistry {
  constructor(private readonly sql: SqlRunner) {}

  async insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void> {
    const write = (): Work<number> => count(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES (?, ?, ?, ?)`, [tenant.id, tenant.name, JSON.stringify(tenant.roles), tenant.createdAt]);
    try {
      await this.sql.transaction('adding a tenant', () => audited(this.sql.dialect, changedOne(write()), audit));
    } catch (err) {
      if (this.sql.dialect.isDuplicate(err)) throw new TenantExistsError(tenant.id);
      throw err;
    }
  }

  async getTenant(id: TenantID): Promise<Tenant | null> {
    const row = await this.sql.run('reading a tenant', firstRow<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`, [id]));
    return row ? tenantFromRow(row) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    const found = await this.sql.run('listing tenants', rows<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY ${this.sql.dialect.text('id')}`));
    return found.map(tenantFromRow);
  }

  async insertApiKey(k: ApiKeyRecord, audit: AuditEvent): Promise<void> {
    const write = (): Work<number> => count(`INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [k.id, k.tenantID, JSON.stringify(k.scopes), k.label, k.secretHash, k.createdAt, k.revokedAt]);
    await this.sql.transaction('adding an API key', () => audited(this.sql.dialect, changedOne(write()), audit));
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.sql.run('reading an API key', firstRow<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`, [id]));
    return row ? apiKeyFromRow(row) : null;
  }

  async listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]> {
    const found = await this.sql.run('listing API keys', rows<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, ${this.sql.dialect.text('id')}`, [tenantID]));
    return found.map(apiKeyFromRow);
  }

  async revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    const write = (): Work<number> => count('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
    return this.sql.transaction('revoking an API key', () => audited(this.sql.dialect, changedOne(write()), audit));
  }
}

import type { AuditContext } from '../store/audit-event';
import type { Device } from '../store/device';
import type { Scope } from './api-key';
import { Refusal } from './refusal';
import type { Tenant, TenantID } from './tenant';

/**
 * Who is asking, once authenticated: a tenant, with the scopes of the key it presented (the
 * local CLI acts as the operator with every scope), and where the request came from.
 */
export interface Principal extends AuditContext {
  readonly tenant: Tenant;
  readonly tenantID: TenantID;
  readonly scopes: readonly Scope[];
}

/** The instance's operator: a tenant with the `admin` role, acting with the `admin` scope. */
export function isInstanceAdmin(p: Principal): boolean {
  return p.tenant.roles.includes('admin') && p.scopes.includes('admin');
}

export function requireScopeOf(p: Principal, scope: Scope): void {
  if (!p.scopes.includes(scope)) throw new Refusal('forbidden', `this API key lacks the ${scope} scope`);
}

/** The tenant holding a device: its owner, or, while nobody claimed it, its manufacturer. */
export function holderOf(device: Device): TenantID {
  return device.ownership.owner ?? device.ownership.manufacturer;
}

/** The tenant sees the device (the operator sees every one). */
export function maySee(p: Principal, device: Device): boolean {
  return isInstanceAdmin(p) || holderOf(device) === p.tenantID;
}

/** May act for `tenantID`: is that tenant, or the operator. */
export function mayActFor(p: Principal, tenantID: TenantID): boolean {
  return isInstanceAdmin(p) || p.tenantID === tenantID;
}

/** A device the principal may not see is answered as if it did not exist (no existence leak). */
export function notFound(what: string): Refusal {
  return new Refusal('not-found', `no ${what}`);
}

import { ParseError } from '../lorawan/parse-error';

declare const tenantIDBrand: unique symbol;
/** A tenant's identifier: `[a-z0-9][a-z0-9-]{0,62}`, chosen at creation, never changed. */
export type TenantID = string & { readonly [tenantIDBrand]: true };

/**
 * What a tenant is: a device maker (imports pre-provisioned devices), a device owner (claims
 * devices and binds them to networks), or the operator of the Joinery instance (`admin`: sees
 * and manages every tenant). A tenant can be a maker and an owner at once.
 */
export const TENANT_ROLES = ['manufacturer', 'owner', 'admin'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export interface Tenant {
  readonly id: TenantID;
  /** Display name. */
  readonly name: string;
  readonly roles: readonly TenantRole[];
  readonly createdAt: Date;
}

/**
 * The operator's own tenant, created by the schema migration: it owns the devices and peers
 * the operator adds through the local CLI (`devices import --ns`, `ns add`), which is how every
 * device was owned before tenants existed.
 */
export const OPERATOR_TENANT = 'operator' as TenantID;

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function parseTenantID(value: unknown, field = 'tenant'): TenantID {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    throw new ParseError(field, 'expected 1-63 characters: lower-case letters, digits and "-", starting with a letter or digit');
  }
  return value as TenantID;
}

export function parseTenantRoles(value: unknown, field = 'roles'): TenantRole[] {
  return parseNameList(value, TENANT_ROLES, field, 'role');
}

/**
 * A non-empty list of names from `allowed` (an array, or a comma-separated string), without
 * duplicates, in `allowed`'s order.
 */
export function parseNameList<T extends string>(value: unknown, allowed: readonly T[], field: string, what: string): T[] {
  const list =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : value;
  if (!Array.isArray(list) || list.length === 0) throw new ParseError(field, `expected one or more of ${allowed.join(', ')}`);
  const seen = new Set<T>();
  for (const v of list) {
    if (!(allowed as readonly unknown[]).includes(v)) throw new ParseError(field, `unknown ${what} ${JSON.stringify(v)}: expected ${allowed.join(', ')}`);
    seen.add(v as T);
  }
  return allowed.filter((a) => seen.has(a));
}

export class TenantExistsError extends Error {
  override readonly name = 'TenantExistsError';
  constructor(readonly tenantID: TenantID) {
    super(`tenant ${tenantID} already exists`);
  }
}

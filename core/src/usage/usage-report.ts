import type { FirstJoin } from '../store/device';
import type { DeviceRegistry } from '../store/ports/device-registry';
import { isInstanceAdmin, requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import type { TenantID } from '../tenants/tenant';

/**
 * Usage, as a once-per-device fee is charged on it: the devices activated (first accepted join)
 * in a period, per tenant (the device's owner at its first join).
 */
export interface UsageReport {
  readonly tenant: TenantID | null;
  readonly since: Date;
  readonly until: Date | null;
  readonly activated: number;
  readonly devices: readonly FirstJoin[];
}

export async function usageReport(store: DeviceRegistry, query: { readonly tenantID?: TenantID; readonly since: Date; readonly until?: Date }): Promise<UsageReport> {
  const devices = await store.listFirstJoins(query);
  return { tenant: query.tenantID ?? null, since: query.since, until: query.until ?? null, activated: devices.length, devices };
}

/** A tenant's own usage; the operator's for any tenant, or all of them. */
export async function usageFor(store: DeviceRegistry, p: Principal, query: { readonly tenantID?: TenantID; readonly since: Date; readonly until?: Date }): Promise<UsageReport> {
  requireScopeOf(p, 'devices:read');
  const tenantID = isInstanceAdmin(p) ? query.tenantID : (query.tenantID ?? p.tenantID);
  if (!isInstanceAdmin(p) && tenantID !== p.tenantID) throw new Refusal('not-found', `no tenant ${query.tenantID}`);
  return usageReport(store, { ...query, ...(tenantID !== undefined ? { tenantID } : {}) });
}

export function usageJSON(r: UsageReport): Record<string, unknown> {
  return {
    tenant: r.tenant,
    since: r.since.toISOString(),
    until: r.until?.toISOString() ?? null,
    activated: r.activated,
    devices: r.devices.map((a) => ({ devEUI: a.devEUI, joinEUI: a.joinEUI, tenant: a.tenantID, activatedAt: a.activatedAt.toISOString() })),
  };
}

export function usageCSV(r: UsageReport): string {
  return ['dev_eui,join_eui,tenant,activated_at', ...r.devices.map((a) => `${a.devEUI},${a.joinEUI},${a.tenantID},${a.activatedAt.toISOString()}`)].join('\n') + '\n';
}

/** `2026-01-01`, or a full ISO 8601 time. */
export function parseUsageDate(value: string, field: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new Refusal('bad-request', `${field}: expected a date (YYYY-MM-DD) or an ISO 8601 time`);
  return d;
}

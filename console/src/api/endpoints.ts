import type { ApiClient } from './client';

/** Who the API key belongs to. */
export interface Identity {
  readonly tenant: { readonly id: string; readonly name: string; readonly roles: readonly string[] };
  readonly scopes: readonly string[];
}

export function whoami(client: ApiClient): Promise<Identity> {
  return client.get<Identity>('/whoami');
}

export interface DeviceBinding {
  readonly netID?: string | null;
  readonly nsID?: string | null;
  readonly networkServer?: string | null;
  readonly applicationServer?: string | null;
}

/** A device as the admin API shows it (identities, binding and nonces' dates: never a key). */
export interface DeviceSummary {
  readonly devEUI: string;
  readonly joinEUI: string;
  readonly macVersion: string;
  readonly owner?: string | null;
  readonly binding?: DeviceBinding | null;
  readonly lastJoinAt?: string | null;
  readonly lastNetwork?: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

export function listDevices(client: ApiClient, query: { search?: string; limit: number; offset: number }): Promise<Page<DeviceSummary>> {
  return client.get<Page<DeviceSummary>>('/devices', query);
}

export function getDevice(client: ApiClient, devEUI: string): Promise<DeviceSummary> {
  return client.get<DeviceSummary>(`/devices/${devEUI}`);
}

export interface JoinRecord {
  readonly at: string;
  readonly network: string;
  readonly result: string;
}

export function deviceJoins(client: ApiClient, devEUI: string): Promise<readonly JoinRecord[]> {
  return client.get<readonly JoinRecord[]>(`/devices/${devEUI}/joins`);
}

export function resetDevNonce(client: ApiClient, devEUI: string, reason: string): Promise<void> {
  return client.post<void>(`/devices/${devEUI}/dev-nonce-reset`, { reason });
}

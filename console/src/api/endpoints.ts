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

export function claimDevice(client: ApiClient, devEUI: string, ownerToken: string): Promise<DeviceSummary> {
  return client.post<DeviceSummary>(`/devices/${devEUI}/claim`, { ownerToken });
}

export function bindDevice(client: ApiClient, devEUI: string, binding: { networkServer: string; applicationServer?: string }): Promise<DeviceSummary> {
  return client.put<DeviceSummary>(`/devices/${devEUI}/binding`, binding);
}

export interface NetworkServer {
  readonly name: string;
  readonly netID: string;
  readonly nsID?: string | null;
  readonly vendor: string;
}

export interface ApplicationServer {
  readonly name: string;
  readonly asID: string;
}

export function listNetworkServers(client: ApiClient): Promise<readonly NetworkServer[]> {
  return client.get<readonly NetworkServer[]>('/network-servers');
}

export function listApplicationServers(client: ApiClient): Promise<readonly ApplicationServer[]> {
  return client.get<readonly ApplicationServer[]>('/application-servers');
}

export const VENDORS = ['chirpstack', 'the-things-stack', 'actility', 'loriot', 'orbiwise', 'generic'] as const;

export interface NewNetworkServer {
  readonly name: string;
  readonly netID: string;
  readonly nsID?: string;
  readonly vendor: string;
}

/** The credential bundle: file name → content, and what to do with it. */
export interface CredentialBundle {
  readonly files: Readonly<Record<string, string>>;
  readonly instructions: string;
}

export function addNetworkServer(client: ApiClient, ns: NewNetworkServer): Promise<CredentialBundle> {
  return client.post<CredentialBundle>('/network-servers', ns);
}

export interface MonthlyUsage {
  readonly month: string;
  readonly activated: number;
}

export function usage(client: ApiClient): Promise<readonly MonthlyUsage[]> {
  return client.get<readonly MonthlyUsage[]>('/usage');
}

export function usageCSV(client: ApiClient): Promise<Blob> {
  return client.download('/usage', { format: 'csv' });
}

export const MIGRATION_STATES = ['planned', 'registered', 'rebound', 'joined', 'removed', 'done', 'expired', 'parked', 'returning', 'rolled-back'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export interface MigrationRequest {
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: 'overlap' | 'cutover';
  readonly selection: { readonly kind: 'all' } | { readonly kind: 'dev-euis'; readonly devEUIs: readonly string[] };
}

export interface MigrationPlan {
  readonly devEUIs: readonly string[];
  readonly skipped: readonly { readonly devEUI: string; readonly reason: string }[];
  readonly calls: readonly { readonly peer: string; readonly vendor: string; readonly calls: number; readonly ratePerSecond: number; readonly seconds: number }[];
}

export interface Migration {
  readonly id: string;
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: string;
  readonly status: 'running' | 'rolling-back' | 'finished' | 'rolled-back';
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface MigrationStatus {
  readonly migration: Migration;
  readonly counts: Readonly<Partial<Record<MigrationState, number>>>;
}

export interface MigrationDeviceReport {
  readonly devEUI: string;
  readonly state: MigrationState;
  readonly failedStep?: string | null;
  readonly lastError?: string | null;
}

export function planMigration(client: ApiClient, request: MigrationRequest): Promise<MigrationPlan> {
  return client.post<MigrationPlan>('/migrations/plan', request);
}

export function startMigration(client: ApiClient, request: MigrationRequest): Promise<Migration> {
  return client.post<Migration>('/migrations', request);
}

export function listMigrations(client: ApiClient): Promise<readonly Migration[]> {
  return client.get<readonly Migration[]>('/migrations');
}

export function migrationStatus(client: ApiClient, id: string): Promise<MigrationStatus> {
  return client.get<MigrationStatus>(`/migrations/${id}`);
}

export function migrationReport(client: ApiClient, id: string): Promise<readonly MigrationDeviceReport[]> {
  return client.get<readonly MigrationDeviceReport[]>(`/migrations/${id}/report`);
}

export function rollbackMigration(client: ApiClient, id: string): Promise<Migration> {
  return client.post<Migration>(`/migrations/${id}/rollback`);
}

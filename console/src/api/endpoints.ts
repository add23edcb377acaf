import type { ApiClient } from './client';

/** Who the API key belongs to. */
export interface Identity {
  readonly tenant: { readonly id: string; readonly name: string; readonly roles: readonly string[] };
  readonly scopes: readonly string[];
  readonly actor: string;
}

export function whoami(client: ApiClient): Promise<Identity> {
  return client.get<Identity>('/whoami');
}

/** One entry of the audit log (never a key or a token). */
export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly tenantID: string | null;
  readonly source: string | null;
  readonly action: string;
  readonly devEUI: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export async function listAudit(client: ApiClient, query: { readonly limit: number; readonly devEUI?: string }): Promise<readonly AuditEntry[]> {
  return (await client.get<{ events: readonly AuditEntry[] }>('/audit', query)).events;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  readonly badID?: number;
  readonly reason?: string;
}

/** The hash chain of the whole audit log (the operator only). */
export function verifyAudit(client: ApiClient): Promise<AuditVerification> {
  return client.get<AuditVerification>('/audit/verify');
}

/** A device as the admin API shows it: identities, ownership, binding, last join. Never a key or a token. */
export interface Device {
  readonly devEUI: string;
  readonly joinEUI: string;
  readonly macVersion: string;
  readonly profileID: string;
  readonly manufacturer: string;
  readonly owner: string | null;
  readonly claimed: boolean;
  readonly locked: boolean;
  readonly networkServer: string | null;
  readonly applicationServer: string | null;
  readonly claimedAt: string | null;
  readonly activatedAt: string | null;
  readonly lastJoinAt: string | null;
  readonly lastJoinNetworkServer: string | null;
  readonly createdAt: string;
}

export interface DevicePage {
  readonly devices: readonly Device[];
  readonly total: number;
}

/** The list's filters, all done by the server: `q` is a DevEUI or JoinEUI prefix (hex digits). */
export type DeviceQuery = {
  readonly limit: number;
  readonly offset: number;
  readonly q?: string;
  readonly owner?: string;
  readonly networkServer?: string;
  readonly claimed?: boolean;
  readonly bound?: boolean;
  readonly macVersion?: string;
};

export function listDevices(client: ApiClient, query: DeviceQuery): Promise<DevicePage> {
  return client.get<DevicePage>('/devices', query);
}

/** One join attempt of a device, accepted or refused (never a key). */
export interface JoinRecord {
  readonly at: string;
  readonly networkServer: string;
  readonly joinEUI: string;
  readonly joinType: 'join' | 'rejoin-0' | 'rejoin-1' | 'rejoin-2';
  readonly macVersion: string;
  readonly result: string;
  readonly description: string | null;
  readonly devNonce: number | null;
  readonly joinNonce: number | null;
}

export async function deviceJoins(client: ApiClient, devEUI: string): Promise<readonly JoinRecord[]> {
  return (await client.get<{ joins: readonly JoinRecord[] }>(`/devices/${devEUI}/joins`)).joins;
}

export function getDevice(client: ApiClient, devEUI: string): Promise<Device> {
  return client.get<Device>(`/devices/${devEUI}`);
}

/** A device's join state: nonces and its last join (never a key). */
export interface DeviceSession {
  readonly devEUI: string;
  readonly lastDevNonce: number | null;
  readonly usedDevNonces: number;
  readonly lastJoinNonce: number | null;
  readonly lastRJCount1: number | null;
  readonly lastJoinAt: string | null;
  readonly lastJoinNetworkServer: string | null;
  readonly activatedAt: string | null;
}

export function deviceSession(client: ApiClient, devEUI: string): Promise<DeviceSession> {
  return client.get<DeviceSession>(`/devices/${devEUI}/session`);
}

export function resetDevNonce(client: ApiClient, devEUI: string, reason: string): Promise<Device> {
  return client.post<Device>(`/devices/${devEUI}/dev-nonce-reset`, { reason });
}

/** No owner and no binding any more (its owner token stays what it was). */
export function unclaimDevice(client: ApiClient, devEUI: string): Promise<void> {
  return client.delete<void>(`/devices/${devEUI}/claim`);
}

/** Another tenant's at once, unbound, with a new owner token (the answer's, shown once). */
export function transferDevice(client: ApiClient, devEUI: string, tenant: string): Promise<{ readonly ownerToken: string; readonly qrPayload: string }> {
  return client.post(`/devices/${devEUI}/transfer`, { tenant });
}

export function deleteDevice(client: ApiClient, devEUI: string): Promise<void> {
  return client.delete<void>(`/devices/${devEUI}`);
}

export function claimDevice(client: ApiClient, devEUI: string, ownerToken: string): Promise<Device> {
  return client.post<Device>('/claims', { devEUI, ownerToken });
}

export function bindDevice(client: ApiClient, devEUI: string, binding: { networkServer: string; applicationServer: string | null }): Promise<Device> {
  return client.put<Device>(`/devices/${devEUI}/binding`, binding);
}

export interface Peer {
  readonly name: string;
  readonly kind: 'ns' | 'as';
  readonly tenant: string;
  readonly netID?: string;
  readonly nsID?: string | null;
  readonly vendor?: string;
  readonly asID?: string;
  readonly kekLabel: string;
  readonly createdAt: string;
}

export async function listNetworkServers(client: ApiClient): Promise<readonly Peer[]> {
  return (await client.get<{ peers: readonly Peer[] }>('/network-servers')).peers;
}

export async function listApplicationServers(client: ApiClient): Promise<readonly Peer[]> {
  return (await client.get<{ peers: readonly Peer[] }>('/application-servers')).peers;
}

/** What the tenant may bind its devices to: its own servers and the operator's. */
export async function listBindingTargets(client: ApiClient): Promise<{ readonly ns: readonly Peer[]; readonly as: readonly Peer[] }> {
  const t = await client.get<{ networkServers: readonly Peer[]; applicationServers: readonly Peer[] }>('/binding-targets');
  return { ns: t.networkServers, as: t.applicationServers };
}

export const VENDORS = ['chirpstack', 'the-things-stack', 'actility', 'loriot', 'orbiwise', 'generic'] as const;

export interface NewNetworkServer {
  readonly name: string;
  readonly netID: string;
  readonly nsID?: string;
  readonly vendor: string;
  readonly joinEUIPrefixes?: readonly string[];
  /** The management API, for sync and migrations; the key is write-only. */
  readonly adapter?: { readonly apiUrl: string; readonly apiKey: string; readonly options: Readonly<Record<string, string>> };
}

/** A registered peer and its credential bundle: file name → content (shown only once). */
export interface CreatedPeer {
  readonly peer: Peer;
  readonly bundle: Readonly<Record<string, string>>;
}

/** The vendor's setup, rendered by its adapter: files (secret ones hold the KEK) and steps. */
export interface VendorSetup {
  readonly files: readonly { readonly name: string; readonly content: string; readonly secret: boolean }[];
  readonly instructions: readonly string[];
}

export interface CreatedNetworkServer extends CreatedPeer {
  /** Null when the vendor has no adapter installed (generic). */
  readonly setup: VendorSetup | null;
  readonly adapterConfigured: boolean;
}

export function addApplicationServer(client: ApiClient, as: { readonly name: string; readonly asID: string }): Promise<CreatedPeer> {
  return client.post<CreatedPeer>('/application-servers', as);
}

export function addNetworkServer(client: ApiClient, ns: NewNetworkServer): Promise<CreatedNetworkServer> {
  return client.post<CreatedNetworkServer>('/network-servers', ns);
}

/** A peer with its lifecycle, as `GET .../{name}/summary` gives it: never a key. */
export interface PeerSummary {
  readonly name: string;
  readonly kind: 'ns' | 'as';
  readonly vendor: string | null;
  readonly netID: string | null;
  readonly nsID: string | null;
  readonly asID: string | null;
  readonly state: 'enabled' | 'disabled';
  readonly kekLabel: string;
  readonly certificateExpiry: string | null;
  readonly certificates: readonly { readonly fingerprint: string; readonly status: 'current' | 'accepted' | 'retired'; readonly issuedAt: string; readonly notAfter: string | null; readonly retiresAt: string | null }[];
  readonly boundDevices: number;
  readonly lastJoinAt: string | null;
  readonly asyncAnswerURL: string | null;
  readonly authorizationHeaderSet: boolean;
  readonly managementAPIURL: string | null;
  readonly createdAt: string;
  /** Joins over the last day by BI result code (the join history). */
  readonly recentJoinResults?: Readonly<Record<string, number>>;
}

/** A new bundle of a registered peer (bundle, renewal, KEK rotation), with the vendor's setup rendered again. */
export interface ReissuedPeer {
  readonly peer: PeerSummary;
  readonly bundle: Readonly<Record<string, string>>;
  readonly setup: VendorSetup | null;
}

const nsPath = (name: string): string => `/network-servers/${encodeURIComponent(name)}`;

export function networkServerSummary(client: ApiClient, name: string): Promise<PeerSummary> {
  return client.get<PeerSummary>(`${nsPath(name)}/summary`);
}

export function setNetworkServerState(client: ApiClient, name: string, state: 'enabled' | 'disabled'): Promise<PeerSummary> {
  return client.post<PeerSummary>(`${nsPath(name)}/${state === 'enabled' ? 'enable' : 'disable'}`);
}

export function deleteNetworkServer(client: ApiClient, name: string, unbindDevices: boolean): Promise<{ unbound: number }> {
  return client.delete<{ unbound: number }>(`${nsPath(name)}${unbindDevices ? '?unbindDevices=true' : ''}`);
}

/** `bundle`, `renew-certificate` (body: retireOld or overlap) or `rotate-kek`; `authorizationHeader` when the network server sends one. */
export function reissueNetworkServer(client: ApiClient, name: string, action: 'bundle' | 'renew-certificate' | 'rotate-kek', body: Record<string, unknown>): Promise<ReissuedPeer> {
  return client.post<ReissuedPeer>(`${nsPath(name)}/${action}`, body);
}

export function retireNetworkServerCertificates(client: ApiClient, name: string): Promise<PeerSummary> {
  return client.post<PeerSummary>(`${nsPath(name)}/retire-certificates`, {});
}

export interface UsageReport {
  readonly activated: number;
  readonly devices: readonly { readonly devEUI: string; readonly joinEUI: string; readonly tenant: string; readonly activatedAt: string }[];
}

/** Devices activated (first accepted join) since a date (YYYY-MM-DD). */
export function usage(client: ApiClient, since: string): Promise<UsageReport> {
  return client.get<UsageReport>('/usage', { since });
}

/** The same as the API's CSV: one line per activated device. */
export function usageCSV(client: ApiClient, since: string): Promise<Blob> {
  return client.download('/usage', { since, format: 'csv' });
}

export const MIGRATION_STATES = ['planned', 'registered', 'rebound', 'joined', 'removed', 'done', 'expired', 'parked', 'returning', 'rolled-back'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export interface MigrationRequest {
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: 'overlap' | 'cutover';
  readonly selection: { readonly kind: 'all' } | { readonly kind: 'dev-euis'; readonly devEUIs: readonly string[] };
}

/** The dry run: what a migration would do, nothing changed. */
export interface MigrationPlan {
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: string;
  readonly devices: number;
  readonly skipped: readonly { readonly devEUI: string; readonly reason: string }[];
  readonly calls: readonly { readonly peer: string; readonly vendor: string; readonly calls: number; readonly ratePerSecond: number; readonly seconds: number }[];
}

/** A migration and how many of its devices are in each state. */
export interface Migration {
  readonly id: string;
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: string;
  readonly status: 'running' | 'rolling-back' | 'finished' | 'rolled-back';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly finishedAt: string | null;
  readonly deadline: string | null;
  readonly total: number;
  readonly counts: Readonly<Partial<Record<MigrationState, number>>>;
}

export interface MigrationReport extends Migration {
  readonly devices: readonly {
    readonly devEUI: string;
    readonly state: MigrationState;
    readonly failedStep: string | null;
    readonly lastError: string | null;
    readonly attempts: number;
    readonly updatedAt: string;
  }[];
}

export function planMigration(client: ApiClient, request: MigrationRequest): Promise<MigrationPlan> {
  return client.post<MigrationPlan>('/migrations/plan', request);
}

export function startMigration(client: ApiClient, request: MigrationRequest): Promise<Migration> {
  return client.post<Migration>('/migrations', request);
}

export async function listMigrations(client: ApiClient): Promise<readonly Migration[]> {
  return (await client.get<{ migrations: readonly Migration[] }>('/migrations')).migrations;
}

export function getMigration(client: ApiClient, id: string): Promise<Migration> {
  return client.get<Migration>(`/migrations/${id}`);
}

export function migrationReport(client: ApiClient, id: string): Promise<MigrationReport> {
  return client.get<MigrationReport>(`/migrations/${id}/report`);
}

export function rollbackMigration(client: ApiClient, id: string): Promise<Migration> {
  return client.post<Migration>(`/migrations/${id}/rollback`);
}

/** Join attempts of one minute: accepted and refused. */
export interface JoinRateMinute {
  readonly at: string;
  readonly joins: number;
  readonly refusals: number;
}

/** Joins and refusals per minute over the last hour: the tenant's devices (the operator: all), through one network server when given. */
export async function joinRate(client: ApiClient, peer?: string): Promise<readonly JoinRateMinute[]> {
  return (await client.get<{ minutes: readonly JoinRateMinute[] }>('/join-rate', { peer })).minutes;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly createdAt: string;
}

export async function listTenants(client: ApiClient): Promise<readonly Tenant[]> {
  return (await client.get<{ tenants: readonly Tenant[] }>('/tenants')).tenants;
}

/** What an API key may do. */
export const SCOPES = ['devices:read', 'devices:write', 'claims', 'peers', 'admin'] as const;

/** An API key as the API lists it: never its secret. */
export interface ApiKey {
  readonly id: string;
  readonly tenantID: string;
  readonly scopes: readonly string[];
  readonly label: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export async function listApiKeys(client: ApiClient, tenantID: string): Promise<readonly ApiKey[]> {
  return (await client.get<{ apiKeys: readonly ApiKey[] }>(`/tenants/${encodeURIComponent(tenantID)}/api-keys`)).apiKeys;
}

/** A new key: `key`, its secret, is in this answer only. */
export function createApiKey(client: ApiClient, tenantID: string, scopes: readonly string[], label: string): Promise<{ readonly apiKey: ApiKey; readonly key: string }> {
  return client.post(`/tenants/${encodeURIComponent(tenantID)}/api-keys`, { scopes, ...(label ? { label } : {}) });
}

export function revokeApiKey(client: ApiClient, tenantID: string, keyID: string): Promise<void> {
  return client.delete(`/tenants/${encodeURIComponent(tenantID)}/api-keys/${encodeURIComponent(keyID)}`);
}

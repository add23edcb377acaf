/** @joinery/core: the public API. Adapters and other packages import from here, never from internals. */
export * from './lorawan/index';

export type { KeyHandle, KeyVault, RootKeys, RootKeyHandles } from './keys/key-vault';
export { SoftwareKeyVault, type SoftwareKeyVaultOptions } from './keys/software-vault';
export { Pkcs11KeyVault } from './keys/pkcs11-vault';
export { MasterKey } from './keys/master-key';
export type { Store, DeviceListQuery, SealedBlobOwner, Resealer } from './store/store';
export type { DeviceRegistry, JoinState, JoinHistory, PeerRegistry, TenantRegistry, AuditLog, FleetMigrationJournal, RateBucketLedger, SealedSettings } from './store/store';
export { DeviceExistsError, MigrationConflictError, PeerExistsError, StoreError, type StoreErrorKind } from './store/store-errors';
export type { Device, NewDevice, NonceState, JoinCommit } from './store/device';
export type { SessionRecord } from './store/session';
export type { JoinRecord, JoinType } from './store/join-record';
export type { AuditEvent, AuditQuery } from './store/audit-event';

export type { Peer, NetworkServerPeer, ApplicationServerPeer } from './peers/peer';
export { VENDORS, parseVendor, type Vendor } from './peers/vendor';
export { DEFAULT_PEER_SETTINGS, parsePeerSettings, type PeerSettings } from './peers/peer-settings';
export { checkVendorPeerSettings, dialectOf, type VendorDialect } from './peers/vendor-dialect';
export { readCredentialBundle, type CredentialBundle, type PeerDescriptor } from './peers/credential-bundle';

export { JoinEngine, type JoinEngineOptions } from './join/join-engine';
export type { JoinAnswer, NetworkKeys } from './join/join-answer';
export type { KeyEnvelope } from './join/key-envelope';
export type { Failure, FailureCode } from './join/failure';

export { RESULT_CODES, parseResultCode, type ResultCode } from './backend-interfaces/result-code';
export type { ProtocolVersion } from './backend-interfaces/protocol-version';
export { resultCodeFor } from './backend-interfaces/result-table';

export { postBIMessage, type BIClientCredentials, type BIResponse } from './simulator/bi-client';
export { simulateJoin, type SimulateJoinOptions, type SimulatedJoin } from './simulator/join-simulator';

export { startJoinServer, type JoinServerOptions, type RunningJoinServer } from './server/join-server';
export { openBackends, type Backends } from './server/open-backends';
export { parseBackendSettings, type BackendSettings } from './server/backend-settings';
export { createLogger, type Logger } from './log/logger';
export { VERSION } from './server/version';

export * from './adapters/index';
export type { PeerAdapterSettings } from './peers/peer-settings';

export { OPERATOR_TENANT, TENANT_ROLES, parseTenantID, parseTenantRoles, TenantExistsError, type Tenant, type TenantID, type TenantRole } from './tenants/tenant';
export { SCOPES, parseScopes, issueApiKey, type Scope, type ApiKeyRecord, type IssuedApiKey } from './tenants/api-key';
export { Refusal, REFUSALS, type RefusalCode } from './tenants/refusal';
export { isInstanceAdmin, type Principal } from './tenants/principal';
export { TenantService } from './tenants/tenant-service';
export { ClaimService, type BindingRequest, type NetworkServerRef, type NewOwnerToken } from './claims/claim-service';
export { ClaimRateLimiter, type ClaimRateLimits } from './claims/claim-rate-limiter';
export { generateOwnerToken, parseOwnerToken, qrPayload, type OwnerToken, type ProfileID } from './claims/owner-token';
export { verifyAuditChain, auditHash, type AuditChainCheck } from './store/audit-chain';
export type { AuditRecord, AuditContext } from './store/audit-event';
export type { DeviceOwnership, DeviceChange, FirstJoin } from './store/device';
export type { DeviceFilter, FirstJoinQuery } from './store/store';

// The admin listener's REST API: one fastify plugin per resource, reusable by code that mounts more.
export { registerAdminApi, registerOpenAPI, ADMIN_API_PREFIX, OPENAPI_PATH } from './admin/admin-api';
export { addApiKeyAuth, requireScope, principalOf, BEARER_SECURITY, type Authenticate } from './admin/admin-auth';
export { addAdminErrorHandling, ERROR_SCHEMA, ERROR_RESPONSES } from './admin/admin-errors';
export type { AdminContext } from './admin/admin-context';
export type { FleetMigration, MigrationStrategy, MigrationStatus } from './store/fleet-migration-journal';
export type { DeviceMigrationState } from './store/fleet-migration-journal';
export type { MigrationEntry, DeviceBinding } from './store/fleet-migration-journal';
export { registerMigrationRoutes, type MigrationRoutesDeps } from './admin/routes/migrations-routes';

import type { AuditLog } from './ports/audit-log';
import type { DeviceRegistry } from './ports/device-registry';
import type { FleetMigrationJournal } from './ports/fleet-migration-journal';
import type { JoinHistory } from './ports/join-history';
import type { JoinState } from './ports/join-state';
import type { PeerRegistry } from './ports/peer-registry';
import type { RateBucketLedger } from './ports/rate-bucket-ledger';
import type { SealedSettings } from './ports/sealed-settings';
import type { TenantRegistry } from './ports/tenant-registry';

export { DeviceExistsError, MigrationConflictError, PeerExistsError, StoreError, type StoreErrorKind } from './store-errors';
export type { AuditLog } from './ports/audit-log';
export type { DeviceFilter, DeviceListQuery, DeviceRegistry, FirstJoinQuery } from './ports/device-registry';
export type { FleetMigrationJournal } from './ports/fleet-migration-journal';
export type { MigrationEntryQuery, Rebinding } from './fleet-migration-journal';
export type { JoinHistory } from './ports/join-history';
export type { JoinState } from './ports/join-state';
export type { PeerChange, PeerDeletion, PeerRegistry, PeerUsage } from './ports/peer-registry';
export type { RateBucketLedger } from './ports/rate-bucket-ledger';
export type { Resealer, SealedBlobOwner, SealedSettings } from './ports/sealed-settings';
export type { TenantRegistry } from './ports/tenant-registry';

/**
 * The storage port: every port of `./ports` (one per kind of consumer, each of which asks for
 * only the one it uses), with the store's own health and life. Every implementation (SQLite,
 * PostgreSQL) passes the same conformance suite. Writes are durable when the promise resolves.
 */
export interface Store extends DeviceRegistry, JoinState, JoinHistory, PeerRegistry, TenantRegistry, AuditLog, FleetMigrationJournal, RateBucketLedger, SealedSettings {
  /** Store reachable and usable (for readiness). */
  ping(): Promise<void>;
  /**
   * Opens now what the joins will use, so that the first joins do not wait for it (a server,
   * before it listens): SQLite's commit and history threads with their connections, PostgreSQL's
   * pooled connections. Without it, each opens with its first use.
   */
  prepareForJoins(): Promise<void>;
  close(): Promise<void>;
}

import type { EUI64 } from '../../lorawan/identifiers';
import type { AuditEvent } from '../audit-event';
import type { DeviceMigrationState, FleetMigration, MigrationArrival, MigrationEntry, MigrationEntryChange, MigrationEntryQuery, MigrationStatus, RebindOutcome, Rebinding } from '../fleet-migration-journal';

/** Fleet migrations and their journal (the migration runner, its routes and commands). */
export interface FleetMigrationJournal {
  /**
   * Writes the migration, one `planned` journal entry per device and `audit`, in one
   * transaction; throws MigrationConflictError (writing nothing) when a device is in a
   * migration that is not settled for it.
   */
  insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void>;
  getFleetMigration(id: string): Promise<FleetMigration | null>;
  /** Newest first. */
  listFleetMigrations(limit: number): Promise<FleetMigration[]>;
  /** Sets the status (and `finishedAt` for finished, rolled-back) and records `audit`; false when no such migration. */
  setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean>;
  /** Journal entries in DevEUI order. */
  listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]>;
  /** How many entries are in each state (states with none are absent). */
  countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>>;
  /**
   * A journal transition: writes `change` if, and only if, the entry is still in state `from`
   * (one conditional write). False when it was not (another runner, or a run before a crash,
   * already moved it): the caller re-reads.
   */
  advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean>;
  /**
   * Moves a device's binding and its journal entry together, with an audit entry, in one
   * transaction. The binding always names a network server (`bindingTo.nsPeer` is required),
   * so a device is never bound to no network. Bumps the device's version, so a join that read
   * the old binding re-checks it before committing.
   */
  rebindMigratingDevice(rebinding: Rebinding): Promise<RebindOutcome>;
  /**
   * Devices of the migration in state `rebound` whose last accepted join came through
   * `targetPeer` at or after their `reboundAt` (read from what every join already writes).
   */
  listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]>;
}

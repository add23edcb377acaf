import type { EUI64 } from '../lorawan/identifiers';
import type { DeviceMigrationState, MigrationStep } from './device-migration-state';

/** One device's line in a migration's journal. */
export interface MigrationEntry {
  readonly migrationID: string;
  readonly devEUI: EUI64;
  readonly state: DeviceMigrationState;
  /** Failed attempts of the current step (reset when a step succeeds). */
  readonly attempts: number;
  /** Parked: the step that failed. */
  readonly failedStep: MigrationStep | null;
  /** The last failure's message (a vendor's status and text; never a key). */
  readonly lastError: string | null;
  /** When the device was rebound for the migration (a join via the target counts from then). */
  readonly reboundAt: Date | null;
  /** When Joinery accepted the join through the target. */
  readonly joinedAt: Date | null;
  readonly updatedAt: Date;
}

/** What a journal transition writes besides the new state; absent fields keep their value. */
export interface MigrationEntryChange {
  readonly state: DeviceMigrationState;
  readonly attempts?: number;
  readonly failedStep?: MigrationStep | null;
  readonly lastError?: string | null;
  readonly reboundAt?: Date;
  readonly joinedAt?: Date;
}

/**
 * Which network servers may join a device: `nsPeer`, its network server (never null for a
 * device being migrated: a device is never bound to no network), and during an overlap
 * migration `overlapNsPeer`, the target that may join it too.
 */
export interface DeviceBinding {
  readonly nsPeer: string;
  readonly overlapNsPeer: string | null;
}

/** A device that joined through a migration's target since it was rebound. */
export interface MigrationArrival {
  readonly devEUI: EUI64;
  readonly joinedAt: Date;
}

/** The outcome of a rebinding: done now, done before (the journal had moved on), or refused. */
export type RebindOutcome = 'rebound' | 'already' | 'binding-changed';

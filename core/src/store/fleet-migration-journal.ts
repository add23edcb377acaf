import type { EUI64 } from '../lorawan/identifiers';
import type { DeviceSelection } from '../fleet-migration/device-selection';
import type { VendorLimits } from '../fleet-migration/vendor-limits';
import type { AuditEvent } from './audit-event';

/*
 * The fleet-migration journal as the store keeps it: the migrations, one entry per device and
 * where each device is. The fleet-migration runner (core/src/migration) reads and moves it; the
 * types live here, beside the store that keeps them, so the store imports nothing of the runner
 * (the selection and the vendor limits, plain values of the plan, excepted).
 */

/**
 * Where one device is in a fleet migration. The journal keeps one of these per device and
 * moves it forward with a conditional write (from the state it was read in), so a migration
 * killed at any moment resumes from exactly the last state written:
 *
 * - `planned`: selected, nothing done yet.
 * - `registered`: the target network server knows the device (its registration is idempotent).
 * - `rebound`: bound in Joinery for the migration. Overlap: the source stays the device's
 *   network server and the target may join it too. Cutover: bound to the target only.
 * - `joined`: (overlap) a join through the target was accepted; the device is now bound to the
 *   target only (the source unbound in the same write).
 * - `removed`: the source network server no longer has the device.
 * - `done`: migrated.
 * - `expired`: the deadline passed before the device joined through the target.
 * - `parked`: a step kept failing (or failed for good); `failedStep` and `lastError` say which
 *   and why. `resume` tries it again from that step.
 * - `returning`: (rollback) registered on the source and bound to it again.
 * - `rolled-back`: back on the source, and removed from the target.
 */
export const DEVICE_MIGRATION_STATES = ['planned', 'registered', 'rebound', 'joined', 'removed', 'done', 'expired', 'parked', 'returning', 'rolled-back'] as const;
export type DeviceMigrationState = (typeof DEVICE_MIGRATION_STATES)[number];

/** The states a parked device can have failed in (and goes back to on resume). */
export type MigrationStep = Exclude<DeviceMigrationState, 'done' | 'parked' | 'rolled-back'>;

/** Nothing more happens to a device in these states (unless the operator resumes or rolls back). */
export const SETTLED_STATES: ReadonlySet<DeviceMigrationState> = new Set(['done', 'expired', 'parked', 'rolled-back']);

export function parseDeviceMigrationState(value: string, field = 'state'): DeviceMigrationState {
  if (!(DEVICE_MIGRATION_STATES as readonly string[]).includes(value)) throw new Error(`${field}: unknown migration state "${value}"`);
  return value as DeviceMigrationState;
}

export function parseMigrationStep(value: string, field = 'failed_step'): MigrationStep {
  const s = parseDeviceMigrationState(value, field);
  if (s === 'done' || s === 'parked' || s === 'rolled-back') throw new Error(`${field}: "${value}" is not a step`);
  return s as MigrationStep;
}

/** What an operator asks for. */
export interface MigrationRequest {
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: MigrationStrategy;
  readonly selection: DeviceSelection;
  /** Per vendor: adapter calls per second and calls in flight. */
  readonly limits: VendorLimits;
  /** After this, devices that have not joined through the target are `expired`; null: no deadline. */
  readonly deadline: Date | null;
  /** At the deadline, roll the expired devices back to the source. */
  readonly rollbackAtDeadline: boolean;
  /** Failed attempts of one step (a 429 is not one) before the device is parked. */
  readonly maxAttempts: number;
}

/**
 * - `overlap` (the default): register on the target, let both network servers join the
 *   device, and unbind and deregister the source only once a join through the target was seen.
 * - `cutover`: register on the target, bind to the target only, deregister from the source at
 *   once; the device's next join goes to the target.
 */
export type MigrationStrategy = 'overlap' | 'cutover';

/**
 * - `running`: moving devices forward (or waiting for them to join through the target).
 * - `rolling-back`: bringing every device that is not done back to the source.
 * - `finished`: every device settled (done, expired, parked).
 * - `rolled-back`: the rollback settled.
 */
export type MigrationStatus = 'running' | 'rolling-back' | 'finished' | 'rolled-back';

/** A migration as the store keeps it: the plan that was asked for, and how far the migration as a whole is. */
export interface FleetMigration extends MigrationRequest {
  /** `mig-` and 12 hex digits. */
  readonly id: string;
  readonly status: MigrationStatus;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly finishedAt: Date | null;
}

export function parseMigrationStrategy(value: string, field = 'strategy'): MigrationStrategy {
  if (value !== 'overlap' && value !== 'cutover') throw new Error(`${field}: must be overlap or cutover (got "${value}")`);
  return value;
}

export function parseMigrationStatus(value: string, field = 'status'): MigrationStatus {
  if (value !== 'running' && value !== 'rolling-back' && value !== 'finished' && value !== 'rolled-back') throw new Error(`${field}: unknown migration status "${value}"`);
  return value;
}

/** Migration ids as the CLI and the API take them. */
export const MIGRATION_ID_PATTERN = /^mig-[0-9a-f]{12}$/;

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

export interface MigrationEntryQuery {
  readonly limit: number;
  /** Entries after this DevEUI (keyset paging); from the first when absent. */
  readonly afterDevEUI?: EUI64;
  /** Only entries in these states. */
  readonly states?: readonly DeviceMigrationState[];
}

/** A rebinding: the journal transition and the binding change, in one transaction. */
export interface Rebinding {
  readonly migrationID: string;
  readonly devEUI: EUI64;
  /** The journal entry must be in this state (else nothing is written: 'already'). */
  readonly from: DeviceMigrationState;
  readonly change: MigrationEntryChange;
  /** The device must be bound as one of these (else nothing is written: 'binding-changed'). */
  readonly bindingFrom: readonly DeviceBinding[];
  readonly bindingTo: DeviceBinding;
  readonly audit: AuditEvent;
}

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

import type { MigrationRequest } from './plan-migration';

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

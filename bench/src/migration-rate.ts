import type { OptionalRow } from './results';

/**
 * The extension point of the migration-rate row: how many devices per second a fleet migration
 * moves from one network server to another (re-binding and registering them through the
 * adapters, no re-keying). Joinery has no fleet migration yet, so nothing is measured and the
 * row says so. The migration's own change sets `MIGRATION_RATE_PROBE` to a probe that runs a
 * migration of `devices` devices in `work` and returns what it timed; the table and
 * bench-results.json pick it up with no other change.
 */
export interface MigrationRateProbe {
  measure(context: { readonly work: string; readonly devices: number }): Promise<{ readonly seconds: number; readonly migrated: number }>;
}

export const MIGRATION_RATE_PROBE: MigrationRateProbe | null = null;

export async function migrationRateRow(work: string, devices: number): Promise<OptionalRow> {
  if (MIGRATION_RATE_PROBE === null) {
    return { status: 'not-available', reason: 'no fleet migration to measure yet (extension point: bench/src/migration-rate.ts, MIGRATION_RATE_PROBE)' };
  }
  const r = await MIGRATION_RATE_PROBE.measure({ work, devices });
  const perSecond = r.migrated / r.seconds;
  return { status: 'measured', lines: [`${r.migrated} devices migrated in ${r.seconds.toFixed(1)} s: ${Math.round(perSecond)} devices/s`], values: { migrated: r.migrated, seconds: r.seconds, devicesPerSecond: perSecond } };
}

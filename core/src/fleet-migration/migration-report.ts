import type { EUI64 } from '../lorawan/identifiers';
import type { Store } from '../store/store';
import { DEVICE_MIGRATION_STATES, type DeviceMigrationState } from '../store/fleet-migration-journal';
import { deviceSelectionJSON, type DeviceSelectionJSON } from './device-selection';
import type { FleetMigration } from '../store/fleet-migration-journal';
import { MigrationError } from './migration-error';

/** A migration as the CLI's `status` and the admin API show it. */
export interface MigrationSummary {
  readonly id: string;
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy: string;
  readonly status: string;
  readonly selection: DeviceSelectionJSON;
  readonly deadline: string | null;
  readonly rollbackAtDeadline: boolean;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly finishedAt: string | null;
  readonly total: number;
  /** Devices per journal state (every state, zeros included). */
  readonly counts: Record<DeviceMigrationState, number>;
}

export interface MigrationReportDevice {
  readonly devEUI: EUI64;
  readonly state: DeviceMigrationState;
  readonly failedStep: string | null;
  readonly lastError: string | null;
  readonly attempts: number;
  readonly reboundAt: string | null;
  readonly joinedAt: string | null;
  readonly updatedAt: string;
}

export interface MigrationReport extends MigrationSummary {
  readonly devices: readonly MigrationReportDevice[];
}

export async function migrationSummary(store: Store, id: string): Promise<MigrationSummary> {
  const m = await store.getFleetMigration(id);
  if (!m) throw new MigrationError('migration-not-found', `no migration ${id}`);
  return summarize(m, await store.countMigrationEntries(id));
}

export function summarize(m: FleetMigration, found: Partial<Record<DeviceMigrationState, number>>): MigrationSummary {
  const counts = Object.fromEntries(DEVICE_MIGRATION_STATES.map((s) => [s, found[s] ?? 0])) as Record<DeviceMigrationState, number>;
  return {
    id: m.id,
    sourcePeer: m.sourcePeer,
    targetPeer: m.targetPeer,
    strategy: m.strategy,
    status: m.status,
    selection: deviceSelectionJSON(m.selection),
    deadline: m.deadline?.toISOString() ?? null,
    rollbackAtDeadline: m.rollbackAtDeadline,
    createdAt: m.createdAt.toISOString(),
    createdBy: m.createdBy,
    finishedAt: m.finishedAt?.toISOString() ?? null,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    counts,
  };
}

/** The summary and every device's line of the journal. */
export async function migrationReport(store: Store, id: string): Promise<MigrationReport> {
  const summary = await migrationSummary(store, id);
  const devices: MigrationReportDevice[] = [];
  let after: EUI64 | undefined;
  for (;;) {
    const page = await store.listMigrationEntries(id, { limit: 1000, ...(after ? { afterDevEUI: after } : {}) });
    for (const e of page) {
      devices.push({
        devEUI: e.devEUI,
        state: e.state,
        failedStep: e.failedStep,
        lastError: e.lastError,
        attempts: e.attempts,
        reboundAt: e.reboundAt?.toISOString() ?? null,
        joinedAt: e.joinedAt?.toISOString() ?? null,
        updatedAt: e.updatedAt.toISOString(),
      });
    }
    if (page.length < 1000) break;
    after = page[page.length - 1]!.devEUI;
  }
  return { ...summary, devices };
}

/** "done 998, parked 2": the states that have devices, in journal order. */
export function describeCounts(counts: Record<DeviceMigrationState, number>): string {
  return DEVICE_MIGRATION_STATES.filter((s) => counts[s] > 0)
    .map((s) => `${s} ${counts[s]}`)
    .join(', ');
}

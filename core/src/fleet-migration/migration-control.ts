import type { EUI64 } from '../lorawan/identifiers';
import type { Store } from '../store/store';
import type { FleetMigration, MigrationStatus } from '../store/fleet-migration-journal';
import { MigrationError } from './migration-error';

async function existing(store: Store, id: string): Promise<FleetMigration> {
  const m = await store.getFleetMigration(id);
  if (!m) throw new MigrationError('migration-not-found', `no migration ${id}`);
  return m;
}

/** Parked devices go back to the step they failed at, for another round of attempts. */
async function unpark(store: Store, id: string): Promise<number> {
  let n = 0;
  let after: EUI64 | undefined;
  for (;;) {
    const page = await store.listMigrationEntries(id, { limit: 1000, states: ['parked'], ...(after ? { afterDevEUI: after } : {}) });
    for (const e of page) {
      if (await store.advanceMigrationEntry(id, e.devEUI, 'parked', { state: e.failedStep ?? 'planned', attempts: 0 })) n++;
    }
    if (page.length < 1000) return n;
    after = page[page.length - 1]!.devEUI;
  }
}

async function setStatus(store: Store, m: FleetMigration, status: MigrationStatus, actor: string, detail: Record<string, string | number>): Promise<FleetMigration> {
  await store.setFleetMigrationStatus(m.id, status, {
    at: new Date(),
    actor,
    tenantID: null,
    source: null,
    action: `migration.${status === 'running' ? 'resumed' : status}`,
    devEUI: null,
    detail: { migration: m.id, ...detail },
  });
  return existing(store, m.id);
}

/**
 * Before `joinery migrate resume`: parked devices get another round, and a finished migration
 * runs again (a rolled-back one cannot: its devices are back on the source).
 */
export async function prepareResume(store: Store, id: string, actor: string): Promise<{ readonly migration: FleetMigration; readonly unparked: number }> {
  const m = await existing(store, id);
  if (m.status === 'rolled-back') throw new MigrationError('migration-settled', `migration ${id} was rolled back; plan a new one`);
  const unparked = await unpark(store, id);
  const migration = m.status === 'finished' ? await setStatus(store, m, 'running', actor, { unparked }) : m;
  return { migration, unparked };
}

/**
 * `joinery migrate rollback`: every device that has not joined through the target goes back to
 * the source (registered there, bound to it alone, removed from the target); devices that
 * already joined through the target finish their move. Parked devices are included.
 */
export async function requestRollback(store: Store, id: string, actor: string): Promise<FleetMigration> {
  const m = await existing(store, id);
  if (m.status === 'rolled-back') return m;
  const unparked = await unpark(store, id);
  return setStatus(store, m, 'rolling-back', actor, { reason: 'operator', unparked });
}

import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { deviceSelectionJSON, parseDeviceSelection, type DeviceSelectionJSON } from '../../fleet-migration/device-selection';
import { parseVendorLimit, type VendorLimits } from '../../fleet-migration/vendor-limits';
import type { AuditEvent } from '../audit-event';
import {
  parseDeviceMigrationState,
  parseMigrationStatus,
  parseMigrationStep,
  parseMigrationStrategy,
  type DeviceMigrationState,
  type FleetMigration,
  type MigrationArrival,
  type MigrationEntry,
  type MigrationEntryChange,
  type MigrationEntryQuery,
  type MigrationStatus,
  type RebindOutcome,
  type Rebinding,
} from '../fleet-migration-journal';
import type { FleetMigrationJournal } from '../ports/fleet-migration-journal';
import { MigrationConflictError } from '../store-errors';
import { appendAuditEntry, audited } from './audit-log-sql';
import { asDate, asInt, changedOne, count, firstRow, placeholders, rows, type SqlDialect, type SqlInt, type SqlRunner, type SqlTime, type Work } from './sql-work';

/** What a fleet migration keeps beside its columns, as JSON in `fleet_migrations.plan`. */
interface MigrationPlanJSON {
  readonly selection: DeviceSelectionJSON;
  readonly limits: Record<string, { ratePerSecond: number; concurrency: number }>;
  readonly rollbackAtDeadline: boolean;
  readonly maxAttempts: number;
}

/** A fleet_migrations row as either database gives it. */
interface FleetMigrationRow {
  readonly id: string;
  readonly source_peer: string;
  readonly target_peer: string;
  readonly strategy: string;
  readonly plan: string;
  readonly status: string;
  readonly deadline: SqlTime | null;
  readonly created_at: SqlTime;
  readonly created_by: string;
  readonly finished_at: SqlTime | null;
}

/** A fleet_migration_devices row (a journal entry) as either database gives it. */
interface MigrationEntryRow {
  readonly migration_id: string;
  readonly dev_eui: string;
  readonly state: string;
  readonly attempts: SqlInt;
  readonly failed_step: string | null;
  readonly last_error: string | null;
  readonly rebound_at: SqlTime | null;
  readonly joined_at: SqlTime | null;
  readonly updated_at: SqlTime;
}

const FLEET_MIGRATION_COLUMNS = 'id, source_peer, target_peer, strategy, plan, status, deadline, created_at, created_by, finished_at';
const MIGRATION_ENTRY_COLUMNS = 'migration_id, dev_eui, state, attempts, failed_step, last_error, rebound_at, joined_at, updated_at';
/** A device in a migration in any other state may not enter another migration. */
const RELEASED_STATES_SQL = "('done', 'rolled-back')";
/** DevEUIs per statement of a new migration's journal. */
const ENTRY_BATCH = 500;

function fleetMigrationValues(m: FleetMigration): unknown[] {
  const plan: MigrationPlanJSON = { selection: deviceSelectionJSON(m.selection), limits: { ...m.limits }, rollbackAtDeadline: m.rollbackAtDeadline, maxAttempts: m.maxAttempts };
  return [m.id, m.sourcePeer, m.targetPeer, m.strategy, JSON.stringify(plan), m.status, m.deadline, m.createdAt, m.createdBy, m.finishedAt];
}

function fleetMigrationFromRow(row: FleetMigrationRow): FleetMigration {
  const plan = JSON.parse(row.plan) as MigrationPlanJSON;
  const limits: Record<string, ReturnType<typeof parseVendorLimit>> = {};
  for (const [vendor, l] of Object.entries(plan.limits ?? {})) limits[vendor] = parseVendorLimit(l, `fleet_migrations.plan.limits.${vendor}`);
  return {
    id: row.id,
    sourcePeer: row.source_peer,
    targetPeer: row.target_peer,
    strategy: parseMigrationStrategy(row.strategy, 'fleet_migrations.strategy'),
    selection: parseDeviceSelection(plan.selection, 'fleet_migrations.plan.selection'),
    limits: limits as VendorLimits,
    deadline: asDate(row.deadline),
    rollbackAtDeadline: plan.rollbackAtDeadline === true,
    maxAttempts: plan.maxAttempts,
    status: parseMigrationStatus(row.status, 'fleet_migrations.status'),
    createdAt: asDate(row.created_at),
    createdBy: row.created_by,
    finishedAt: asDate(row.finished_at),
  };
}

function migrationEntryFromRow(row: MigrationEntryRow): MigrationEntry {
  return {
    migrationID: row.migration_id,
    devEUI: parseEUI64(row.dev_eui, 'fleet_migration_devices.dev_eui'),
    state: parseDeviceMigrationState(row.state, 'fleet_migration_devices.state'),
    attempts: asInt(row.attempts, 'fleet_migration_devices.attempts'),
    failedStep: row.failed_step === null ? null : parseMigrationStep(row.failed_step),
    lastError: row.last_error,
    reboundAt: asDate(row.rebound_at),
    joinedAt: asDate(row.joined_at),
    updatedAt: asDate(row.updated_at),
  };
}

/** The journal's conditional transition. */
function advanceEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, c: MigrationEntryChange): Work<number> {
  return count(
    `UPDATE fleet_migration_devices
        SET state = ?, attempts = COALESCE(?, attempts),
            failed_step = CASE WHEN ? THEN ? ELSE failed_step END,
            last_error = CASE WHEN ? THEN ? ELSE last_error END,
            rebound_at = COALESCE(?, rebound_at), joined_at = COALESCE(?, joined_at), updated_at = ?
      WHERE migration_id = ? AND dev_eui = ? AND state = ?`,
    [c.state, c.attempts ?? null, c.failedStep !== undefined, c.failedStep ?? null, c.lastError !== undefined, c.lastError ?? null, c.reboundAt ?? null, c.joinedAt ?? null, new Date(), migrationID, devEUI, from],
  );
}

/** Thrown inside a rebinding's transaction to roll it back when the device's binding moved. */
class BindingChanged extends Error {
  constructor() {
    super('the device binding changed');
  }
}

function* rebind(dialect: SqlDialect, r: Rebinding): Work<RebindOutcome> {
  if ((yield* advanceEntry(r.migrationID, r.devEUI, r.from, r.change)) !== 1) return 'already';
  let moved = false;
  for (const b of r.bindingFrom) {
    const sql = `UPDATE devices SET ns_peer = ?, overlap_ns_peer = ?, version = version + 1 WHERE dev_eui = ? AND ns_peer = ? AND ${dialect.same('overlap_ns_peer')}`;
    if ((yield* count(sql, [r.bindingTo.nsPeer, r.bindingTo.overlapNsPeer, r.devEUI, b.nsPeer, b.overlapNsPeer])) === 1) {
      moved = true;
      break;
    }
  }
  if (!moved) throw new BindingChanged();
  yield* appendAuditEntry(dialect, r.audit);
  return 'rebound';
}

/** The fleet migrations and their journal, the same SQL on both databases. */
export class SqlFleetMigrationJournal implements FleetMigrationJournal {
  constructor(private readonly sql: SqlRunner) {}

  async insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void> {
    const dialect = this.sql.dialect;
    const list = [...new Set(devEUIs)];
    await this.sql.transaction('creating a migration', () =>
      (function* (): Work<void> {
        for (let start = 0; start < list.length; start += ENTRY_BATCH) {
          const set = dialect.textSet(list.slice(start, start + ENTRY_BATCH));
          const busy = yield* firstRow<{ dev_eui: string; migration_id: string }>(
            `SELECT dev_eui, migration_id FROM fleet_migration_devices
            WHERE dev_eui IN ${set.sql} AND migration_id <> ? AND state NOT IN ${RELEASED_STATES_SQL} LIMIT 1`,
            [set.param, migration.id],
          );
          if (busy) throw new MigrationConflictError(parseEUI64(busy.dev_eui), busy.migration_id);
        }
        yield* count(`INSERT INTO fleet_migrations (${FLEET_MIGRATION_COLUMNS}) VALUES ${placeholders(10)}`, fleetMigrationValues(migration));
        const now = new Date();
        for (let start = 0; start < list.length; start += ENTRY_BATCH) {
          const some = list.slice(start, start + ENTRY_BATCH);
          yield* count(
            `INSERT INTO fleet_migration_devices (migration_id, dev_eui, state, attempts, updated_at) VALUES ${some.map(() => "(?, ?, 'planned', 0, ?)").join(', ')}`,
            some.flatMap((devEUI) => [migration.id, devEUI, now]),
          );
        }
        yield* appendAuditEntry(dialect, audit);
      })(),
    );
  }

  async getFleetMigration(id: string): Promise<FleetMigration | null> {
    const row = await this.sql.run('reading a migration', firstRow<FleetMigrationRow>(`SELECT ${FLEET_MIGRATION_COLUMNS} FROM fleet_migrations WHERE id = ?`, [id]));
    return row ? fleetMigrationFromRow(row) : null;
  }

  async listFleetMigrations(limit: number): Promise<FleetMigration[]> {
    const found = await this.sql.run('listing migrations', rows<FleetMigrationRow>(`SELECT ${FLEET_MIGRATION_COLUMNS} FROM fleet_migrations ORDER BY created_at DESC, id DESC LIMIT ?`, [limit]));
    return found.map(fleetMigrationFromRow);
  }

  setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean> {
    const finished = status === 'finished' || status === 'rolled-back' ? new Date() : null;
    const write = (): Work<number> => count('UPDATE fleet_migrations SET status = ?, finished_at = ? WHERE id = ?', [status, finished, id]);
    return this.sql.transaction('setting a migration status', () => audited(this.sql.dialect, changedOne(write()), audit));
  }

  async listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]> {
    const states = query.states ?? null;
    if (states !== null && states.length === 0) return [];
    const dialect = this.sql.dialect;
    const params: unknown[] = [migrationID, query.afterDevEUI ?? ''];
    let sql = `SELECT ${MIGRATION_ENTRY_COLUMNS} FROM fleet_migration_devices WHERE migration_id = ? AND ${dialect.text('dev_eui')} > ?`;
    if (states) {
      const set = dialect.textSet(states);
      sql += ` AND state IN ${set.sql}`;
      params.push(set.param);
    }
    const found = await this.sql.run('listing migration entries', rows<MigrationEntryRow>(`${sql} ORDER BY ${dialect.text('dev_eui')} LIMIT ?`, [...params, query.limit]));
    return found.map(migrationEntryFromRow);
  }

  async countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>> {
    const found = await this.sql.run(
      'counting migration entries',
      rows<{ state: DeviceMigrationState; n: SqlInt }>('SELECT state, COUNT(*) AS n FROM fleet_migration_devices WHERE migration_id = ? GROUP BY state', [migrationID]),
    );
    return Object.fromEntries(found.map((r) => [r.state, asInt(r.n, 'COUNT(*)')]));
  }

  async advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean> {
    return (await this.sql.run('advancing a migration entry', advanceEntry(migrationID, devEUI, from, change))) === 1;
  }

  async rebindMigratingDevice(rebinding: Rebinding): Promise<RebindOutcome> {
    try {
      return await this.sql.transaction('rebinding a device', () => rebind(this.sql.dialect, rebinding));
    } catch (err) {
      if (err instanceof BindingChanged) return 'binding-changed';
      throw err;
    }
  }

  async listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]> {
    const found = await this.sql.run(
      'listing migration arrivals',
      rows<{ dev_eui: string; last_join_at: SqlTime }>(
        `SELECT e.dev_eui, d.last_join_at FROM fleet_migration_devices e JOIN devices d ON d.dev_eui = e.dev_eui
          WHERE e.migration_id = ? AND e.state = 'rebound' AND d.last_join_peer = ? AND d.last_join_at >= e.rebound_at
          ORDER BY ${this.sql.dialect.text('e.dev_eui')} LIMIT ?`,
        [migrationID, targetPeer, limit],
      ),
    );
    return found.map((r) => ({ devEUI: parseEUI64(r.dev_eui, 'devices.dev_eui'), joinedAt: asDate(r.last_join_at) }));
  }
}

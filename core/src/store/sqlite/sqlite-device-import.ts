import Database from 'better-sqlite3';
import type { EUI64 } from '../../lorawan/identifiers';
import type { AuditEvent } from '../audit-event';
import type { Device, NewDevice } from '../device';
import { restoreNoncesSet } from '../retained-nonces';
import { DeviceExistsError } from '../store-errors';
import { appendAuditEntry } from '../sql/audit-log-sql';
import { NEW_DEVICE_COLUMNS, newDeviceValues, refuseRepeatedDevEUIs, type DeviceImport } from '../sql/device-registry-sql';
import { SqliteRunner, sqliteCode, SQLITE_DIALECT, toSqlite } from './sqlite-sql';

/** Rows per multi-row INSERT: one call into SQLite for this many devices (13 values each, under SQLite's 32,766 variables). */
const INSERT_ROWS = 64;
const DEVICE_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_DEVICE_SQL = `INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES `;

/** The import's statements, prepared on one connection. */
function importStatements(db: Database.Database) {
  return {
    insertDevice: db.prepare(INSERT_DEVICE_SQL + DEVICE_VALUES),
    insertDevices: db.prepare(INSERT_DEVICE_SQL + Array.from({ length: INSERT_ROWS }, () => DEVICE_VALUES).join(', ')),
    // The devices just inserted (a JSON array of DevEUIs) take the nonce state left by their DevEUI and JoinEUI.
    restoreNonces: db.prepare(
      `UPDATE devices SET ${restoreNoncesSet('r')} FROM retained_nonces AS r
        WHERE r.dev_eui IN (SELECT value FROM json_each(?)) AND devices.dev_eui = r.dev_eui AND devices.join_eui = r.join_eui`,
    ),
    dropRestoredNonces: db.prepare(
      `DELETE FROM retained_nonces
        WHERE dev_eui IN (SELECT value FROM json_each(?))
          AND EXISTS (SELECT 1 FROM devices AS d WHERE d.dev_eui = retained_nonces.dev_eui AND d.join_eui = retained_nonces.join_eui)`,
    ),
  };
}

type ImportStatements = ReturnType<typeof importStatements>;

/**
 * The devices' INSERTs, inside the caller's transaction, INSERT_ROWS rows per statement; an
 * existing DevEUI throws DeviceExistsError. A multi-row statement that meets one is undone
 * alone (SQLite's statement rollback), and its rows are inserted one by one to name it.
 */
function insertDeviceRows(stmt: ImportStatements, devices: readonly NewDevice[], now: Date): void {
  let start = 0;
  for (; start + INSERT_ROWS <= devices.length; start += INSERT_ROWS) {
    const values: unknown[] = [];
    for (let i = start; i < start + INSERT_ROWS; i++) values.push(...newDeviceValues(devices[i]!, now).map(toSqlite));
    try {
      stmt.insertDevices.run(values);
    } catch (err) {
      if (sqliteCode(err) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      insertDeviceRowsOneByOne(stmt, devices.slice(start, start + INSERT_ROWS), now);
    }
  }
  insertDeviceRowsOneByOne(stmt, devices.slice(start), now);
  // The nonce state of the deleted devices among them, by DevEUI and JoinEUI: one statement each way.
  const devEUIs = JSON.stringify(devices.map((d) => d.devEUI));
  if (stmt.restoreNonces.run(devEUIs).changes > 0) stmt.dropRestoredNonces.run(devEUIs);
}

function insertDeviceRowsOneByOne(stmt: ImportStatements, devices: readonly NewDevice[], now: Date): void {
  for (const d of devices) {
    try {
      stmt.insertDevice.run(newDeviceValues(d, now).map(toSqlite));
    } catch (err) {
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DeviceExistsError(d.devEUI);
      throw err;
    }
  }
}

/** Device imports on SQLite (and the join's device read, which the registry's reads share). */
export class SqliteDeviceImport implements DeviceImport {
  readonly #db: Database.Database;
  readonly #busyTimeoutMs: number;
  readonly #insert: (devices: readonly NewDevice[], audit: AuditEvent | undefined) => void;

  constructor(
    db: Database.Database,
    sql: SqliteRunner,
    busyTimeoutMs: number,
    readonly getDevice: (devEUI: EUI64) => Promise<Device | null>,
  ) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    const stmt = importStatements(db);
    const insert = db.transaction((devices: readonly NewDevice[], audit: AuditEvent | undefined) => {
      if (audit) sql.runNow(appendAuditEntry(SQLITE_DIALECT, audit));
      insertDeviceRows(stmt, devices, new Date());
    });
    this.#insert = (devices, audit) => insert.immediate(devices, audit);
  }

  async insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    refuseRepeatedDevEUIs(devices);
    if (devices.length > 0) this.#insert(devices, audit);
  }

  async insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    const source = chunks[Symbol.asyncIterator]();
    if (this.#db.memory) {
      // A private in-memory database has no second connection: the chunks are gathered.
      const all: NewDevice[] = [];
      for (let next = await source.next(); !next.done; next = await source.next()) all.push(...next.value);
      await this.insertDevices(all, all.length > 0 ? audit?.(all.length) : undefined);
      return all.length;
    }
    // A connection of its own for the transaction, which spans the awaits between chunks: the
    // store's other work on the main connection never lands inside it (or in its rollback).
    const db = new Database(this.#db.name, { fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const stmt = importStatements(db);
      const now = new Date();
      let inserted = 0;
      db.exec('BEGIN IMMEDIATE');
      try {
        for (let next = await source.next(); !next.done; next = await source.next()) {
          insertDeviceRows(stmt, next.value, now);
          inserted += next.value.length;
        }
        if (audit && inserted > 0) new SqliteRunner(db).runNow(appendAuditEntry(SQLITE_DIALECT, audit(inserted)));
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
      return inserted;
    } finally {
      db.close();
    }
  }
}

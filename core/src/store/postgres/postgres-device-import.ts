import type { PoolClient } from 'pg';
import type { EUI64 } from '../../lorawan/identifiers';
import type { AuditEvent } from '../audit-event';
import type { Device, NewDevice } from '../device';
import { NONCE_COLUMNS, restoreNoncesSet } from '../retained-nonces';
import { DeviceExistsError } from '../store-errors';
import { appendAuditEntry } from '../sql/audit-log-sql';
import { NEW_DEVICE_COLUMNS, newDeviceValues, refuseRepeatedDevEUIs, type DeviceImport } from '../sql/device-registry-sql';
import { PostgresStoreError, type PostgresRunner } from './postgres-sql';

/** Rows of a multi-row INSERT of devices (13 parameters each; PostgreSQL allows 65535 per statement). */
const INSERT_CHUNK = 500;

/**
 * The devices' INSERTs on the caller's transaction, INSERT_CHUNK rows a statement; a DevEUI
 * that exists (or comes twice) throws DeviceExistsError.
 */
async function insertDeviceRows(client: PoolClient, devices: readonly NewDevice[], now: Date): Promise<void> {
  for (let start = 0; start < devices.length; start += INSERT_CHUNK) {
    const chunk = devices.slice(start, start + INSERT_CHUNK);
    const values: unknown[] = [];
    const rows = chunk.map((d) => {
      const base = values.length;
      values.push(...newDeviceValues(d, now));
      return `(${Array.from({ length: 13 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    // ON CONFLICT DO NOTHING: a DevEUI already there (or being inserted by a concurrent
    // import, which this waits for) is simply not returned; the first such one is named.
    const inserted = await client.query<{ dev_eui: string }>(`INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES ${rows.join(', ')} ON CONFLICT (dev_eui) DO NOTHING RETURNING dev_eui`, values);
    if (inserted.rowCount !== chunk.length) {
      const got = new Set(inserted.rows.map((r) => r.dev_eui));
      const existing = chunk.find((d) => !got.has(d.devEUI));
      throw new DeviceExistsError((existing ?? chunk[0]!).devEUI);
    }
  }
  // The nonce state of the deleted devices among them, by DevEUI and JoinEUI, in one statement
  // driven by their (DevEUI, JoinEUI) pairs: a primary-key lookup each way per device.
  await client.query(
    `WITH restored AS (
       DELETE FROM retained_nonces AS r USING UNNEST($1::TEXT[], $2::TEXT[]) AS v (dev_eui, join_eui)
        WHERE r.dev_eui = v.dev_eui AND r.join_eui = v.join_eui
       RETURNING ${NONCE_COLUMNS.map((c) => `r.${c}`).join(', ')}, r.dev_eui)
     UPDATE devices SET ${restoreNoncesSet('restored')} FROM restored WHERE devices.dev_eui = restored.dev_eui`,
    [devices.map((d) => d.devEUI), devices.map((d) => d.joinEUI)],
  );
}

/** Device imports on PostgreSQL (and the join's device read, which the registry's reads share). */
export class PostgresDeviceImport implements DeviceImport {
  readonly #sql: PostgresRunner;

  constructor(
    sql: PostgresRunner,
    readonly getDevice: (devEUI: EUI64) => Promise<Device | null>,
  ) {
    this.#sql = sql;
  }

  async #appendAudit(client: PoolClient, audit: AuditEvent): Promise<void> {
    await this.#sql.runOn(client, appendAuditEntry(this.#sql.dialect, audit));
  }

  async insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    refuseRepeatedDevEUIs(devices);
    if (devices.length === 0) return;
    const now = new Date();
    await this.#sql.transactionWith('inserting devices', async (client) => {
      await insertDeviceRows(client, devices, now);
      if (audit) await this.#appendAudit(client, audit);
    });
  }

  async insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    const source = chunks[Symbol.asyncIterator]();
    let read = false;
    let sourceFailed: { readonly error: unknown } | undefined;
    let inserted: number;
    try {
      inserted = await this.#sql.transactionWith('inserting devices', async (client) => {
        // A retry (serialization failure, deadlock) cannot read the chunks again.
        if (read) throw new PostgresStoreError('inserting devices', undefined, 'the transaction failed after the devices were read; nothing was written, import again');
        read = true;
        const now = new Date();
        let inserted = 0;
        for (;;) {
          let next: IteratorResult<readonly NewDevice[]>;
          try {
            next = await source.next();
          } catch (error) {
            sourceFailed = { error };
            throw error;
          }
          if (next.done) break;
          await insertDeviceRows(client, next.value, now);
          inserted += next.value.length;
        }
        if (audit && inserted > 0) await this.#appendAudit(client, audit(inserted));
        return inserted;
      });
    } catch (err) {
      throw sourceFailed ? sourceFailed.error : err;
    }
    // The planner's statistics for the table as it now is. Until autovacuum analyses it (a
    // minute or more later), a table that was empty has none, and the plans PostgreSQL caches
    // for the join's prepared statements then read devices by sequential scan (measured at
    // 2,000 devices: bench/README.md).
    if (inserted > 0) await this.#sql.changes('analysing the imported devices', 'ANALYZE devices', []);
    return inserted;
  }
}

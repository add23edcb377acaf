import type { EUI64 } from '../../lorawan/identifiers';
import type { JoinRecord } from '../join-record';
import type { JoinRateBucket, JoinRateQuery, JoinRateRow } from '../join-rate';
import { postgresJoinRate } from './join-rate';
import type { JoinHistory } from '../ports/join-history';
import { JOIN_RECORD_COLUMNS, joinRecordValues, listJoinRecords } from '../sql/join-history-sql';
import { checkKeep } from '../sql/join-state-sql';
import type { PostgresRunner } from './postgres-sql';

/**
 * Each device of a batch pruned to its newest `$2` records: for each device, the index on
 * (dev_eui, id) read backwards to the first record beyond them, and the records from there on
 * deleted by the same index. Ranking every record of the batch's devices instead (a window
 * function over all of them, to delete those ranked past `keep`) cost PostgreSQL twice the
 * time per batch (bench/README.md). A device with no record beyond them deletes nothing.
 */
const PRUNE_JOIN_RECORDS = {
  name: 'joinery_prune_join_records',
  text: `
  DELETE FROM device_joins AS j
   USING (SELECT d.dev_eui, (SELECT x.id FROM device_joins AS x WHERE x.dev_eui = d.dev_eui ORDER BY x.id DESC OFFSET $2 LIMIT 1) AS newest_pruned
            FROM unnest($1::TEXT[]) AS d (dev_eui)) AS p
   WHERE j.dev_eui = p.dev_eui AND j.id <= p.newest_pruned`,
};

/** The join history on PostgreSQL. */
export class PostgresJoinHistory implements JoinHistory {
  constructor(private readonly sql: PostgresRunner) {}

  /**
   * Inserts the records of devices that exist and prunes each device to its newest `keep`, in
   * one transaction that holds the devices' row locks (in DevEUI order), so two batches of one
   * device at once still leave exactly `keep`.
   */
  async appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number> {
    checkKeep('appendJoinRecords', keep);
    if (records.length === 0) return 0;
    const devEUIs = [...new Set(records.map((r) => r.devEUI))].sort();
    return this.sql.transactionWith('appending join records', async (client) => {
      // KEY SHARE (what a foreign key takes): a device cannot be deleted meanwhile, and join
      // commits (which update no key column) are never made to wait.
      const locked = await client.query<{ dev_eui: string }>('SELECT dev_eui FROM devices WHERE dev_eui = ANY($1::TEXT[]) ORDER BY dev_eui FOR KEY SHARE', [devEUIs]);
      const known = new Set(locked.rows.map((r) => r.dev_eui));
      const rows = records.filter((r) => known.has(r.devEUI));
      if (rows.length === 0) return 0;
      const width = JOIN_RECORD_COLUMNS.split(', ').length;
      const values: unknown[] = [];
      const tuples = rows.map((r) => {
        const b = values.length;
        values.push(...joinRecordValues(r));
        return `(${Array.from({ length: width }, (_, i) => `$${b + i + 1}`).join(', ')})`;
      });
      await client.query(`INSERT INTO device_joins (${JOIN_RECORD_COLUMNS}) VALUES ${tuples.join(', ')}`, values);
      await client.query(PRUNE_JOIN_RECORDS, [[...known], keep]);
      return rows.length;
    });
  }

  listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    return this.sql.run('reading join records', listJoinRecords(devEUI, limit));
  }

  async joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]> {
    return postgresJoinRate((text, values) => this.sql.query<JoinRateRow>('reading the join rate', text, values), query);
  }
}

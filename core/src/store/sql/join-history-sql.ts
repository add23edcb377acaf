import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { parseJoinType, type JoinRecord } from '../join-record';
import { asDate, rows, type SqlInt, type SqlTime, type Work } from './sql-work';

/** A device_joins row as either database gives it. */
interface JoinRecordRow {
  readonly dev_eui: string;
  readonly join_eui: string;
  readonly at: SqlTime;
  readonly peer: string;
  readonly join_type: string;
  readonly mac_version: string;
  readonly result: string;
  readonly description: string | null;
  readonly dev_nonce: SqlInt | null;
  readonly join_nonce: SqlInt | null;
}

/** The device_joins columns, in the order `joinRecordValues` gives a record's values. */
export const JOIN_RECORD_COLUMNS = 'dev_eui, join_eui, at, peer, join_type, mac_version, result, description, dev_nonce, join_nonce';

export function joinRecordValues(r: JoinRecord): unknown[] {
  return [r.devEUI, r.joinEUI, r.at, r.peer, r.joinType, r.macVersion, r.result, r.description, r.devNonce, r.joinNonce];
}

function joinRecordFromRow(row: JoinRecordRow): JoinRecord {
  return {
    devEUI: parseEUI64(row.dev_eui, 'device_joins.dev_eui'),
    joinEUI: parseEUI64(row.join_eui, 'device_joins.join_eui'),
    at: asDate(row.at),
    peer: row.peer,
    joinType: parseJoinType(row.join_type),
    macVersion: row.mac_version,
    result: row.result,
    description: row.description,
    devNonce: row.dev_nonce === null ? null : Number(row.dev_nonce),
    joinNonce: row.join_nonce === null ? null : Number(row.join_nonce),
  };
}

/** A device's join records, newest first: the same SQL on both databases (the appends are each dialect's own). */
export function* listJoinRecords(devEUI: EUI64, limit: number): Work<JoinRecord[]> {
  return (yield* rows<JoinRecordRow>(`SELECT ${JOIN_RECORD_COLUMNS} FROM device_joins WHERE dev_eui = ? ORDER BY id DESC LIMIT ?`, [devEUI, limit])).map(joinRecordFromRow);
}

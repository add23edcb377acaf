import type Database from 'better-sqlite3';
import type { JoinRecord } from '../join-record';
import { JOIN_RECORD_COLUMNS } from '../sql/join-history-sql';
import { HISTORY_CHUNK, type WriteTurn } from './write-turn';

/** A join record as the INSERT's values, plain (they also cross to the history thread). */
export type RecordParams = ReadonlyArray<string | number | null>;

export function recordParams(r: JoinRecord): RecordParams {
  return [r.devEUI, r.joinEUI, r.at.getTime(), r.peer, r.joinType, r.macVersion, r.result, r.description, r.devNonce, r.joinNonce];
}

const INSERT_JOIN_RECORD_SQL = `INSERT INTO device_joins (${JOIN_RECORD_COLUMNS})
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE dev_eui = ?)`;
const PRUNE_JOIN_RECORDS_SQL = `DELETE FROM device_joins
  WHERE dev_eui = ? AND id <= (SELECT id FROM device_joins WHERE dev_eui = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`;

/**
 * The one append of the SQLite join history, run by the history thread and, for an in-memory
 * database (no second connection), by the store: the records of devices that exist inserted,
 * each device pruned to its newest `keep`. With a `turn` (the history thread's), in IMMEDIATE
 * transactions of `HISTORY_CHUNK` records, each taken when no join commit wants the write lock:
 * a transaction of a whole batch held it for 10-27 ms, and the join commits waited; if one
 * fails, those before it stay written. Without, in one. Returns how many were stored.
 */
export function historyAppender(db: Database.Database, turn: WriteTurn | null = null): (records: readonly RecordParams[], keep: number) => number {
  const insert = db.prepare(INSERT_JOIN_RECORD_SQL);
  const prune = db.prepare(PRUNE_JOIN_RECORDS_SQL);
  const append = db.transaction((records: readonly RecordParams[], keep: number) => {
    let stored = 0;
    for (const r of records) stored += insert.run(...r, r[0]).changes;
    for (const devEUI of new Set(records.map((r) => r[0]))) prune.run(devEUI, devEUI, keep);
    return stored;
  });
  if (!turn) return (records, keep) => append.immediate(records, keep);
  return (records, keep) => {
    let stored = 0;
    for (let at = 0; at < records.length; at += HISTORY_CHUNK) {
      const chunk = records.slice(at, at + HISTORY_CHUNK);
      stored += turn.history(() => append.immediate(chunk, keep));
    }
    return stored;
  };
}

import type Database from 'better-sqlite3';
import type { JoinRecord } from '../join-record';
import { JoinHistoryPartlyWrittenError } from '../join-history-partly-written';
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
 * each device pruned to its newest `keep`. Without a `turn`, in one IMMEDIATE transaction.
 * With one (the history thread's), in as many as the join commits need: a transaction ends
 * after the record at which a commit wants the write lock (or after `HISTORY_CHUNK` records),
 * and the next starts after that commit (write-turn.ts); a transaction of a whole batch held
 * the lock for 10-27 ms, and every commit meanwhile waited. If one fails, those before it stay
 * written, and it throws JoinHistoryPartlyWrittenError saying how many. Returns how many were
 * stored.
 */
export function historyAppender(db: Database.Database, turn: WriteTurn | null = null): (records: readonly RecordParams[], keep: number) => number {
  const insert = db.prepare(INSERT_JOIN_RECORD_SQL);
  const prune = db.prepare(PRUNE_JOIN_RECORDS_SQL);
  // From `from`, up to `most` records or until a commit waits: each record inserted and its
  // device pruned at once, so that a transaction can end after any record.
  const appendFrom = db.transaction((records: readonly RecordParams[], from: number, most: number, keep: number) => {
    let stored = 0;
    let next = from;
    while (next < records.length) {
      const r = records[next++]!;
      stored += insert.run(...r, r[0]).changes;
      prune.run(r[0], r[0], keep);
      if (next - from >= most || turn?.commitWaiting()) break;
    }
    return { stored, next };
  });
  if (!turn) return (records, keep) => appendFrom.immediate(records, 0, records.length, keep).stored;
  return (records, keep) => {
    let stored = 0;
    for (let from = 0; from < records.length;) {
      try {
        const done = turn.history(() => appendFrom.immediate(records, from, HISTORY_CHUNK, keep));
        stored += done.stored;
        from = done.next;
      } catch (err) {
        if (from === 0) throw err;
        throw new JoinHistoryPartlyWrittenError(from, stored, err);
      }
    }
    return stored;
  };
}

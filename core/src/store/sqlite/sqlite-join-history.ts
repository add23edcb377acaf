import type Database from 'better-sqlite3';
import type { EUI64 } from '../../lorawan/identifiers';
import type { JoinRecord } from '../join-record';
import type { JoinRateBucket, JoinRateQuery } from '../join-rate';
import { sqliteJoinRate } from './join-rate';
import type { JoinHistory } from '../ports/join-history';
import { listJoinRecords } from '../sql/join-history-sql';
import { checkKeep } from '../sql/join-state-sql';
import { historyAppender, recordParams } from './history-batch';
import type { SqliteHistoryWorker } from './history-worker';
import type { SqliteRunner } from './sqlite-sql';

/** The join history on SQLite: appended on the history thread for a database file, on this connection for an in-memory one. */
export class SqliteJoinHistory implements JoinHistory {
  readonly #db: Database.Database;
  readonly #sql: SqliteRunner;
  readonly #append: (records: readonly JoinRecord[], keep: number) => Promise<number>;

  constructor(db: Database.Database, sql: SqliteRunner, worker: SqliteHistoryWorker | null) {
    this.#db = db;
    this.#sql = sql;
    if (worker) {
      this.#append = (records, keep) => worker.append(records, keep);
    } else {
      const append = historyAppender(db);
      this.#append = async (records, keep) => append(records.map(recordParams), keep);
    }
  }

  async appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number> {
    checkKeep('appendJoinRecords', keep);
    if (records.length === 0) return 0;
    return this.#append(records, keep);
  }

  async listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    return this.#sql.runNow(listJoinRecords(devEUI, limit));
  }

  async joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]> {
    return sqliteJoinRate(this.#db, query);
  }
}

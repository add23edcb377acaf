import type { JoinRecord } from '../join-record';
import { fromWire, StoreThread, THREAD_PRELUDE, type WireError } from './store-thread';

/** A join record as it crosses to the thread: the INSERT's parameters, plain values. */
type WireRecord = ReadonlyArray<string | number | null>;

interface Reply {
  readonly id: number;
  readonly stored?: number;
  readonly error?: WireError;
}

/**
 * The history thread's code (see StoreThread): its own
 * connection, `synchronous = NORMAL` (in WAL mode a commit is not fsynced: the history is
 * informational), and each batch it is sent inserted and pruned in one IMMEDIATE transaction.
 * Its connection keeps SQLite's autocheckpoint, so a history of refused joins alone (no commit
 * to start the checkpoint thread) still bounds the WAL; a checkpoint here holds no other thread.
 */
const HISTORY_SOURCE = `${THREAD_PRELUDE}
const db = connect(['synchronous = NORMAL', 'foreign_keys = ON']);
const insert = db.prepare(workerData.insertSQL);
const prune = db.prepare(workerData.pruneSQL);
const append = db.transaction((records, keep) => {
  let stored = 0;
  for (const r of records) stored += insert.run(...r, r[0]).changes;
  for (const devEUI of new Set(records.map((r) => r[0]))) prune.run(devEUI, devEUI, keep);
  return stored;
});
serve(db, (m) => {
  try {
    parentPort.postMessage({ id: m.id, stored: append.immediate(m.records, m.keep) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: wire(err) });
  }
});
`;

export interface HistoryWorkerOptions {
  /** The database file (it must exist: the store created and migrated it). */
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** The store's statements: insert one record (its values, then its DevEUI for the existence check), prune a device. */
  readonly insertSQL: string;
  readonly pruneSQL: string;
}

/**
 * The SQLite store's join history written on a thread of its own: a batch of a few hundred
 * records inserts into an index ordered by device, so it touches as many pages as it has
 * devices; on the main thread that was 5-15 ms of the event loop per batch (a tail of every
 * join answered meanwhile) and a fifth of the server's CPU per join under load. Here the main
 * thread only hands the batch over. Started with the first batch; never holds the process open
 * but while a batch is in flight; if it dies, the batches in flight fail with its error (the
 * recorder counts them) and the next starts a new one (StoreThread).
 */
export class SqliteHistoryWorker {
  readonly #thread: StoreThread<Reply>;

  constructor(options: HistoryWorkerOptions) {
    this.#thread = new StoreThread<Reply>('history worker', HISTORY_SOURCE, { ...options });
  }

  async append(records: readonly JoinRecord[], keep: number): Promise<number> {
    const wire: WireRecord[] = records.map((r) => [r.devEUI, r.joinEUI, r.at.getTime(), r.peer, r.joinType, r.macVersion, r.result, r.description, r.devNonce, r.joinNonce]);
    const reply = await this.#thread.request({ records: wire, keep });
    if (reply.stored === undefined) throw fromWire(reply.error ?? { message: 'history worker: empty reply', code: undefined });
    return reply.stored;
  }

  /** Ends the thread (after the batches in flight). Idempotent. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}

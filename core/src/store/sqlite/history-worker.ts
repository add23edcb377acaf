import { JoinHistoryPartlyWrittenError } from '../join-history-partly-written';
import type { JoinRecord } from '../join-record';
import { recordParams } from './history-batch';
import { fromWire, StoreThread, type WireError } from './store-thread';

interface Reply {
  readonly id: number;
  readonly stored?: number;
  readonly error?: WireError;
  /** With `error`: the batch failed after these were written (JoinHistoryPartlyWrittenError). */
  readonly partly?: { readonly handled: number; readonly stored: number };
}

export interface HistoryWorkerOptions {
  /** The database file (it must exist: the store created and migrated it). */
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** Shared with the commit thread: their turns at the write lock (write-turn.ts). */
  readonly writeTurn?: SharedArrayBuffer;
}

/**
 * The SQLite store's join history written on a thread of its own (`history-thread.ts`, running
 * the store's own `historyAppender`): a batch of a few hundred records inserts into an index
 * ordered by device, so it touches as many pages as it has devices; on the main thread that was
 * 5-15 ms of the event loop per batch (a tail of every join answered meanwhile) and a fifth of
 * the server's CPU per join under load. Here the main thread only hands the batch over. Started
 * with the first batch; never holds the process open but while a batch is in flight; if it
 * dies, the batches in flight fail with its error (the recorder counts them) and the next
 * starts a new one (StoreThread).
 */
export class SqliteHistoryWorker {
  readonly #thread: StoreThread<Reply>;

  constructor(options: HistoryWorkerOptions) {
    this.#thread = new StoreThread<Reply>('history worker', require.resolve('./history-thread'), { ...options });
  }

  async append(records: readonly JoinRecord[], keep: number): Promise<number> {
    const reply = await this.#thread.request({ records: records.map(recordParams), keep });
    if (reply.stored !== undefined) return reply.stored;
    const err = fromWire(reply.error ?? { message: 'history worker: empty reply', code: undefined });
    throw reply.partly ? new JoinHistoryPartlyWrittenError(reply.partly.handled, reply.partly.stored, err) : err;
  }

  /** Starts the history thread now, before the first batch (a server before it listens). */
  start(): Promise<void> {
    return this.#thread.start();
  }

  /** Ends the thread (after the batches in flight). Idempotent. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}

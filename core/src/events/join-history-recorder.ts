import { parseEUI64 } from '../lorawan/identifiers';
import type { Logger } from '../log/logger';
import type { JoineryMetrics } from '../metrics/metrics';
import { JoinHistoryPartlyWrittenError } from '../store/join-history-partly-written';
import { DEFAULT_JOIN_HISTORY, type JoinRecord } from '../store/join-record';
import type { Store } from '../store/store';
import type { JoinEvent } from './join-event';

export interface JoinHistoryOptions {
  /** Join records kept per device (the newest). Default 50. */
  readonly keep?: number;
  /** The longest a record waits in memory before its batch is written. Default 250 ms. */
  readonly flushIntervalMs?: number;
  /** A batch is written at once when this many records wait. Default 500. */
  readonly batchSize?: number;
  /** Records beyond this many waiting are dropped (and counted). Default 20,000. */
  readonly maxQueued?: number;
}

/**
 * The join history, written off the join's critical path: `record` only queues (no I/O, no
 * await), and the queue is written in batches, one transaction each (insert and prune), every
 * `flushIntervalMs` or as soon as `batchSize` records wait. The history is informational: what
 * is queued when the process dies is lost, and a full queue or a failed write drops records
 * (counted in `joinery_join_history_total`). Nonce state is not written here: it is committed,
 * durably, before the join-accept leaves, as before.
 */
export class JoinHistoryRecorder {
  readonly #store: Pick<Store, 'appendJoinRecords'>;
  readonly #metrics: JoineryMetrics | undefined;
  readonly #log: Logger | undefined;
  readonly #keep: number;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  #queue: JoinRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> | null = null;
  #closed = false;

  constructor(store: Pick<Store, 'appendJoinRecords'>, options: JoinHistoryOptions = {}, metrics?: JoineryMetrics, log?: Logger) {
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
    this.#keep = positive(options.keep ?? DEFAULT_JOIN_HISTORY, 'keep');
    this.#intervalMs = positive(options.flushIntervalMs ?? 250, 'flushIntervalMs');
    this.#batchSize = positive(options.batchSize ?? 500, 'batchSize');
    this.#maxQueued = positive(options.maxQueued ?? 20_000, 'maxQueued');
  }

  /** Queues a join event's record (a JoinEventListener): synchronous, never throws. */
  readonly record = (event: JoinEvent): void => {
    if (this.#closed || this.#queue.length >= this.#maxQueued) {
      this.#metrics?.joinHistory.inc({ outcome: 'dropped' });
      return;
    }
    let devEUI, joinEUI;
    try {
      devEUI = parseEUI64(event.devEUI);
      joinEUI = parseEUI64(event.joinEUI);
    } catch {
      return;
    }
    this.#queue.push({
      devEUI,
      joinEUI,
      at: new Date(event.time),
      peer: event.peer,
      joinType: event.joinType,
      macVersion: event.macVersion,
      result: event.result,
      description: event.description ?? null,
      devNonce: event.devNonce ?? null,
      joinNonce: event.joinNonce ?? null,
    });
    this.#metrics?.joinHistoryQueued.set(this.#queue.length);
    if (this.#queue.length >= this.#batchSize) this.#schedule(0);
    else this.#schedule(this.#intervalMs);
  };

  /** Writes everything queued so far (and waits for a write in progress). */
  async flush(): Promise<void> {
    this.#clearTimer();
    while (this.#writing || this.#queue.length > 0) {
      if (this.#writing) await this.#writing;
      else await this.#writeBatch();
    }
  }

  /** Stops taking records and writes what is queued. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(delayMs: number): void {
    if (this.#writing) return; // the write in progress schedules the next one
    if (this.#timer && delayMs > 0) return;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#writeBatch();
    }, delayMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #writeBatch(): Promise<void> {
    if (this.#writing) return this.#writing;
    const batch = this.#queue.splice(0, this.#batchSize);
    this.#metrics?.joinHistoryQueued.set(this.#queue.length);
    if (batch.length === 0) return Promise.resolve();
    this.#writing = (async () => {
      const { handled, stored } = await this.#append(batch);
      this.#metrics?.joinHistory.inc({ outcome: 'stored' }, stored);
      if (handled > stored) this.#metrics?.joinHistory.inc({ outcome: 'unknown-device' }, handled - stored);
      if (batch.length > handled) this.#metrics?.joinHistory.inc({ outcome: 'failed' }, batch.length - handled);
      this.#writing = null;
      if (this.#queue.length > 0 && !this.#closed) this.#schedule(this.#queue.length >= this.#batchSize ? 0 : this.#intervalMs);
    })();
    return this.#writing;
  }

  /**
   * Appends a batch; never throws. `handled`: the records written or skipped (of unknown
   * devices), `stored` of them written. A failure part-way (SQLite's history thread writes a
   * batch in several transactions) leaves what came before it written, and it counts so.
   */
  async #append(batch: readonly JoinRecord[]): Promise<{ handled: number; stored: number }> {
    try {
      return { handled: batch.length, stored: await this.#store.appendJoinRecords(batch, this.#keep) };
    } catch (err) {
      const partly = err instanceof JoinHistoryPartlyWrittenError ? err : null;
      const handled = partly?.handled ?? 0;
      const cause = partly ? partly.cause : err;
      this.#log?.warn(
        { err: cause instanceof Error ? cause.message : String(cause), records: batch.length - handled, ...(partly ? { written: handled } : {}) },
        partly ? 'join history: a batch was written only in part' : 'join history: a batch was not written',
      );
      return { handled, stored: partly?.stored ?? 0 };
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`join history: ${name} must be a positive integer, got ${n}`);
  return n;
}

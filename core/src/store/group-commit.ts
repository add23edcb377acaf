export interface GroupCommitOptions {
  /** Most items in one batch (one transaction). Default 256. */
  readonly maxBatch?: number;
  /** Batches running at once. Default 1: arrivals wait for the batch in flight and go together in the next. */
  readonly maxInFlight?: number;
  /**
   * When nothing is in flight, commit a call at once (default true) rather than at the end of
   * the event-loop turn. At once is the lower latency; waiting gathers the calls of one turn.
   */
  readonly dispatchWhenIdle?: boolean;
}

/**
 * What `runBatch` returns for an item that failed on its own while the rest of the batch went
 * through: that caller's promise is rejected with `error`, the others get their results.
 */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

interface Pending<T, R> {
  readonly item: T;
  /** Its `orderBy` key, taken once at submit; null without orderBy. */
  readonly key: string | null;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: calls that arrive together (in the same turn of the event loop, or while a
 * batch is being committed) are handed to `runBatch` together, so one transaction (one
 * durable flush) serves them all. `runBatch` returns one result per item, in order; each
 * caller gets its own (an ItemFailure rejects that caller alone). When `runBatch` throws, every
 * caller of that batch gets the error.
 *
 * Latency stays that of one commit when there is no concurrency (a lone call is dispatched at
 * the end of its event-loop turn), and throughput grows with the batch size when there is.
 */
export class GroupCommitter<T, R> {
  readonly #runBatch: (items: readonly T[]) => Promise<ReadonlyArray<R | ItemFailure>>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #immediate: boolean;
  readonly #orderBy: ((item: T) => string) | null;
  #queue: Pending<T, R>[] = [];
  /** The keys (`orderBy`) of the items in the batches in flight, with how many of each. */
  readonly #keysInFlight = new Map<string, number>();
  #inFlight = 0;
  #scheduled = false;
  #batches = 0;
  #items = 0;

  /**
   * `orderBy`: with more than one batch in flight, items of one key (a device) are run in
   * arrival order: an item whose key is in a batch in flight waits (in its place in the queue)
   * until that batch is done, so it never overtakes an earlier item of its key. Items of other
   * keys go past it.
   */
  constructor(runBatch: (items: readonly T[]) => Promise<ReadonlyArray<R | ItemFailure>>, options: GroupCommitOptions = {}, orderBy?: (item: T) => string) {
    this.#runBatch = runBatch;
    this.#maxBatch = positiveInteger(options.maxBatch ?? 256, 'maxBatch');
    this.#maxInFlight = positiveInteger(options.maxInFlight ?? 1, 'maxInFlight');
    this.#immediate = options.dispatchWhenIdle ?? true;
    this.#orderBy = orderBy ?? null;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, key: this.#orderBy?.(item) ?? null, resolve, reject });
      this.#schedule();
    });
  }

  /** Batches run and items committed so far (for measurements and tests). */
  get stats(): { readonly batches: number; readonly items: number } {
    return { batches: this.#batches, items: this.#items };
  }

  /** Resolves when nothing is queued or in flight. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return;
    if (this.#inFlight === 0 && this.#immediate) {
      // Nothing in flight: no reason to wait, a lone commit goes at once. What arrives while it
      // is being committed forms the next batch.
      this.#dispatch();
      return;
    }
    this.#scheduled = true;
    // setImmediate, not a microtask: every call that arrives in this turn of the event loop (one
    // I/O callback per request) joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  /** The next batch: the first `maxBatch` items of the queue whose key is in no batch in flight. */
  #take(): Pending<T, R>[] {
    if (this.#keysInFlight.size === 0) return this.#queue.splice(0, this.#maxBatch);
    const batch: Pending<T, R>[] = [];
    const waiting: Pending<T, R>[] = [];
    for (const p of this.#queue) {
      if (batch.length < this.#maxBatch && (p.key === null || !this.#keysInFlight.has(p.key))) batch.push(p);
      else waiting.push(p);
    }
    this.#queue = waiting;
    return batch;
  }

  /** Counts the batch's keys in (1) or out (-1) of flight; items without a key count nowhere. */
  #keys(batch: readonly Pending<T, R>[], delta: 1 | -1): void {
    for (const { key } of batch) {
      if (key === null) continue;
      const n = (this.#keysInFlight.get(key) ?? 0) + delta;
      if (n === 0) this.#keysInFlight.delete(key);
      else this.#keysInFlight.set(key, n);
    }
  }

  #dispatch(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) return; // every item queued waits for a batch in flight
      this.#keys(batch, 1);
      this.#inFlight++;
      this.#batches++;
      this.#items += batch.length;
      let run: Promise<ReadonlyArray<R | ItemFailure>>;
      try {
        run = this.#runBatch(batch.map((p) => p.item));
      } catch (err) {
        run = Promise.reject(err);
      }
      run
        .then(
          (results) => {
            if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
            batch.forEach((p, i) => {
              const result = results[i] as R | ItemFailure;
              if (result instanceof ItemFailure) p.reject(result.error);
              else p.resolve(result);
            });
          },
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .catch((err: unknown) => batch.forEach((p) => p.reject(err)))
        .finally(() => {
          this.#keys(batch, -1);
          this.#inFlight--;
          this.#schedule();
        });
    }
  }
}

function positiveInteger(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`group commit: ${name} must be a positive integer, got ${n}`);
  return n;
}

/**
 * How the SQLite store's two writing threads, the commit thread (join commits) and the history
 * thread (join records), take turns at the database's one write lock: through two flags in
 * memory they share, the commits first.
 *
 * Without it they met at SQLite's lock alone, and a commit that found the history's transaction
 * holding it waited in SQLite's busy handler, which sleeps 1, 2, 5, 10... ms between tries: a
 * history batch of 500 records held the lock for 10-27 ms, and every join in flight waited for
 * it. Now:
 * - the commit thread raises its flag before it writes, waits (on the flag's memory, woken the
 *   moment the history's transaction ends) for a history transaction that holds the lock, and
 *   lowers its flag when its transaction is done;
 * - the history thread starts a transaction only while no commit's flag is up, gives way when
 *   a commit raised its flag as it was taking its turn, and ends its transaction after the
 *   record at which it sees a commit's flag up (history-batch.ts): a commit waits for one
 *   record, not for a batch.
 *
 * Both flags are set with sequentially consistent atomics, each thread raising its own before
 * reading the other's, so the two never write at once by this protocol; SQLite's lock and busy
 * handler still order them (and every other connection) whatever happens. A wait is bounded
 * (`MAX_WAIT_MS`) and a flag that stayed up through a whole wait is not waited for again until
 * it is seen down, so a thread that died with its flag up delays the other once, by that much;
 * a thread lowers its own flag when it starts.
 */

/** Index of the commit thread's flag: 1 from before its write until its transaction is done. */
const COMMIT = 0;
/** Index of the history thread's flag: 1 while its transaction runs. */
const HISTORY = 1;
/** Longest single wait for the other's flag; SQLite's busy handler is behind it. */
const MAX_WAIT_MS = 100;

/** Records of one history transaction at most, when no commit asks for the lock sooner: 5-13 ms of it (20-50 µs a record). */
export const HISTORY_CHUNK = 256;

/** The memory the two threads share (created by the store, handed to both in their thread data). */
export function writeTurnMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** A thread's side of the turns: `commit` for the commit thread, `history` for the history thread. */
export class WriteTurn {
  readonly #flags: Int32Array;
  /** The other thread's flag stayed up for a whole wait: not waited for again until seen down. */
  #otherStuck = false;

  constructor(memory: SharedArrayBuffer) {
    this.#flags = new Int32Array(memory);
  }

  /** The commit thread's write: after any history transaction holding the lock. */
  commit<T>(write: () => T): T {
    const f = this.#flags;
    Atomics.store(f, COMMIT, 1);
    try {
      this.#waitWhileUp(HISTORY);
      return write();
    } finally {
      Atomics.store(f, COMMIT, 0);
      Atomics.notify(f, COMMIT);
    }
  }

  /** The history thread's write: while no commit wants the lock. */
  history<T>(write: () => T): T {
    const f = this.#flags;
    for (;;) {
      this.#waitWhileUp(COMMIT);
      Atomics.store(f, HISTORY, 1);
      if (this.#otherStuck || Atomics.load(f, COMMIT) === 0) break;
      // A commit raised its flag as this turn was taken: it goes first.
      Atomics.store(f, HISTORY, 0);
      Atomics.notify(f, HISTORY);
    }
    try {
      return write();
    } finally {
      Atomics.store(f, HISTORY, 0);
      Atomics.notify(f, HISTORY);
    }
  }

  /** For the history thread, in its transaction: whether a commit waits for the write lock (it then ends its transaction). */
  commitWaiting(): boolean {
    return Atomics.load(this.#flags, COMMIT) === 1;
  }

  /** At a thread's start: its own flag down (a thread before it may have died holding it). */
  reset(side: 'commit' | 'history'): void {
    Atomics.store(this.#flags, side === 'commit' ? COMMIT : HISTORY, 0);
  }

  #waitWhileUp(other: number): void {
    if (Atomics.load(this.#flags, other) === 0) {
      this.#otherStuck = false;
      return;
    }
    if (!this.#otherStuck) this.#otherStuck = Atomics.wait(this.#flags, other, 1, MAX_WAIT_MS) === 'timed-out' && Atomics.load(this.#flags, other) === 1;
  }
}

import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../../threads/module-thread';
import type { JoinCommit } from '../device';
import { ItemFailure } from '../group-commit';
import { commitJoinParams } from './commit-batch';
import { fromWire, StoreThread, type WireError } from './store-thread';

type WireResult = boolean | { readonly error: WireError };

interface Reply {
  readonly id: number;
  /** One per commit, in order; absent when the whole batch failed (`error`). */
  readonly results?: readonly WireResult[];
  readonly error?: WireError;
}

/** Commits between two checkpoint requests: about the pages SQLite's own autocheckpoint waits for. */
const CHECKPOINT_EVERY = 1000;

export interface CommitWorkerOptions {
  /** The database file (it must exist: the store created and migrated it). */
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** Shared with the history thread: their turns at the write lock (write-turn.ts). */
  readonly writeTurn?: SharedArrayBuffer;
}

/**
 * The SQLite store's nonce commits on a worker thread with a connection of its own
 * (`commit-thread.ts`, running the store's own `commitBatcher`): the fsync of a group commit no
 * longer blocks the event loop, which goes on parsing requests and answering joins whose commit
 * is done; what arrives meanwhile forms the next batch. A commit's promise resolves only after
 * its transaction is durable (WAL, `synchronous = FULL`), so a JoinAns still never leaves before
 * its nonce state is on disk.
 *
 * The thread starts with the first batch (a CLI command that never commits a join never starts
 * it) and holds the process open only while a batch is in flight. If it dies, the batches in
 * flight fail with its error and the next batch starts a new one.
 */
export class SqliteCommitWorker {
  readonly #options: CommitWorkerOptions;
  readonly #thread: StoreThread<Reply>;
  #closed = false;
  #checkpointer: Worker | null = null;
  #checkpointing = false;
  #sinceCheckpoint = 0;

  constructor(options: CommitWorkerOptions) {
    this.#options = options;
    this.#thread = new StoreThread<Reply>('commit worker', require.resolve('./commit-thread'), { file: options.file, busyTimeoutMs: options.busyTimeoutMs, writeTurn: options.writeTurn });
  }

  /** Runs the batch in one transaction on the worker; one result per commit, in order. */
  async run(commits: readonly JoinCommit[]): Promise<Array<boolean | ItemFailure>> {
    if (this.#closed) throw new Error('sqlite store: closed');
    const replied = this.#thread.request({ commits: commits.map(commitJoinParams) });
    this.#sinceCheckpoint += commits.length;
    if (this.#sinceCheckpoint >= CHECKPOINT_EVERY && !this.#checkpointing) this.#checkpoint();
    const reply = await replied;
    if (!reply.results) throw fromWire(reply.error ?? { message: 'commit worker: empty reply', code: undefined });
    return reply.results.map((r) => (typeof r === 'boolean' ? r : new ItemFailure(fromWire(r.error))));
  }

  /**
   * Starts the commit thread and the checkpoint thread now, before the first batch (a server
   * before it listens), and waits until both have their connection open: a thread's start is
   * tens of milliseconds of CPU (an isolate, its modules, a connection) that the first joins
   * would otherwise share the cores with.
   */
  async start(): Promise<void> {
    await Promise.all([this.#thread.start(), this.#checkpointerReady()]);
  }

  /** The checkpoint thread started, with its connection open; rejects with the error it could not open it with. */
  #checkpointerReady(): Promise<void> {
    const thread = this.#checkpointThread();
    return new Promise((resolve, reject) => {
      // Its connection's failure is posted (thread-connection.ts) before the thread's 'error'.
      const answered = (m: { readonly error?: WireError }): void => {
        thread.off('error', failed);
        thread.unref();
        if (m.error) reject(fromWire(m.error));
        else resolve();
      };
      const failed = (err: unknown): void => {
        thread.off('message', answered);
        reject(err);
      };
      thread.once('message', answered);
      thread.once('error', failed);
      // Held open while it is waited for (an unreferenced thread would let the process end first).
      thread.ref();
      thread.postMessage({ id: 0, ready: true });
    });
  }

  /** Asks the checkpoint thread to checkpoint. */
  #checkpoint(): void {
    this.#sinceCheckpoint = 0;
    this.#checkpointing = true;
    this.#checkpointThread().postMessage({ checkpoint: true });
  }

  /** The checkpoint thread (`checkpoint-thread.ts`, started on first use, never holding the process open). */
  #checkpointThread(): Worker {
    if (!this.#checkpointer) {
      const checkpointer = startModuleThread(require.resolve('./checkpoint-thread'), { file: this.#options.file, busyTimeoutMs: this.#options.busyTimeoutMs });
      checkpointer.unref();
      checkpointer.on('message', () => (this.#checkpointing = false));
      // A checkpoint thread that failed is started again with the next request.
      const gone = (): void => {
        if (this.#checkpointer === checkpointer) this.#checkpointer = null;
        this.#checkpointing = false;
      };
      checkpointer.on('error', gone);
      checkpointer.on('exit', gone);
      this.#checkpointer = checkpointer;
    }
    return this.#checkpointer;
  }

  /** Ends the threads (after the caller has let the batches in flight finish). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const checkpointer = this.#checkpointer;
    this.#checkpointer = null;
    if (checkpointer) {
      const ended = new Promise<void>((resolve) => checkpointer.once('exit', () => resolve()));
      // Held open until it has exited: an unreferenced thread's exit is no reason for the event
      // loop to wait, and a process with nothing else to do would end here, the rest of its
      // shutdown (the other threads, the database, the last log line) never run.
      checkpointer.ref();
      checkpointer.postMessage({ close: true });
      await ended;
    }
    await this.#thread.close();
  }
}

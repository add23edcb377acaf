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
 * it), or with `start`, and holds the process open only while a batch is in flight. If it dies,
 * the batches in flight fail with its error and the next batch starts a new one. The checkpoint
 * thread beside it is the same kind of thread (StoreThread), asked every 1,000 commits.
 */
export class SqliteCommitWorker {
  readonly #thread: StoreThread<Reply>;
  #closed = false;
  /** `checkpoint-thread.ts`: copies the WAL into the database file when asked (a reply `{ id }` each time). */
  readonly #checkpointer: StoreThread<{ readonly id: number }>;
  #checkpointing = false;
  #sinceCheckpoint = 0;

  constructor(options: CommitWorkerOptions) {
    this.#thread = new StoreThread<Reply>('commit worker', require.resolve('./commit-thread'), { file: options.file, busyTimeoutMs: options.busyTimeoutMs, writeTurn: options.writeTurn });
    this.#checkpointer = new StoreThread('checkpoint thread', require.resolve('./checkpoint-thread'), { file: options.file, busyTimeoutMs: options.busyTimeoutMs });
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
    await Promise.all([this.#thread.start(), this.#checkpointer.start()]);
  }

  /**
   * Asks the checkpoint thread to checkpoint; the commits never wait for it. A checkpoint that
   * fails (its thread died) is not retried: the next one, 1,000 commits later, starts a new thread.
   */
  #checkpoint(): void {
    this.#sinceCheckpoint = 0;
    this.#checkpointing = true;
    this.#checkpointer.request({ checkpoint: true }).then(
      () => (this.#checkpointing = false),
      () => (this.#checkpointing = false),
    );
  }

  /** Ends the threads (after the caller has let the batches in flight finish). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#checkpointer.close();
    await this.#thread.close();
  }
}

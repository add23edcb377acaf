import { Worker } from 'node:worker_threads';
import type { JoinCommit } from '../device';
import { ItemFailure } from '../group-commit';
import { fromWire, StoreThread, THREAD_PRELUDE, type WireError } from './store-thread';

/** A commit as it crosses to the worker thread: the statement's parameters, plain values. */
type WireCommit = ReadonlyArray<string | number | null>;

type WireResult = boolean | { readonly error: WireError };

interface Reply {
  readonly id: number;
  /** One per commit, in order; absent when the whole batch failed (`error`). */
  readonly results?: readonly WireResult[];
  readonly error?: WireError;
}


/**
 * The worker thread's code, plain JavaScript run with `eval` (it has no file of its own, so it
 * runs the same from the TypeScript sources under a test runner and from the built package).
 * It opens its own connection with the store's durability settings and runs each batch it is
 * sent as one IMMEDIATE transaction: one fsync, off the main thread's event loop. If the batch
 * fails for any reason but a busy write lock, each commit is run on its own, so one bad commit
 * fails alone; running a commit again is safe, it is conditional on its version. It never
 * checkpoints the WAL itself (\`wal_autocheckpoint = 0\`): that is the checkpoint thread's work.
 */
const WORKER_SOURCE = `${THREAD_PRELUDE}
const db = connect(['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'wal_autocheckpoint = 0']);
const update = db.prepare(workerData.commitSQL);
const one = (params) => update.run(...params).changes === 1;
const many = db.transaction((commits) => commits.map(one));
serve(db, (m) => {
  try {
    if (m.commits.length > 1) {
      try {
        parentPort.postMessage({ id: m.id, results: many.immediate(m.commits) });
        return;
      } catch (err) {
        if ((codeOf(err) || '').startsWith('SQLITE_BUSY')) {
          parentPort.postMessage({ id: m.id, error: wire(err) });
          return;
        }
      }
    }
    parentPort.postMessage({
      id: m.id,
      results: m.commits.map((c) => {
        try {
          return one(c);
        } catch (err) {
          return { error: wire(err) };
        }
      }),
    });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: wire(err) });
  }
});
`;

/**
 * The checkpoint thread's code: its own connection copies the WAL's committed pages into the
 * database file (\`wal_checkpoint(PASSIVE)\`: it never blocks the commits) when asked, so the
 * commit thread's batches never wait for a checkpoint (a checkpoint of a large registry writes
 * up to a thousand random pages of the file and syncs it). Once a checkpoint has copied the
 * whole WAL, the next commit starts the WAL over from its beginning.
 */
const CHECKPOINT_SOURCE = `${THREAD_PRELUDE}
const db = connect(['synchronous = FULL']);
serve(db, () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint that cannot run now (a busy lock) runs with the next request.
  }
  parentPort.postMessage({ done: true });
});
`;

/** Commits between two checkpoint requests: about the pages SQLite's own autocheckpoint waits for. */
const CHECKPOINT_EVERY = 1000;

export interface CommitWorkerOptions {
  /** The database file (it must exist: the store created and migrated it). */
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** The conditional UPDATE of one join (the store's statement, so both threads run the same SQL). */
  readonly commitSQL: string;
  /** The statement's parameters for one commit. */
  readonly params: (commit: JoinCommit) => WireCommit;
}

/**
 * The SQLite store's nonce commits on a worker thread with a connection of its own: the fsync
 * of a group commit no longer blocks the event loop, which goes on parsing requests and
 * answering joins whose commit is done; what arrives meanwhile forms the next batch. A commit's
 * promise resolves only after its transaction is durable (WAL, `synchronous = FULL`), so a
 * JoinAns still never leaves before its nonce state is on disk.
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
    this.#thread = new StoreThread<Reply>('commit worker', WORKER_SOURCE, { file: options.file, busyTimeoutMs: options.busyTimeoutMs, commitSQL: options.commitSQL });
  }

  /** Runs the batch in one transaction on the worker; one result per commit, in order. */
  async run(commits: readonly JoinCommit[]): Promise<Array<boolean | ItemFailure>> {
    if (this.#closed) throw new Error('sqlite store: closed');
    const replied = this.#thread.request({ commits: commits.map(this.#options.params) });
    this.#sinceCheckpoint += commits.length;
    if (this.#sinceCheckpoint >= CHECKPOINT_EVERY && !this.#checkpointing) this.#checkpoint();
    const reply = await replied;
    if (!reply.results) throw fromWire(reply.error ?? { message: 'commit worker: empty reply', code: undefined });
    return reply.results.map((r) => (typeof r === 'boolean' ? r : new ItemFailure(fromWire(r.error))));
  }

  /** Asks the checkpoint thread (started on first use, never holding the process open) to checkpoint. */
  #checkpoint(): void {
    this.#sinceCheckpoint = 0;
    this.#checkpointing = true;
    if (!this.#checkpointer) {
      const checkpointer = new Worker(CHECKPOINT_SOURCE, {
        eval: true,
        workerData: { driver: require.resolve('better-sqlite3'), file: this.#options.file, busyTimeoutMs: this.#options.busyTimeoutMs },
      });
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
    this.#checkpointer.postMessage({ checkpoint: true });
  }

  /** Ends the threads (after the caller has let the batches in flight finish). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const checkpointer = this.#checkpointer;
    this.#checkpointer = null;
    if (checkpointer) {
      const ended = new Promise<void>((resolve) => checkpointer.once('exit', () => resolve()));
      checkpointer.postMessage({ close: true });
      await ended;
    }
    await this.#thread.close();
  }
}

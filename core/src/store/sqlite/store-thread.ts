import { Worker } from 'node:worker_threads';

/**
 * What the code of the store's threads (commit, checkpoint, history) starts with: the driver;
 * `wire`, an error as it crosses back; `connect`, the thread's connection with its pragmas (a
 * failure to open is posted as the reply to request -1, then thrown: the thread's 'error'
 * follows); and `serve`, which hands every message to `handle` until the one that says close
 * (the connection closed, the thread let go).
 */
export const THREAD_PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const codeOf = (err) => (err && typeof err.code === 'string' ? err.code : undefined);
const wire = (err) => ({ message: err instanceof Error ? err.message : String(err), code: codeOf(err) });
const connect = (pragmas) => {
  try {
    const db = new Database(workerData.file, { fileMustExist: true });
    db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
    for (const p of pragmas) db.pragma(p);
    return db;
  } catch (err) {
    parentPort.postMessage({ id: -1, error: wire(err) });
    throw err;
  }
};
const serve = (db, handle) =>
  parentPort.on('message', (m) => {
    if (m.close) {
      db.close();
      parentPort.close();
      return;
    }
    handle(m);
  });
`;

/** An error as it crosses back from a thread: its SQLite code is kept (the callers decide on it). */
export interface WireError {
  readonly message: string;
  readonly code: string | undefined;
}

export function fromWire(e: WireError): Error {
  const err = new Error(e.message) as Error & { code?: string };
  if (e.code !== undefined) err.code = e.code;
  return err;
}

/**
 * A thread of the store that answers requests (the commit thread, the history thread): its
 * code (`source`, plain JavaScript run with `eval`, so it runs the same from the TypeScript
 * sources under a test runner and from the built package) answers every message `{ id, ... }`
 * with one `{ id, ... }`. Started with the first request; it holds the process open only while
 * a request is in flight. If it dies, the requests in flight fail with its error and the next
 * request starts a new one.
 */
export class StoreThread<Reply extends { readonly id: number }> {
  readonly #source: string;
  readonly #workerData: Readonly<Record<string, unknown>>;
  readonly #name: string;
  #worker: Worker | null = null;
  #nextID = 0;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  #closed = false;

  constructor(name: string, source: string, workerData: Readonly<Record<string, unknown>>) {
    this.#name = name;
    this.#source = source;
    this.#workerData = { driver: require.resolve('better-sqlite3'), ...workerData };
  }

  request(message: Readonly<Record<string, unknown>>): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('sqlite store: closed'));
    const worker = this.#start();
    const id = this.#nextID++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  /** Ends the thread (after the caller has let the requests in flight finish). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#source, { eval: true, workerData: this.#workerData });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      if (reply.id === -1) return; // the open failed: 'error' follows
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      p.resolve(reply);
    });
    const fail = (err: unknown): void => {
      if (this.#worker === worker) this.#worker = null;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`sqlite ${this.#name} exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

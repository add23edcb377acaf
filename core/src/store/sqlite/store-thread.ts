import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../../threads/module-thread';

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
 * module (`modulePath`, a `*-thread.ts` of this directory, run by startModuleThread, so it runs
 * the same from the TypeScript sources under a test runner and from the built package) answers
 * every message `{ id, ... }` with one `{ id, ... }`. Started with the first request; it holds the process open only while
 * a request is in flight. If it dies, the requests in flight fail with its error and the next
 * request starts a new one.
 */
export class StoreThread<Reply extends { readonly id: number }> {
  readonly #modulePath: string;
  readonly #workerData: Readonly<Record<string, unknown>>;
  readonly #name: string;
  #worker: Worker | null = null;
  #nextID = 0;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  #closed = false;

  constructor(name: string, modulePath: string, workerData: Readonly<Record<string, unknown>>) {
    this.#name = name;
    this.#modulePath = modulePath;
    this.#workerData = workerData;
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

  /** Starts the thread now rather than with the first request, and waits until its connection is open. */
  async start(): Promise<void> {
    await this.request({ ready: true });
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
    const worker = startModuleThread(this.#modulePath, this.#workerData);
    worker.unref();
    // The thread's own account of a failed open (its 'error' event follows, and carries an
    // error that lost its message crossing over).
    let openFailure: Error | undefined;
    worker.on('message', (reply: Reply & { readonly error?: WireError }) => {
      if (reply.id === -1) {
        openFailure = fromWire(reply.error ?? { message: `sqlite ${this.#name}: its connection did not open`, code: undefined });
        return;
      }
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
      for (const p of pending) p.reject(openFailure ?? err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`sqlite ${this.#name} exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

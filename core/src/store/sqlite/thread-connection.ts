/**
 * What runs inside each of the SQLite store's threads (commit, checkpoint, history): the
 * thread's own connection, and the loop that answers the store's requests. Imported only by
 * the thread modules (`*-thread.ts`), which run on their thread (see StoreThread).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { WireError } from './store-thread';

/** What every store thread is started with. */
export interface ThreadData {
  /** The database file (it must exist: the store created and migrated it). */
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** The memory the commit and history threads take their turns at the write lock through (write-turn.ts). */
  readonly writeTurn?: SharedArrayBuffer;
}

export const threadData = workerData as ThreadData;

/** The port to the store (a thread module runs on a thread only). */
export const port = parentPort!;

export function wire(err: unknown): WireError {
  const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
  return { message: err instanceof Error ? err.message : String(err), code };
}

/**
 * The thread's connection with `pragmas`. A failure to open is posted as the reply to request
 * -1, then thrown: the thread's 'error' follows.
 */
export function connect(pragmas: readonly string[]): Database.Database {
  try {
    const db = new Database(threadData.file, { fileMustExist: true });
    db.pragma(`busy_timeout = ${threadData.busyTimeoutMs}`);
    for (const p of pragmas) db.pragma(p);
    return db;
  } catch (err) {
    port.postMessage({ id: -1, error: wire(err) });
    throw err;
  }
}

/**
 * Hands every message to `handle` until the one that says close (the connection closed, the
 * thread let go). A message that says `ready` is answered at once: the thread runs, its
 * connection is open.
 */
export function serve<M>(db: Database.Database, handle: (message: M) => void): void {
  port.on('message', (m: M & { readonly id: number; readonly close?: boolean; readonly ready?: boolean }) => {
    if (m.close) {
      db.close();
      port.close();
      return;
    }
    if (m.ready) {
      port.postMessage({ id: m.id });
      return;
    }
    handle(m);
  });
}

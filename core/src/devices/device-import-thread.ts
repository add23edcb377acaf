import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../threads/module-thread';
import { DeviceImportError, type DeviceImportRow, type ImportFileOptions } from './device-import-file';
import { unpackRows, type ImportThreadMessage } from './device-import-wire';

/** Chunks the parsing thread may be ahead of the import by. */
const AHEAD = 4;
/**
 * Rows a chunk: small enough that the rows in flight die young (a million devices, alternated
 * runs of the CLI: 15.0-17.4 s at 1,000 a chunk, 16.4-17.0 s at 2,000, 18.2-25.5 s at 10,000,
 * most of the difference in garbage collection).
 */
const CHUNK_SIZE = 1_000;

/**
 * streamDeviceImportCSV of a file, run on a thread of its own: the reading, parsing and
 * checking of the rows (half of an import's CPU) overlap the sealing and the inserts on this
 * one. The same rows come, in the same chunks, with the same DeviceImportError at the end
 * (every problem, up to 100, after the rows stop at the first); returning early (or an error
 * here) ends the thread.
 */
export async function* streamDeviceImportCSVOnThread(
  file: string,
  options: ImportFileOptions & {
    readonly chunkSize?: number;
    /**
     * Keys in clear for the software vault: the thread also seals the chunks it is ahead with
     * (sealing is a third of an import's CPU), under the master key of `dataDir` (or
     * JOINERY_MASTER_KEY), which the caller has opened already; those rows come sealed
     * (SealedImportKeys), the others in clear for the caller's vault to seal.
     */
    readonly sealWith?: { readonly dataDir: string };
  } = {},
): AsyncGenerator<DeviceImportRow[], void, undefined> {
  const worker: Worker = startModuleThread(require.resolve('./device-import-worker'), {
    file: path.resolve(file),
    wrappedKeys: options.wrappedKeys === true,
    chunkSize: options.chunkSize ?? CHUNK_SIZE,
    ...(options.sealWith ? { sealWith: { dataDir: path.resolve(options.sealWith.dataDir) } } : {}),
  });
  const inbox: Array<ImportThreadMessage | { readonly kind: 'crash'; readonly error: Error }> = [];
  let wake: (() => void) | null = null;
  const deliver = (m: (typeof inbox)[number]): void => {
    inbox.push(m);
    wake?.();
  };
  worker.on('message', deliver);
  worker.on('error', (error) => deliver({ kind: 'crash', error }));
  worker.on('exit', (code) => deliver({ kind: 'crash', error: new Error(`the import's parsing thread stopped (exit code ${code})`) }));
  worker.postMessage({ credit: AHEAD });
  try {
    for (;;) {
      if (inbox.length === 0) {
        // Held open only while this waits for it: a consumer that stops pulling lets the process end.
        worker.ref();
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        worker.unref();
      }
      const m = inbox.shift()!;
      switch (m.kind) {
        case 'chunk': {
          const rows = unpackRows(m);
          worker.postMessage({ credit: 1 });
          yield rows;
          break;
        }
        case 'done':
          return;
        case 'problems':
          throw new DeviceImportError(m.unit, m.problems);
        case 'error':
          throw new Error(m.message);
        case 'crash':
          throw m.error;
      }
    }
  } finally {
    worker.removeAllListeners();
    // An error while it ends has no one left to tell (and must not become an unhandled 'error').
    worker.on('error', () => undefined);
    await worker.terminate();
  }
}

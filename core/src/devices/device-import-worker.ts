/**
 * The import's parsing thread (started by streamDeviceImportCSVOnThread): reads the CSV file,
 * parses and checks its rows with streamDeviceImportCSV, and posts them a chunk at a time, at
 * most as many chunks ahead as the importing thread has asked for (its credit), so a file of a
 * million devices is never held whole on either side.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DeviceImportError, streamDeviceImportCSV } from './device-import-file';
import { packRows, type ImportThreadMessage } from './device-import-wire';

interface ImportThreadData {
  readonly file: string;
  readonly wrappedKeys: boolean;
  readonly chunkSize: number;
}

const port = parentPort!;
const data = workerData as ImportThreadData;
let credit = 0;
let wake: (() => void) | null = null;
port.on('message', (m: { readonly credit: number }) => {
  credit += m.credit;
  wake?.();
});

const post = (m: ImportThreadMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function run(): Promise<void> {
  try {
    for await (const rows of streamDeviceImportCSV(createReadStream(data.file), { wrappedKeys: data.wrappedKeys, chunkSize: data.chunkSize })) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      credit--;
      const chunk = packRows(rows, data.wrappedKeys);
      post(chunk, [chunk.keys.buffer as ArrayBuffer]);
    }
    post({ kind: 'done' });
  } catch (e) {
    if (e instanceof DeviceImportError) post({ kind: 'problems', unit: e.unit, problems: e.problems });
    else post({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
  port.close();
}

void run();

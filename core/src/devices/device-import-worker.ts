/**
 * The import's parsing thread (started by streamDeviceImportCSVOnThread): reads the CSV file,
 * parses and checks its rows with streamDeviceImportCSV, and posts them a chunk at a time, at
 * most as many chunks ahead as the importing thread has asked for (its credit), so a file of a
 * million devices is never held whole on either side. With `sealWith` (keys in clear, the
 * software vault) it also seals the root keys of the chunks it is ahead with, with a vault of
 * its own on the master key it reads where the command read it: those rows cross as sealed
 * blobs only, their clear keys zeroed here.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadMasterKey } from '../keys/master-key';
import { SoftwareKeyVault } from '../keys/software-vault';
import type { RootKeys } from '../keys/key-vault';
import { DeviceImportError, streamDeviceImportCSV, type DeviceImportRow } from './device-import-file';
import { packRows, type ImportThreadMessage } from './device-import-wire';

interface ImportThreadData {
  readonly file: string;
  readonly wrappedKeys: boolean;
  readonly chunkSize: number;
  /** Seal the rows here, under the master key of this data directory (or JOINERY_MASTER_KEY). */
  readonly sealWith?: { readonly dataDir: string };
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

/** The vault that seals on this thread: the command's master key (it opened it first: never one made here). */
async function sealingVault(dataDir: string): Promise<SoftwareKeyVault> {
  const master = await loadMasterKey({ dataDir });
  if (!master) throw new Error(`the import's parsing thread found no master key in ${dataDir}`);
  return new SoftwareKeyVault(master.ring, { cacheSize: 0, ...(master.file !== undefined ? { keyFile: master.file } : {}) });
}

/** The rows with their root keys sealed by `vault`; the clear keys are zeroed. */
async function sealRows(vault: SoftwareKeyVault, rows: readonly DeviceImportRow[]): Promise<DeviceImportRow[]> {
  const out: DeviceImportRow[] = [];
  for (const row of rows) {
    const keys = row.rootKeys as RootKeys;
    try {
      out.push({ ...row, rootKeys: { kind: keys.kind, sealed: await vault.sealRootKeys(keys, row.devEUI), vaultKind: 'software' } });
    } finally {
      keys.appKey.unsafeBytes().fill(0);
      if (keys.kind === '1.1') keys.nwkKey.unsafeBytes().fill(0);
    }
  }
  return out;
}

async function run(): Promise<void> {
  let vault: SoftwareKeyVault | null = null;
  try {
    vault = data.sealWith && !data.wrappedKeys ? await sealingVault(data.sealWith.dataDir) : null;
    for await (const parsed of streamDeviceImportCSV(createReadStream(data.file), { wrappedKeys: data.wrappedKeys, chunkSize: data.chunkSize })) {
      // Ahead of the importing thread (no credit left): seal this chunk while it catches up;
      // else hand the rows over as they are, and the importing thread seals them. Both threads
      // stay busy: sealing is a third of an import's CPU, parsing and checking another.
      const sealedHere = vault !== null && credit === 0;
      const rows = sealedHere ? await sealRows(vault!, parsed) : parsed;
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      credit--;
      const chunk = packRows(rows, sealedHere ? 'sealed' : data.wrappedKeys ? 'wrapped' : 'clear');
      post(chunk, [chunk.keys.buffer as ArrayBuffer]);
    }
    post({ kind: 'done' });
  } catch (e) {
    if (e instanceof DeviceImportError) post({ kind: 'problems', unit: e.unit, problems: e.problems });
    else post({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    await vault?.close();
  }
  port.close();
}

void run();

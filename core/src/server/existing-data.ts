import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MASTER_KEY_ENV, MASTER_KEY_FILE } from '../keys/master-key';
import type { BackendSettings } from './backend-settings';

/** A read-only command pointed at a place that holds no Joinery data: it creates nothing. */
export class NoDataDirectoryError extends Error {
  override readonly name = 'NoDataDirectoryError';
}

/**
 * Refuses, before anything is opened or created, when the data a read-only command would read
 * is not there: the data directory (when the SQLite database or the software vault's master key
 * file lives in it), the SQLite database, the master key file. Opening them would otherwise
 * create an empty database and a new master key in the wrong folder.
 */
export async function requireExistingData(settings: BackendSettings, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const masterKeyInDir = settings.vault.kind === 'software' && !env[MASTER_KEY_ENV];
  const fix = '(give --data-dir, JOINERY_DATA_DIR or data_dir in the --config file; ns add or serve creates one)';
  if ((settings.store.kind === 'sqlite' || masterKeyInDir) && !(await exists(settings.dataDir))) {
    throw new NoDataDirectoryError(`no Joinery data directory at ${settings.dataDir} ${fix}`);
  }
  if (settings.store.kind === 'sqlite' && !(await exists(settings.store.path))) throw new NoDataDirectoryError(`no Joinery database at ${settings.store.path} ${fix}`);
  const keyFile = path.join(settings.dataDir, MASTER_KEY_FILE);
  if (masterKeyInDir && !(await exists(keyFile))) throw new NoDataDirectoryError(`no master key at ${keyFile}: not a Joinery data directory ${fix}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

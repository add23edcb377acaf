import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensureDirectory, writeFileAtomic } from '../pki/atomic-file';

/**
 * A network server's management API key at rest: `<data dir>/adapter-keys/<peer>.key`, mode
 * 0600 in a 0700 directory, next to the master key. Never in the store (whose peers.settings
 * column may be read by anyone with database access), never printed, never logged.
 */
export function adapterAPIKeyFile(dataDir: string, peerName: string): string {
  return path.join(dataDir, 'adapter-keys', `${peerName}.key`);
}

export async function writeAdapterAPIKey(dataDir: string, peerName: string, apiKey: string): Promise<string> {
  const file = adapterAPIKeyFile(dataDir, peerName);
  await ensureDirectory(path.dirname(file), 0o700);
  await writeFileAtomic(file, `${apiKey}\n`, { mode: 0o600, replace: true });
  return file;
}

export async function readAdapterAPIKey(dataDir: string, peerName: string): Promise<string> {
  const file = adapterAPIKeyFile(dataDir, peerName);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`no API key for network server ${peerName} in this data directory (${file} is missing): give it with --api-key-file, or run joinery ns set ${peerName} --api-key-file FILE`);
    }
    throw err;
  }
  const key = text.trim();
  if (key === '') throw new Error(`${file} is empty`);
  return key;
}

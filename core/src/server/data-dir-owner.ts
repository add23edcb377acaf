import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Run as root against a service's data directory (`sudo joinery ns add ...` on a directory the
 * `joinery` user owns), every file and directory the command created there is given the data
 * directory's owner and group, so the service can still read its database, keys and
 * certificates. Only what root owns is changed: another user's files stay theirs. A command run
 * as any other user creates files as that user, who must be the directory's owner to write there.
 */
export async function giveToDataDirOwner(dataDir: string): Promise<void> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let owner: { uid: number; gid: number };
  try {
    owner = await fs.stat(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (owner.uid === 0) return;
  await chownTree(dataDir, owner.uid, owner.gid);
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    let stat;
    try {
      stat = await fs.lstat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // a temporary file gone meanwhile
      throw err;
    }
    if (stat.uid === 0) await fs.lchown(file, uid, gid);
    if (entry.isDirectory()) await chownTree(file, uid, gid);
  }
}

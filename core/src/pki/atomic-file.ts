import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a whole file or nothing: the data goes to a temporary file in the same directory
 * (created with `mode`, so a secret is never readable by others, not even briefly), is
 * flushed, and is then moved into place.
 *
 * `replace: false` never overwrites: the file appears only if no file of that name exists
 * (checked atomically by the file system, so two processes racing cannot both win), else the
 * call fails with `EEXIST`.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, opts: { mode: number; replace: boolean }): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', opts.mode);
  try {
    await handle.writeFile(data);
    // The process umask may have narrowed the mode at creation; set it exactly.
    await handle.chmod(opts.mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    if (opts.replace) {
      await fs.rename(tmp, file);
    } else {
      await fs.link(tmp, file);
      await fs.rm(tmp, { force: true });
    }
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** Creates a directory (and its parents) if missing; a new directory gets `mode`. */
export async function ensureDirectory(dir: string, mode: number): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
}

/** Reads a file, or `undefined` if it does not exist. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Makes a rename durable; not every platform can open a directory, and that is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort (Windows, some network file systems)
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

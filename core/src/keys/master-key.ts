import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { RedactedSecret } from '../lorawan/redacted-secret';

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** The environment variable that, when set, gives the master key and wins over the file. */
export const MASTER_KEY_ENV = 'JOINERY_MASTER_KEY';
/** The master key file inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key cannot be loaded or created. The message says what is wrong and what to do;
 * it never contains the key or the text that was supposed to be one.
 */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/**
 * The 256-bit master key of the software key vault: every sealed root key, KEK and AppSKey
 * is encrypted under it (AES-256-GCM). Like AES128Key it cannot be printed: `toString`,
 * `toJSON` and `util.inspect` give a redaction marker; the bytes are reachable only through
 * `unsafeBytes()`.
 */
export class MasterKey extends RedactedSecret {
  protected readonly kind = 'MasterKey';

  private constructor(bytes: Buffer) {
    super(bytes);
  }

  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== 32) throw new MasterKeyError(`master key: expected 32 bytes, got ${bytes.length}`);
    return new MasterKey(Buffer.from(bytes));
  }

  /**
   * Parses 64 hex digits (surrounding whitespace and a `0x` prefix allowed). `source` names
   * where the text came from, for the error message, which never echoes the text.
   */
  static fromHex(text: string, source = 'master key'): MasterKey {
    let s = text.trim();
    if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2);
    if (!HEX64.test(s)) {
      const what = /^[0-9a-fA-F]*$/.test(s) ? `${s.length} hex digits` : 'characters that are not hex digits';
      throw new MasterKeyError(`${source}: expected exactly 64 hex digits (a 256-bit key), found ${what}`);
    }
    return new MasterKey(Buffer.from(s, 'hex'));
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }
}

/**
 * Every master key the software vault knows, by id (0..255, the id written into each sealed
 * blob): each opens what it sealed; `current` seals. One key (id 0) until the first rotation.
 */
export interface MasterKeyRing {
  readonly current: number;
  readonly keys: ReadonlyMap<number, MasterKey>;
}

export function singleKeyRing(key: MasterKey): MasterKeyRing {
  return { current: 0, keys: new Map([[0, key]]) };
}

export interface LoadedMasterKey {
  /** The current master key (the one that seals). */
  readonly key: MasterKey;
  readonly ring: MasterKeyRing;
  /** The key file, when the keys came from one (not from JOINERY_MASTER_KEY). */
  readonly file?: string;
  /** True when this call generated the key and wrote the file. */
  readonly created: boolean;
  readonly source: 'env' | 'file';
}

const KEY_LINE = /^(\d{1,3}):([0-9a-fA-F]{64})$/;

/**
 * Parses the master key file: 64 hex digits (one key, id 0: the file as first written), or,
 * after a rotation, one `<id>:<64 hex digits>` line per key, the last line the current key
 * (`#` comment lines and blank lines ignored). Messages never echo the file's text.
 */
export function parseMasterKeyFile(text: string, source: string): MasterKeyRing {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 1 && !lines[0]!.includes(':')) return singleKeyRing(MasterKey.fromHex(lines[0]!, source));
  const keys = new Map<number, MasterKey>();
  let current = -1;
  lines.forEach((line, i) => {
    const m = KEY_LINE.exec(line);
    if (!m) throw new MasterKeyError(`${source}: key line ${i + 1} is not <id>:<64 hex digits>`);
    const id = Number(m[1]);
    if (id > 255) throw new MasterKeyError(`${source}: key line ${i + 1} has id ${id}; ids are 0..255`);
    if (keys.has(id)) throw new MasterKeyError(`${source}: master key id ${id} appears twice`);
    keys.set(id, MasterKey.fromHex(m[2]!, source));
    current = id;
  });
  if (current < 0) throw new MasterKeyError(`${source}: no master key in the file`);
  return { current, keys };
}

/** The file text of a key ring (the current key last). */
export function formatMasterKeyFile(ring: MasterKeyRing): string {
  const ids = [...ring.keys.keys()].filter((id) => id !== ring.current).sort((a, b) => a - b);
  const lines = [...ids, ring.current].map((id) => `${id}:${ring.keys.get(id)!.unsafeBytes().toString('hex')}`);
  return `# Joinery master keys: each opens what it sealed, the last one seals. Secret (mode 0600): back it up.\n${lines.join('\n')}\n`;
}

/** Reads the key ring of a master key file, or null when there is none (mode checked as for loading). */
export async function readMasterKeyRing(file: string): Promise<MasterKeyRing | null> {
  return readKeyFile(file);
}

/**
 * Replaces the master key file with `ring`, atomically (a fsynced 0600 temporary file renamed
 * over it): a reader sees the old keys or the new ones, never a part.
 */
export async function writeMasterKeyRing(file: string, ring: MasterKeyRing): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(formatMasterKeyFile(ring), { encoding: 'utf8' });
    await handle.sync();
    await handle.close();
    await fs.rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/**
 * Finds the master key:
 *
 * 1. `JOINERY_MASTER_KEY` (64 hex digits), when set, wins (set but empty is an error, not a
 *    silent fallback: a container started with an unset variable must not mint a new key);
 * 2. else `<dataDir>/master.key`: 64 hex digits and a newline, mode 0600. A file that group
 *    or others may access is refused, as ssh refuses a private key;
 * 3. else a new random key is written there: the data directory is created (mode 0700) if
 *    missing, the key goes to a temporary file (mode 0600, fsynced) which is then linked to
 *    `master.key` atomically and without overwriting. If another process (a CLI next to a
 *    starting server) created the file first, its key is loaded instead.
 */
export async function loadOrCreateMasterKey(opts: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<LoadedMasterKey> {
  const existing = await loadMasterKey(opts);
  if (existing) return existing;

  const file = path.join(opts.dataDir, MASTER_KEY_FILE);
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const key = MasterKey.generate();
  const won = await createKeyFile(file, key);
  if (won) return fromFile(singleKeyRing(key), file, true);
  const other = await readKeyFile(file);
  if (!other) throw new MasterKeyError(`${file}: appeared and vanished while being created; try again`);
  return fromFile(other, file, false);
}

function fromFile(ring: MasterKeyRing, file: string, created: boolean): LoadedMasterKey {
  return { key: ring.keys.get(ring.current)!, ring, file, created, source: 'file' };
}

/**
 * The master key as loadOrCreateMasterKey finds it (`JOINERY_MASTER_KEY`, else
 * `<dataDir>/master.key`), or null when there is none: never creates one. For a second
 * reader of the same keys in one process (the import's parsing thread), which must not mint a
 * key of its own.
 */
export async function loadMasterKey(opts: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<LoadedMasterKey | null> {
  const env = opts.env ?? process.env;
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined) {
    if (fromEnv.trim() === '') {
      throw new MasterKeyError(`${MASTER_KEY_ENV} is set but empty: set it to 64 hex digits, or unset it to use ${MASTER_KEY_FILE} in the data directory`);
    }
    const key = MasterKey.fromHex(fromEnv, MASTER_KEY_ENV);
    return { key, ring: singleKeyRing(key), created: false, source: 'env' };
  }
  const file = path.join(opts.dataDir, MASTER_KEY_FILE);
  const ring = await readKeyFile(file);
  return ring ? fromFile(ring, file, false) : null;
}

/** The keys in the file, or null when there is no file. */
async function readKeyFile(file: string): Promise<MasterKeyRing | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw new MasterKeyError(`${file}: cannot open the master key file (${errnoCode(err)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new MasterKeyError(`${file}: not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new MasterKeyError(`${file}: the master key file has mode ${mode}, so group or others can access it; ` + `refusing to use it. Restrict it with: chmod 600 ${file}`);
    }
    const text = await handle.readFile({ encoding: 'utf8' });
    return parseMasterKeyFile(text, file);
  } finally {
    await handle.close();
  }
}

/** Writes the key file atomically; false when another process created it first. */
async function createKeyFile(file: string, key: MasterKey): Promise<boolean> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${MASTER_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(`${key.unsafeBytes().toString('hex')}\n`, { encoding: 'utf8' });
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    try {
      // link() fails with EEXIST instead of replacing: a key another process created (and
      // may already have sealed keys with) is never overwritten.
      await fs.link(tmp, file);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) throw err;
      // A file system without hard links: rename, after a last check.
      if (await exists(file)) return false;
      await fs.rename(tmp, file);
    }
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  await syncDir(dir);
  return true;
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory; the file itself is synced
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

function errnoCode(err: unknown): string {
  return (typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code) || 'unknown error';
}

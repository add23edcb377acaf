import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, inspect } from 'node:util';
import { formatMasterKeyFile, loadOrCreateMasterKey, MasterKey, MasterKeyError, MASTER_KEY_ENV, parseMasterKeyFile, readMasterKeyRing, writeMasterKeyRing } from './master-key';

const posix = process.platform !== 'win32';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-master-key-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('master key', () => {
  test('file/created on first use: 64 hex digits and a newline, mode 0600, directory 0700', async () => {
    const dataDir = path.join(tmp, 'data', 'joinery');
    const first = await loadOrCreateMasterKey({ dataDir, env: {} });
    expect(first).toMatchObject({ created: true, source: 'file' });
    const file = path.join(dataDir, 'master.key');
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^[0-9a-f]{64}\n$/);
    expect(Buffer.from(text.trim(), 'hex').equals(first.key.unsafeBytes())).toBe(true);
    if (posix) {
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
    }
    expect(await fs.readdir(dataDir)).toEqual(['master.key']); // no temporary file left behind
  });

  test('file/loaded again on the next start, not re-created', async () => {
    const first = await loadOrCreateMasterKey({ dataDir: tmp, env: {} });
    const second = await loadOrCreateMasterKey({ dataDir: tmp, env: {} });
    expect(second).toMatchObject({ created: false, source: 'file' });
    expect(second.key.unsafeBytes().equals(first.key.unsafeBytes())).toBe(true);
  });

  test('file/concurrent first starts agree on one key, created once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateMasterKey({ dataDir: tmp, env: {} })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const hex = results[0]!.key.unsafeBytes().toString('hex');
    for (const r of results) expect(r.key.unsafeBytes().toString('hex')).toBe(hex);
    expect(await fs.readdir(tmp)).toEqual(['master.key']);
  });

  (posix ? test : test.skip)('file/refuses a group- or world-readable file, telling the operator to chmod 600', async () => {
    const { key } = await loadOrCreateMasterKey({ dataDir: tmp, env: {} });
    const file = path.join(tmp, 'master.key');
    await fs.chmod(file, 0o644);
    const err = await rejection(loadOrCreateMasterKey({ dataDir: tmp, env: {} }));
    expect(err).toBeInstanceOf(MasterKeyError);
    expect(err.message).toContain('0644');
    expect(err.message).toContain(`chmod 600 ${file}`);
    expect(err.message).not.toContain(key.unsafeBytes().toString('hex'));
    await fs.chmod(file, 0o640);
    await expect(loadOrCreateMasterKey({ dataDir: tmp, env: {} })).rejects.toThrow(/chmod 600/);
    await fs.chmod(file, 0o600);
    await expect(loadOrCreateMasterKey({ dataDir: tmp, env: {} })).resolves.toMatchObject({ created: false });
  });

  test('file/bad content is refused without echoing it', async () => {
    const file = path.join(tmp, 'master.key');
    const secretish = randomBytes(31).toString('hex'); // 62 digits: one byte short
    await fs.writeFile(file, `${secretish}\n`, { mode: 0o600 });
    const err = await rejection(loadOrCreateMasterKey({ dataDir: tmp, env: {} }));
    expect(err).toBeInstanceOf(MasterKeyError);
    expect(err.message).toContain('64 hex digits');
    expect(err.message).toContain('62');
    expect(err.message).not.toContain(secretish);

    const notHex = `${randomBytes(31).toString('hex')}zz`;
    await fs.writeFile(file, notHex, { mode: 0o600 });
    const err2 = await rejection(loadOrCreateMasterKey({ dataDir: tmp, env: {} }));
    expect(err2.message).toContain('not hex digits');
    expect(err2.message).not.toContain(notHex.slice(0, 20));
  });

  test('env/JOINERY_MASTER_KEY wins over the file', async () => {
    await loadOrCreateMasterKey({ dataDir: tmp, env: {} });
    const hex = randomBytes(32).toString('hex');
    const loaded = await loadOrCreateMasterKey({ dataDir: tmp, env: { [MASTER_KEY_ENV]: hex.toUpperCase() } });
    expect(loaded).toMatchObject({ created: false, source: 'env' });
    expect(loaded.key.unsafeBytes().toString('hex')).toBe(hex);
  });

  test('env/does not create a file', async () => {
    const dataDir = path.join(tmp, 'none');
    await loadOrCreateMasterKey({ dataDir, env: { [MASTER_KEY_ENV]: randomBytes(32).toString('hex') } });
    await expect(fs.stat(dataDir)).rejects.toThrow(/ENOENT/);
  });

  test('env/bad length, bad hex or empty is refused without echoing the value', async () => {
    const short = randomBytes(16).toString('hex');
    const err = await rejection(loadOrCreateMasterKey({ dataDir: tmp, env: { [MASTER_KEY_ENV]: short } }));
    expect(err).toBeInstanceOf(MasterKeyError);
    expect(err.message).toContain(MASTER_KEY_ENV);
    expect(err.message).toContain('found 32 hex digits');
    expect(err.message).not.toContain(short);

    const bad = `${randomBytes(31).toString('hex')}-!`;
    const err2 = await rejection(loadOrCreateMasterKey({ dataDir: tmp, env: { [MASTER_KEY_ENV]: bad } }));
    expect(err2.message).not.toContain(bad.slice(0, 16));

    await expect(loadOrCreateMasterKey({ dataDir: tmp, env: { [MASTER_KEY_ENV]: ' ' } })).rejects.toThrow(/set but empty/);
    expect(await fs.readdir(tmp)).toEqual([]); // an empty variable never mints a key
  });

  test('printing/String, JSON, inspect and format never show the key', () => {
    const bytes = randomBytes(32);
    const hex = bytes.toString('hex');
    const key = MasterKey.fromBytes(bytes);
    const printed = [String(key), `${key}`, JSON.stringify(key), JSON.stringify({ key }), inspect(key), inspect({ key }, { showHidden: true, depth: Infinity }), format('%s %o %O %j', key, key, key, key)];
    for (const p of printed) {
      expect(p).not.toContain(hex);
      expect(p).not.toContain(hex.slice(0, 8));
    }
    expect(String(key)).toBe('[MasterKey redacted]');
  });

  test('fromBytes/only 32 bytes', () => {
    expect(() => MasterKey.fromBytes(Buffer.alloc(16))).toThrow(MasterKeyError);
  });

  test('key ring/the first file is key 0; a rotated file lists id:key lines, the last one current', async () => {
    const k0 = MasterKey.generate();
    const k7 = MasterKey.generate();
    const legacy = parseMasterKeyFile(`${k0.unsafeBytes().toString('hex')}\n`, 'f');
    expect(legacy.current).toBe(0);
    expect(legacy.keys.get(0)!.unsafeBytes().equals(k0.unsafeBytes())).toBe(true);
    const text = formatMasterKeyFile({
      current: 7,
      keys: new Map([
        [7, k7],
        [0, k0],
      ]),
    });
    expect(text).toMatch(/^# .*\n0:[0-9a-f]{64}\n7:[0-9a-f]{64}\n$/);
    const ring = parseMasterKeyFile(text, 'f');
    expect(ring.current).toBe(7);
    expect([...ring.keys.keys()].sort()).toEqual([0, 7]);
    expect(ring.keys.get(7)!.unsafeBytes().equals(k7.unsafeBytes())).toBe(true);

    const file = path.join(tmp, 'master.key');
    await writeMasterKeyRing(file, ring);
    if (posix) expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await readMasterKeyRing(file))!.current).toBe(7);
    expect(await fs.readdir(tmp)).toEqual(['master.key']);
    const loaded = await loadOrCreateMasterKey({ dataDir: tmp, env: {} });
    expect(loaded.key.unsafeBytes().equals(k7.unsafeBytes())).toBe(true);
    expect(loaded.file).toBe(file);
  });

  test('key ring/bad lines are refused without echoing them', () => {
    const secret = randomBytes(32).toString('hex');
    for (const text of [`0:${secret}\n0:${secret}\n`, `256:${secret}\n`, `1:${secret}\n${secret.slice(3)}\n`, '# nothing\n']) {
      let err: unknown;
      try {
        parseMasterKeyFile(text, 'master.key');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MasterKeyError);
      expect((err as Error).message).not.toContain(secret.slice(3, 40));
    }
  });
});

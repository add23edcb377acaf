import { promises as fs, createReadStream } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AES128Key } from '../lorawan/aes128-key';
import { loadOrCreateMasterKey, MasterKey } from '../keys/master-key';
import type { KeyVault } from '../keys/key-vault';
import { SoftwareKeyVault } from '../keys/software-vault';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { DeviceImportError, streamDeviceImportCSV, type DeviceImportRow } from './device-import-file';
import { streamDeviceImportCSVOnThread } from './device-import-thread';
import { packRows, unpackRows } from './device-import-wire';
import { importDevices } from './import-devices';

const APP_KEY = '000102030405060708090a0b0c0d0e0f';
const NWK_KEY = 'f0e0d0c0b0a090807060504030201000';
const WRAPPED_A = '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5';
const WRAPPED_B = '64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7';
const HEADER = 'dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token,profile_id';

/** Line n's device: every third a LoRaWAN 1.1 one, every fifth with an owner token and profile. */
function deviceLine(n: number, keys: { app: string; nwk: string } = { app: APP_KEY, nwk: NWK_KEY }): string {
  const devEUI = `00000000000b${n.toString(16).padStart(4, '0')}`;
  const v11 = n % 3 === 0;
  const claim = n % 5 === 0 ? `${'A'.repeat(8)}${n.toString().padStart(4, '0')},00000001` : ',';
  return `${devEUI},0000000000000001,${v11 ? '1.1' : '1.0.3'},${keys.app},${v11 ? keys.nwk : ''},${claim}`;
}

/** A row as plain data, the keys as hex (AES128Key hides its bytes from comparisons). */
function plain(r: DeviceImportRow): unknown {
  const hex = (k: AES128Key | Buffer): string => (k instanceof AES128Key ? k.unsafeBytes() : k).toString('hex');
  const keys = r.rootKeys;
  if ('sealed' in keys) return { ...r, rootKeys: { ...keys, sealed: keys.sealed.toString('hex') } };
  return { ...r, rootKeys: { ...keys, appKey: hex(keys.appKey), ...(keys.kind === '1.1' ? { nwkKey: hex(keys.nwkKey) } : {}) } };
}

async function read(rows: AsyncIterable<readonly DeviceImportRow[]>): Promise<{ chunks: unknown[][]; error: unknown }> {
  const chunks: unknown[][] = [];
  try {
    for await (const chunk of rows) chunks.push(chunk.map(plain));
    return { chunks, error: null };
  } catch (e) {
    return { chunks, error: e };
  }
}

describe('CSV import file parsed on a thread of its own', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-import-thread-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, lines: readonly string[], header = HEADER): Promise<string> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, [header, ...lines].join('\n') + '\n');
    return file;
  };

  test('gives the same rows, in the same chunks, as the parser on this thread: 1.0.3 and 1.1 keys, owner tokens, profiles', async () => {
    const file = await write(
      'mixed.csv',
      Array.from({ length: 2_500 }, (_, i) => deviceLine(i + 1)),
    );
    const here = await read(streamDeviceImportCSV(createReadStream(file), { chunkSize: 1_000 }));
    const there = await read(streamDeviceImportCSVOnThread(file, { chunkSize: 1_000 }));
    expect(here.error).toBeNull();
    expect(there.error).toBeNull();
    expect(there.chunks.map((c) => c.length)).toEqual([1_000, 1_000, 500]);
    expect(there.chunks).toEqual(here.chunks);
    const sample = there.chunks[0]![14] as { rootKeys: unknown; ownerToken?: string; profileID?: string; macVersion: string };
    expect(sample).toMatchObject({ macVersion: '1.1', rootKeys: { kind: '1.1', appKey: APP_KEY, nwkKey: NWK_KEY }, profileID: '00000001' });
    expect(sample.ownerToken).toBeDefined();
  });

  test('keys wrapped under a transport KEK cross as they were read', async () => {
    const file = await write(
      'wrapped.csv',
      Array.from({ length: 30 }, (_, i) => deviceLine(i + 1, { app: WRAPPED_A, nwk: WRAPPED_B })),
    );
    const here = await read(streamDeviceImportCSV(createReadStream(file), { wrappedKeys: true }));
    const there = await read(streamDeviceImportCSVOnThread(file, { wrappedKeys: true }));
    expect(there.error).toBeNull();
    expect(there.chunks).toEqual(here.chunks);
    expect(there.chunks[0]![2]).toMatchObject({ rootKeys: { kind: '1.1', wrapped: true, appKey: WRAPPED_A, nwkKey: WRAPPED_B } });
  });

  test('every bad line is reported at the end, as DeviceImportError; no row is given after the first one', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => deviceLine(i + 1));
    lines[24] = `zz,0000000000000001,1.0.3,${APP_KEY},,,`;
    lines[30] = deviceLine(3);
    const file = await write('bad.csv', lines);
    const here = await read(streamDeviceImportCSV(createReadStream(file), { chunkSize: 10 }));
    const there = await read(streamDeviceImportCSVOnThread(file, { chunkSize: 10 }));
    expect(there.chunks).toHaveLength(2);
    expect(there.chunks).toEqual(here.chunks);
    expect(there.error).toBeInstanceOf(DeviceImportError);
    expect((there.error as DeviceImportError).unit).toBe('line');
    expect((there.error as DeviceImportError).problems).toEqual((here.error as DeviceImportError).problems);
    expect((there.error as DeviceImportError).problems.map((p) => p.line)).toEqual([26, 32]);
    expect((there.error as DeviceImportError).message).not.toContain(APP_KEY);
  });

  test('a header without the required columns, a file with no device, and a file that is not there are refused', async () => {
    const noColumn = await write('no-column.csv', ['0000000000000001,0000000000000001,' + APP_KEY], 'dev_eui,join_eui,app_key');
    expect(((await read(streamDeviceImportCSVOnThread(noColumn))).error as DeviceImportError).problems[0]!.message).toMatch(/header lacks mac_version/);
    const empty = await write('empty.csv', []);
    expect(((await read(streamDeviceImportCSVOnThread(empty))).error as DeviceImportError).problems[0]!.message).toBe('no devices in the file');
    expect((await read(streamDeviceImportCSVOnThread(path.join(dir, 'missing.csv')))).error).toBeInstanceOf(Error);
  });

  test('a consumer that stops early ends the thread: the next import still runs', async () => {
    const file = await write(
      'early.csv',
      Array.from({ length: 500 }, (_, i) => deviceLine(i + 1)),
    );
    for await (const chunk of streamDeviceImportCSVOnThread(file, { chunkSize: 10 })) {
      expect(chunk).toHaveLength(10);
      break;
    }
    expect((await read(streamDeviceImportCSVOnThread(file, { chunkSize: 100 }))).chunks).toHaveLength(5);
  });

  test("with sealWith, the chunks it is ahead with come sealed under the data directory's master key, every blob opening to the file's keys; the others in clear", async () => {
    const dataDir = path.join(dir, 'seal-data');
    const master = await loadOrCreateMasterKey({ dataDir, env: {} });
    const vault = new SoftwareKeyVault(master.ring);
    const file = await write(
      'seal.csv',
      Array.from({ length: 60 }, (_, i) => deviceLine(i + 1)),
    );
    const rows: DeviceImportRow[] = [];
    let first = true;
    for await (const chunk of streamDeviceImportCSVOnThread(file, { chunkSize: 2, sealWith: { dataDir } })) {
      // A slow consumer at first: the thread runs out of credit, and seals what it is ahead with.
      if (first) await new Promise((r) => setTimeout(r, 300));
      first = false;
      rows.push(...chunk);
    }
    expect(rows).toHaveLength(60);
    const sealed = rows.filter((r) => 'sealed' in r.rootKeys);
    expect(sealed.length).toBeGreaterThan(0);
    expect(sealed.length).toBeLessThan(60);
    for (const r of rows) {
      const n = Number.parseInt(r.devEUI.slice(-4), 16);
      expect(r.macVersion).toBe(n % 3 === 0 ? '1.1' : '1.0.3');
      const k = r.rootKeys;
      if (!('sealed' in k)) {
        expect(plain(r)).toMatchObject({ rootKeys: { appKey: APP_KEY } });
        continue;
      }
      // Only the blob crossed: no key of any kind beside it.
      expect(Object.keys(k).sort()).toEqual(['kind', 'sealed', 'vaultKind']);
      expect(k.vaultKind).toBe('software');
      const opened = await vault.openRootKeys(k.sealed, r.devEUI);
      expect(opened.kind).toBe(n % 3 === 0 ? '1.1' : 'legacy');
      expect((await vault.exportKey(opened.appKey)).unsafeBytes().toString('hex')).toBe(APP_KEY);
      if (opened.kind === '1.1') expect((await vault.exportKey(opened.nwkKey)).unsafeBytes().toString('hex')).toBe(NWK_KEY);
    }
  });

  test('with sealWith and no master key where it says, the thread refuses, and makes none', async () => {
    const dataDir = path.join(dir, 'no-master');
    await fs.mkdir(dataDir);
    const file = await write(
      'nomaster.csv',
      Array.from({ length: 5 }, (_, i) => deviceLine(i + 1)),
    );
    const { error } = await read(streamDeviceImportCSVOnThread(file, { sealWith: { dataDir } }));
    expect(String(error)).toContain(`the import's parsing thread found no master key in ${dataDir}`);
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  test('rows sealed by a software vault are refused by a vault of another kind', async () => {
    const store = SqliteStore.open(':memory:');
    const other = { kind: 'pkcs11' } as unknown as KeyVault;
    const row = { line: 2, devEUI: '00000000000b0001', joinEUI: '0000000000000001', macVersion: '1.0.3', rootKeys: { kind: 'legacy', sealed: Buffer.alloc(47), vaultKind: 'software' } } as unknown as DeviceImportRow;
    try {
      await expect(importDevices({ store, vault: other }, [row], { kind: 'pre-provisioned', manufacturer: OPERATOR_TENANT })).rejects.toThrow(
        'root keys sealed by a software vault cannot be imported into a pkcs11 vault',
      );
      expect(await store.countDevices()).toBe(0);
    } finally {
      await store.close();
    }
  });

  test('imports through the thread in one transaction; devices that exist are named, and nothing is imported', async () => {
    const store = SqliteStore.open(path.join(dir, 'joinery.db'));
    const vault = new SoftwareKeyVault(MasterKey.generate());
    const target = { kind: 'pre-provisioned', manufacturer: OPERATOR_TENANT } as const;
    try {
      const first = await write('first.csv', [deviceLine(7), deviceLine(23)]);
      expect((await importDevices({ store, vault }, streamDeviceImportCSVOnThread(first, { chunkSize: 4 }), target)).imported).toBe(2);
      const all = await write(
        'all.csv',
        Array.from({ length: 30 }, (_, i) => deviceLine(i + 1)),
      );
      const err = await importDevices({ store, vault }, streamDeviceImportCSVOnThread(all, { chunkSize: 4 }), target).catch((e: unknown) => e);
      expect((err as DeviceImportError).problems).toEqual([
        { line: 8, message: 'device 00000000000b0007 already exists' },
        { line: 24, message: 'device 00000000000b0017 already exists' },
      ]);
      expect(await store.countDevices()).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe('the crossing of parsed rows', () => {
  test('sealed rows cross as their blobs, each whole and in its row', () => {
    const blobs = [Buffer.alloc(47, 1), Buffer.alloc(63, 2), Buffer.alloc(47, 3)];
    const rows = blobs.map(
      (sealed, i) =>
        ({
          line: i + 2,
          devEUI: `00000000000b000${i}`,
          joinEUI: '0000000000000001',
          macVersion: i === 1 ? '1.1' : '1.0.3',
          rootKeys: { kind: i === 1 ? '1.1' : 'legacy', sealed, vaultKind: 'software' },
        }) as unknown as DeviceImportRow,
    );
    const packed = packRows(rows, 'sealed');
    expect(packed.sealedEnds).toEqual([47, 110, 157]);
    expect(unpackRows(packed).map(plain)).toEqual(rows.map(plain));
    expect(() => packRows(rows, 'clear')).toThrow('keys sealed, not clear');
  });

  test("packing zeroes the rows' clear keys, unpacking zeroes the packed ones", () => {
    const appKey = AES128Key.fromHex(APP_KEY);
    const nwkKey = AES128Key.fromHex(NWK_KEY);
    const row = { line: 2, devEUI: '00000000000b0001', joinEUI: '0000000000000001', macVersion: '1.1', rootKeys: { kind: '1.1', appKey, nwkKey } } as unknown as DeviceImportRow;
    const packed = packRows([row], 'clear');
    expect(appKey.unsafeBytes().every((b) => b === 0)).toBe(true);
    expect(nwkKey.unsafeBytes().every((b) => b === 0)).toBe(true);
    const [back] = unpackRows(packed);
    expect(packed.keys.every((b) => b === 0)).toBe(true);
    expect(plain(back!)).toEqual({ ...(row as object), rootKeys: { kind: '1.1', appKey: APP_KEY, nwkKey: NWK_KEY } });
  });
});

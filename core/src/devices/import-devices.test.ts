import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { MasterKey } from '../keys/master-key';
import { parseEUI64 } from '../lorawan/identifiers';
import { SoftwareKeyVault } from '../keys/software-vault';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { DeviceImportError, streamDeviceImportCSV, type DeviceImportRow } from './device-import-file';
import { importDevices } from './import-devices';

const KEY = '000102030405060708090a0b0c0d0e0f';
const line = (n: number): string => `00000000000a${n.toString(16).padStart(4, '0')},0000000000000001,1.0.3,${KEY},`;
/** A CSV file cut into pieces that end in the middle of lines, as a stream delivers it. */
const csvStream = (lines: readonly string[]): Readable => {
  const text = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...lines].join('\n') + '\n';
  return Readable.from([text.slice(0, 70), text.slice(70, 200), text.slice(200)]);
};

async function collect(rows: AsyncIterable<readonly DeviceImportRow[]>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const chunk of rows) out.push(chunk.map((r) => r.line));
  return out;
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('streamed CSV import file', () => {
  test('rows come a chunk at a time, with their line numbers', async () => {
    expect(await collect(streamDeviceImportCSV(csvStream([1, 2, 3, 4, 5].map(line)), { chunkSize: 2 }))).toEqual([[2, 3], [4, 5], [6]]);
  });

  test('every bad line is reported at the end; no row is given after the first one', async () => {
    const lines = [line(1), line(2), line(3), 'zz,0000000000000001,1.0.3,' + KEY + ',', line(5), line(1), line(7)];
    const seen: number[][] = [];
    const err = await thrown(
      (async () => {
        for await (const chunk of streamDeviceImportCSV(csvStream(lines), { chunkSize: 2 })) seen.push(chunk.map((r) => r.line));
      })(),
    );
    expect(err).toBeInstanceOf(DeviceImportError);
    expect((err as DeviceImportError).problems.map((p) => p.line)).toEqual([5, 7]);
    expect((err as DeviceImportError).problems[1]!.message).toContain('is already in line 2');
    expect(seen).toEqual([[2, 3]]);
  });

  test('a header without the required columns, and a file with no device, are refused', async () => {
    const noColumn = Readable.from(['dev_eui,join_eui,app_key\n0000000000000001,0000000000000001,' + KEY + '\n']);
    expect(((await thrown(collect(streamDeviceImportCSV(noColumn)))) as DeviceImportError).problems[0]!.message).toMatch(/header lacks mac_version/);
    const empty = Readable.from(['dev_eui,join_eui,mac_version,app_key,nwk_key\n']);
    expect(((await thrown(collect(streamDeviceImportCSV(empty)))) as DeviceImportError).problems[0]!.message).toBe('no devices in the file');
  });
});

describe('importDevices from a stream', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-import-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('all chunks in one transaction; devices that exist, in later chunks, are all named and nothing is imported', async () => {
    const store = SqliteStore.open(path.join(dir, 'joinery.db'));
    const vault = new SoftwareKeyVault(MasterKey.generate());
    const target = { kind: 'pre-provisioned', manufacturer: OPERATOR_TENANT } as const;
    try {
      const first = await importDevices({ store, vault }, streamDeviceImportCSV(csvStream([4, 7].map(line)), { chunkSize: 2 }), target);
      expect(first.imported).toBe(2);
      const count0 = await store.countDevices();

      const err = await thrown(importDevices({ store, vault }, streamDeviceImportCSV(csvStream([1, 2, 3, 4, 5, 6, 7, 8].map(line)), { chunkSize: 2 }), target));
      expect(err).toBeInstanceOf(DeviceImportError);
      expect((err as DeviceImportError).problems).toEqual([
        { line: 5, message: 'device 00000000000a0004 already exists' },
        { line: 8, message: 'device 00000000000a0007 already exists' },
      ]);
      expect(await store.countDevices()).toBe(count0);

      const done = await importDevices({ store, vault }, streamDeviceImportCSV(csvStream([1, 2, 3, 5, 6].map(line)), { chunkSize: 2 }), target);
      expect(done).toMatchObject({ imported: 5, legacy: 5, v11: 0 });
      expect(done.labels).toHaveLength(5);
      expect(await store.countDevices()).toBe(count0 + 5);
      const devEUI = parseEUI64('00000000000a0006', 'devEUI');
      const opened = await vault.openRootKeys((await store.getDevice(devEUI))!.sealedRootKeys, devEUI);
      expect(opened.kind).toBe('legacy');
    } finally {
      await store.close();
    }
  });
});

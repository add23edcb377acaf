import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import type { Store } from '@joinery/core';
import { parseDeviceImportFile, type DeviceImportRow } from '../../../core/src/devices/device-import-file';
import { importDevices } from '../../../core/src/devices/import-devices';
import { MasterKey } from '../../../core/src/keys/master-key';
import { SoftwareKeyVault } from '../../../core/src/keys/software-vault';
import { PostgresStore } from '../../../core/src/store/postgres/postgres-store';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../../../core/src/tenants/tenant';
import { makeTempDir } from '../support/joinery-cli';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * Two imports with skipExisting at once: a device the other one inserts between this one's
 * existence check and its insert is reported skipped, not refused as a duplicate (and nothing
 * is imported twice).
 */
const KEY = '000102030405060708090a0b0c0d0e0f';
const TARGET = { kind: 'pre-provisioned', manufacturer: OPERATOR_TENANT } as const;

function rowsOf(from: number, to: number, prefix: string): DeviceImportRow[] {
  const lines = [];
  for (let n = from; n <= to; n++) lines.push(`${prefix}${n.toString(16).padStart(4, '0')},70b3d57ed0000000,1.0.3,${KEY},,OWNERTOKEN${n}`);
  return parseDeviceImportFile(['dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token', ...lines].join('\n') + '\n', 'csv');
}

/** Yields the rows a chunk at a time, the second chunk only once `gate` is open. */
async function* gated(rows: readonly DeviceImportRow[], size: number, gate: Promise<void>): AsyncGenerator<readonly DeviceImportRow[]> {
  yield rows.slice(0, size);
  await gate;
  for (let i = size; i < rows.length; i += size) yield rows.slice(i, i + size);
}

describe('PostgreSQL', () => {
  let db: TestDatabase;
  const stores: Store[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db?.drop();
  });

  /** Sessions of this database in a state (`wait_event_type = 'Lock'`: waiting for a row lock). */
  async function sessions(where: string): Promise<number> {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND ${where}`)).rows[0]!.n);
    } finally {
      await c.end();
    }
  }
  const lockWaits = () => sessions("wait_event_type = 'Lock'");

  test.each([
    ['streamed (a file read again)', true],
    ['in memory (the admin API)', false],
  ])('the second import, %s, waits for the first, finds its devices taken, and skips them', async (_name, streamed) => {
    const [a, b] = [await PostgresStore.open(db.url), await PostgresStore.open(db.url)];
    stores.push(a, b);
    const vault = new SoftwareKeyVault(MasterKey.generate());
    const prefix = streamed ? '00000000000b' : '00000000000c';
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // A: devices 1-8 in two chunks, its transaction held open after the first.
    const first = importDevices({ store: a, vault }, gated(rowsOf(1, 8, prefix), 4, gate), TARGET, 'line', { skipExisting: true });
    // A's first chunk inserted, not committed (nothing visible yet): its session waits in its transaction.
    for (let i = 0; i < 100 && (await sessions("state = 'idle in transaction'")) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    // B: devices 3-6 (one chunk), checked while A's are not committed: none exists yet.
    const bRows = rowsOf(3, 6, prefix);
    let reads = 0;
    const second = importDevices({ store: b, vault }, streamed ? () => (reads++, gated(bRows, 4, Promise.resolve())) : bRows, TARGET, 'line', { skipExisting: true });
    // B's insert waits on A's uncommitted row 3; then A goes on (5-8) and commits.
    for (let i = 0; i < 100 && (await lockWaits()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await lockWaits()).toBe(1);
    open();
    expect(await first).toMatchObject({ imported: 8, skipped: { count: 0 } });
    const bResult = await second;
    expect(bResult).toMatchObject({ imported: 0, skipped: { count: 4, first: bRows.map((r) => ({ line: r.line, devEUI: r.devEUI })) } });
    if (streamed) expect(reads).toBe(2);
    expect(await a.countDevices()).toBe(streamed ? 8 : 16);
  });
});

test('SQLite: a device inserted by another import between the check and the insert is skipped', async () => {
  const dir = await makeTempDir('import-race');
  const file = path.join(dir, 'joinery.db');
  const store = SqliteStore.open(file);
  const other = SqliteStore.open(file);
  const vault = new SoftwareKeyVault(MasterKey.generate());
  try {
    const mine = rowsOf(1, 6, '00000000000d');
    const theirs = rowsOf(4, 9, '00000000000d');
    // Right after this import's existence check, the other import runs whole and commits.
    let raced = false;
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop !== 'existingDevEUIs') {
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        }
        return async (devEUIs: Parameters<Store['existingDevEUIs']>[0]) => {
          const found = await target.existingDevEUIs(devEUIs);
          if (!raced) {
            raced = true;
            expect(await importDevices({ store: other, vault }, theirs, TARGET, 'line', { skipExisting: true })).toMatchObject({ imported: 6 });
          }
          return found;
        };
      },
    });
    const result = await importDevices({ store: racing, vault }, mine, TARGET, 'line', { skipExisting: true });
    expect(result).toMatchObject({ imported: 3, skipped: { count: 3, first: mine.slice(3).map((r) => ({ line: r.line, devEUI: r.devEUI })) } });
    expect(await store.countDevices()).toBe(9);
  } finally {
    await store.close();
    await other.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

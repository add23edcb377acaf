import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { devNonce, joinNonce } from '../lorawan/nonces';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { EMPTY_NONCE_STATE, type Device, type JoinCommit } from './device';
import { CachedJoinState } from './join-device-cache';
import type { JoinState } from './ports/join-state';
import { SqliteStore } from './sqlite/sqlite-store';

const devEUI = parseEUI64('0102030405060708');

const device = (version: number): Device => ({
  devEUI,
  joinEUI: parseEUI64('70b3d57ed0000000'),
  macVersion: '1.0.3',
  sealedRootKeys: Buffer.alloc(40),
  vaultKind: 'software',
  nsPeer: 'ns-a',
  overlapNsPeer: null,
  asPeer: null,
  nonces: EMPTY_NONCE_STATE,
  version,
  lastJoinAt: null,
  lastJoinPeer: null,
  createdAt: new Date(0),
  ownership: { manufacturer: OPERATOR_TENANT, owner: OPERATOR_TENANT, ownerTokenHash: null, profileID: '00000000', locked: false, claimedAt: new Date(0), activatedAt: null, activatedTenant: null },
});

const commitOf = (d: Device, n: number): JoinCommit => ({
  devEUI: d.devEUI,
  expectedVersion: d.version,
  nonces: { ...d.nonces, usedDevNonces: [...d.nonces.usedDevNonces, devNonce(n)], lastJoinNonce: joinNonce(n) },
  joinedAt: new Date(1_700_000_000_000 + n),
  peer: 'ns-a',
  recordsActivation: true,
});

/** A JoinState over one device row, counting its reads; `commitJoin` answers what `wins` says. */
function fakeInner(): JoinState & { reads: number; row: Device | null; wins: boolean } {
  const inner = {
    reads: 0,
    row: device(1) as Device | null,
    wins: true,
    async deviceForJoin(eui: EUI64) {
      inner.reads++;
      // Every DevEUI is a device like the row (the row itself for its own).
      return inner.row === null ? null : inner.row.devEUI === eui ? inner.row : { ...inner.row, devEUI: eui };
    },
    async commitJoin() {
      return inner.wins;
    },
    async addSession() {},
    async getSession() {
      return null;
    },
  };
  return inner;
}

describe('CachedJoinState', () => {
  let changes = 0;
  const readChanges = async (): Promise<number> => changes;
  beforeEach(() => {
    changes = 0;
  });

  /** Reads the device twice: the second read keeps it. */
  const kept = async (cache: CachedJoinState): Promise<Device> => {
    await cache.deviceForJoin(devEUI);
    return (await cache.deviceForJoin(devEUI))!;
  };

  test('a device read a second time is kept while the change counter stays; a moved counter reads it again', async () => {
    const inner = fakeInner();
    const cache = new CachedJoinState(inner, readChanges);
    expect(await cache.deviceForJoin(devEUI)).toMatchObject({ version: 1 });
    expect(await cache.deviceForJoin(devEUI)).toMatchObject({ version: 1 });
    expect(inner.reads).toBe(2);
    expect(await cache.deviceForJoin(devEUI)).toMatchObject({ version: 1 });
    expect(inner.reads).toBe(2);
    inner.row = device(7);
    changes = 1; // another process claimed, bound, reset or removed a device
    expect(await cache.deviceForJoin(devEUI)).toMatchObject({ version: 7 });
    expect(inner.reads).toBe(3);
  });

  test('a device read once is not kept: of a registry read once over (a storm), nothing is kept', async () => {
    const inner = fakeInner();
    const cache = new CachedJoinState(inner, readChanges, 4);
    // Four other DevEUIs read once fill the notes of the capacity-4 cache, which are then emptied:
    // the device's first read is forgotten, and its next read is again a first.
    await cache.deviceForJoin(devEUI);
    for (const other of ['00000000000000f1', '00000000000000f2', '00000000000000f3', '00000000000000f4']) await cache.deviceForJoin(parseEUI64(other));
    await cache.deviceForJoin(devEUI);
    await cache.deviceForJoin(devEUI);
    expect(inner.reads).toBe(7);
    await cache.deviceForJoin(devEUI);
    expect(inner.reads).toBe(7);
  });

  test('a commit this store won is kept as committed; a lost or failed commit drops the device', async () => {
    const inner = fakeInner();
    const cache = new CachedJoinState(inner, readChanges);
    const d = await kept(cache);
    expect(await cache.commitJoin(commitOf(d, 5))).toBe(true);
    const committed = (await cache.deviceForJoin(devEUI))!;
    expect(inner.reads).toBe(2);
    expect(committed).toMatchObject({ version: 2, lastJoinAt: new Date(1_700_000_000_005), lastJoinPeer: 'ns-a', nonces: { usedDevNonces: [devNonce(5)], lastJoinNonce: joinNonce(5) } });
    expect(committed.ownership).toMatchObject({ activatedAt: new Date(1_700_000_000_005), activatedTenant: OPERATOR_TENANT });

    inner.wins = false; // another instance committed first
    expect(await cache.commitJoin(commitOf(committed, 6))).toBe(false);
    await kept(cache);
    expect(inner.reads).toBe(4);

    inner.commitJoin = async () => {
      throw new Error('disk I/O error');
    };
    await expect(cache.commitJoin(commitOf(committed, 7))).rejects.toThrow('disk I/O error');
    await cache.deviceForJoin(devEUI);
    expect(inner.reads).toBe(5);
  });

  test('a commit of a version other than the kept one drops it (it cannot know what the row is now)', async () => {
    const inner = fakeInner();
    const cache = new CachedJoinState(inner, readChanges);
    const d = await kept(cache);
    expect(await cache.commitJoin(commitOf({ ...d, version: 9 }, 5))).toBe(true);
    await cache.deviceForJoin(devEUI);
    expect(inner.reads).toBe(3);
  });

  test('unknown DevEUIs are read every time, never kept', async () => {
    const inner = fakeInner();
    inner.row = null;
    const cache = new CachedJoinState(inner, readChanges);
    expect(await cache.deviceForJoin(devEUI)).toBeNull();
    expect(await cache.deviceForJoin(devEUI)).toBeNull();
    expect(inner.reads).toBe(2);
  });

  test('a read that started before a write (clear) does not keep what it read', async () => {
    const inner = fakeInner();
    let release: () => void = () => undefined;
    const cache = new CachedJoinState(inner, () => new Promise<number>((resolve) => (release = () => resolve(changes))));
    const first = cache.deviceForJoin(devEUI);
    release();
    await first;
    const reading = cache.deviceForJoin(devEUI); // the second read, which would keep it
    cache.clear(); // a write through the store while the read waits for the counter
    release();
    expect(await reading).toMatchObject({ version: 1 });
    const next = cache.deviceForJoin(devEUI);
    release();
    await next;
    expect(inner.reads).toBe(3);
  });
});

describe('SqliteStore: the devices the join keeps', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'joinery-join-devices-'));
    file = path.join(dir, 'joinery.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const insert = async (store: SqliteStore, eui: EUI64): Promise<void> => {
    await store.insertDevices([{ devEUI: eui, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.3', sealedRootKeys: Buffer.alloc(40, 1), vaultKind: 'software', nsPeer: null, asPeer: null }]);
  };
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  test("the devices' change counter: every write to a device but a join commit bumps it", async () => {
    const store = SqliteStore.open(file);
    const eui = parseEUI64('00000000000000a1');
    try {
      await insert(store, eui);
      const db = new Database(file, { readonly: true });
      const counter = (): number => (db.prepare('SELECT devices FROM change_counters').get() as { devices: number }).devices;
      try {
        const before = counter();
        const d = (await store.getDevice(eui))!;
        expect(await store.commitJoin(commitOf(d, 1))).toBe(true);
        expect(counter()).toBe(before);
        const joined = (await store.getDevice(eui))!;
        await store.changeDevice(
          { devEUI: eui, expectedVersion: joined.version, owner: OPERATOR_TENANT, ownerTokenHash: null, nsPeer: null, asPeer: null, locked: true, claimedAt: new Date() },
          { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'device.lock', devEUI: eui, detail: {} },
        );
        expect(counter()).toBe(before + 1);
        await store.resetDevNonces(eui, { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'device.reset', devEUI: eui, detail: {} });
        expect(counter()).toBe(before + 2);
        await store.deleteDevice(eui, { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'device.delete', devEUI: eui, detail: {} });
        expect(counter()).toBe(before + 3);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });

  test('a write through the store itself is seen by a join later in the same turn', async () => {
    const store = SqliteStore.open(file);
    const eui = parseEUI64('00000000000000a2');
    try {
      await insert(store, eui);
      await nextTurn();
      const d = (await store.deviceForJoin(eui))!;
      expect(d.ownership.locked).toBe(false);
      await store.changeDevice(
        { devEUI: eui, expectedVersion: d.version, owner: OPERATOR_TENANT, ownerTokenHash: null, nsPeer: null, asPeer: null, locked: true, claimedAt: new Date() },
        { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'device.lock', devEUI: eui, detail: {} },
      );
      expect((await store.deviceForJoin(eui))!.ownership.locked).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a join commit of another process is not seen until a commit on the kept copy loses; the registry reads afresh', async () => {
    const store = SqliteStore.open(file);
    const other = SqliteStore.open(file);
    const eui = parseEUI64('00000000000000a3');
    try {
      await insert(store, eui);
      await nextTurn();
      await store.deviceForJoin(eui);
      const kept = (await store.deviceForJoin(eui))!; // its second read: kept
      expect(await other.commitJoin(commitOf(kept, 1))).toBe(true);
      await nextTurn();
      expect(await store.deviceForJoin(eui)).toEqual(kept);
      expect((await store.getDevice(eui))!.version).toBe(kept.version + 1);
      expect(await store.commitJoin(commitOf(kept, 2))).toBe(false);
      expect((await store.deviceForJoin(eui))!.nonces.usedDevNonces).toEqual([devNonce(1)]);
    } finally {
      await other.close();
      await store.close();
    }
  });
});

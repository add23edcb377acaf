import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseEUI64, type EUI64 } from '../../../core/src/lorawan/identifiers';
import { devNonce, joinNonce } from '../../../core/src/lorawan/nonces';
import type { JoinCommit } from '../../../core/src/store/device';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import { migrate, MIGRATIONS } from '../../../core/src/store/sqlite/schema-migrations';
import { verifyAuditChain } from '../../../core/src/store/audit-chain';
import Database from 'better-sqlite3';
import { makeTempDir } from '../support/joinery-cli';
import { describeStoreConformance } from './store-conformance';
import { describeJoinRateConformance } from './join-rate-conformance';

/**
 * The store conformance suite on SQLite, run twice on one database file with group commit, and
 * a third time with group commit off; then SQLite's group commit itself.
 */
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await makeTempDir('store-sqlite');
  file = path.join(dir, 'data', 'joinery.db');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describeStoreConformance('sqlite (first run)', async () => SqliteStore.open(file));
describeStoreConformance('sqlite (second run, same database)', async () => SqliteStore.open(file));
describeStoreConformance('sqlite (group commit off, same database)', async () => SqliteStore.open(file, { groupCommit: false }));
describeStoreConformance("sqlite (commits on the caller's thread, same database)", async () => SqliteStore.open(file, { commitWorker: false }));
describeJoinRateConformance('sqlite', async () => SqliteStore.open(file));

describe('sqlite', () => {
  const euis = (n: number): EUI64[] => Array.from({ length: n }, (_, i) => parseEUI64(`${randomBytes(4).toString('hex')}${i.toString(16).padStart(8, '0')}`));
  const commit = (devEUI: EUI64, expectedVersion: number, n: number): JoinCommit => ({
    devEUI,
    expectedVersion,
    nonces: { lastDevNonce: devNonce(n), usedDevNonces: [devNonce(n)], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
    joinedAt: new Date(),
    peer: 'ns',
    recordsActivation: true,
  });

  test.each([
    // Either way the commits of the turn go together at its end (on the worker, what arrives
    // while a batch syncs goes together in the next).
    ["on the caller's thread", false, 1],
    ['on the commit worker', true, 1],
  ])('group commit %s/the commits that arrive together share one transaction, in arrival order', async (_, commitWorker, batches) => {
    const store = SqliteStore.open(file, { commitWorker });
    try {
      const devices = euis(50);
      await store.insertDevices(devices.map((devEUI) => ({ devEUI, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4', sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: 'ns', asPeer: null })));
      const results = await Promise.all([
        ...devices.map((e, i) => store.commitJoin(commit(e, 0, i))),
        store.commitJoin(commit(devices[0]!, 0, 100)), // same version again: loses to the first
        store.commitJoin(commit(devices[0]!, 1, 101)), // the next version: sees the first's bump
      ]);
      expect(results).toEqual([...devices.map(() => true), false, true]);
      expect(store.groupCommitStats).toEqual({ batches, items: 52 });
      expect((await store.getDevice(devices[0]!))!).toMatchObject({ version: 2, nonces: { lastJoinNonce: 101 } });
    } finally {
      await store.close();
    }
  });
});

describe('sqlite/file modes', () => {
  test("the database file and its -wal and -shm files are the owner's alone (0600), whatever the umask; an existing file is made so", async () => {
    const own = path.join(dir, 'modes', 'joinery.db');
    const umask = process.umask(0o022);
    let store: SqliteStore | undefined;
    try {
      store = SqliteStore.open(own);
      await store.insertDevices([
        { devEUI: parseEUI64('0000000000000a01'), joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4', sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: null, asPeer: null },
      ]);
      for (const f of [own, `${own}-wal`, `${own}-shm`]) expect({ f: path.basename(f), mode: (await fs.stat(f)).mode & 0o777 }).toEqual({ f: path.basename(f), mode: 0o600 });
      await store.close();
      store = undefined;
      await fs.chmod(own, 0o644);
      store = SqliteStore.open(own);
      expect((await fs.stat(own)).mode & 0o777).toBe(0o600);
    } finally {
      await store?.close();
      process.umask(umask);
    }
  });
});

describe('sqlite/schema 3', () => {
  test("upgrade/devices of a schema-2 database are the operator's, claimed; its audit entries get chained", async () => {
    const upgraded = path.join(dir, 'schema2.db');
    const raw = new Database(upgraded);
    migrate(raw, MIGRATIONS.slice(0, 2));
    raw
      .prepare(
        "INSERT INTO devices (dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, created_at, last_join_at) VALUES ('0000000000000001', '70b3d57ed0000000', '1.0.3', x'00', 'software', 'ns-a', 1000, 2000)",
      )
      .run();
    for (const action of ['device.dev-nonce.reset', 'device.dev-nonce.reset']) {
      raw.prepare("INSERT INTO audit_events (at, actor, action, dev_eui, detail) VALUES (3000, 'cli:old', ?, '0000000000000001', '{}')").run(action);
    }
    raw.close();
    const store = SqliteStore.open(upgraded);
    try {
      const d = (await store.getDevice(parseEUI64('0000000000000001')))!;
      expect(d.ownership).toMatchObject({ owner: 'operator', manufacturer: 'operator', locked: false, activatedTenant: 'operator' });
      expect(d.ownership.activatedAt).toEqual(new Date(2000));
      await store.appendAudit({ at: new Date(), actor: 'test', tenantID: null, source: null, action: 'test.after-upgrade', devEUI: null, detail: {} });
      expect(await verifyAuditChain((a, l) => store.readAuditChain(a, l))).toEqual({ ok: true, entries: 3 });
    } finally {
      await store.close();
    }
  });

  test('audit/an entry edited, or removed, in the database is found by its id', async () => {
    const file2 = path.join(dir, 'tamper.db');
    const store = SqliteStore.open(file2);
    for (let i = 0; i < 5; i++) await store.appendAudit({ at: new Date(), actor: 'test', tenantID: 't', source: null, action: `test.${i}`, devEUI: null, detail: { i } });
    const read = (a: number, l: number) => store.readAuditChain(a, l);
    expect(await verifyAuditChain(read)).toEqual({ ok: true, entries: 5 });
    const raw = new Database(file2);
    try {
      raw.prepare("UPDATE audit_events SET actor = 'someone else' WHERE id = 3").run();
      expect(await verifyAuditChain(read)).toMatchObject({ ok: false, badID: 3, entries: 2 });
      raw.prepare("UPDATE audit_events SET actor = 'test' WHERE id = 3").run();
      expect(await verifyAuditChain(read)).toMatchObject({ ok: true });
      raw.prepare('DELETE FROM audit_events WHERE id = 2').run();
      expect(await verifyAuditChain(read)).toMatchObject({ ok: false, badID: 3 });
    } finally {
      raw.close();
      await store.close();
    }
  });

  test('join history/a batch is written on the history thread: a write lock held elsewhere does not hold the event loop', async () => {
    const file3 = path.join(dir, 'history-thread.db');
    const store = SqliteStore.open(file3);
    const devEUI = parseEUI64('00000000000000a1');
    await store.insertDevices([{ devEUI, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.3', sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: null, asPeer: null }]);
    const record = {
      devEUI,
      joinEUI: parseEUI64('70b3d57ed0000000'),
      at: new Date(1_700_000_000_000),
      peer: 'ns',
      joinType: 'join' as const,
      macVersion: '1.0.3',
      result: 'Success',
      description: null,
      devNonce: 1,
      joinNonce: 1,
    };
    const locker = new Database(file3);
    try {
      locker.exec('BEGIN IMMEDIATE'); // another connection holds the write lock
      const appended = store.appendJoinRecords([record], 5);
      // On the main thread, the INSERT would wait in SQLite's busy handler (up to 5 s) before
      // this timer could fire.
      const waited = await new Promise<number>((resolve) => {
        const t0 = performance.now();
        setTimeout(() => resolve(performance.now() - t0), 10);
      });
      expect(waited).toBeLessThan(500);
      setTimeout(() => locker.exec('COMMIT'), 300);
      expect(await appended).toBe(1);
      expect(await store.listJoinRecords(devEUI, 5)).toEqual([record]);
    } finally {
      if (locker.inTransaction) locker.exec('COMMIT');
      locker.close();
      await store.close();
    }
  });
});

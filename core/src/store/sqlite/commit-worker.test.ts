import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { devNonce, joinNonce } from '../../lorawan/nonces';
import type { JoinCommit } from '../device';
import { JoinHistoryPartlyWrittenError } from '../join-history-partly-written';
import type { JoinRecord } from '../join-record';
import { SqliteStore } from './sqlite-store';
import { HISTORY_CHUNK } from './write-turn';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-commit-worker-'));
  file = path.join(dir, 'joinery.db');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const eui = (n: number): EUI64 => parseEUI64(n.toString(16).padStart(16, '0'));
const commit = (devEUI: EUI64, expectedVersion: number, n: number, peer = 'ns'): JoinCommit => ({
  devEUI,
  expectedVersion,
  nonces: { lastDevNonce: devNonce(n), usedDevNonces: [devNonce(n)], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
  joinedAt: new Date(1_700_000_000_000 + n),
  peer,
  recordsActivation: true,
});

/** A successful join of `devEUI` at its `visit`th join (its DevNonce and JoinNonce). */
const joinRecord = (devEUI: EUI64, visit: number): JoinRecord => ({
  devEUI,
  joinEUI: parseEUI64('70b3d57ed0000000'),
  at: new Date(1_700_000_000_000 + visit),
  peer: 'ns',
  joinType: 'join',
  macVersion: '1.0.4',
  result: 'Success',
  description: null,
  devNonce: visit,
  joinNonce: visit,
});

async function storeWith(devices: number, options: Parameters<typeof SqliteStore.open>[1] = {}): Promise<SqliteStore> {
  const store = SqliteStore.open(file, options);
  await store.insertDevices(
    Array.from({ length: devices }, (_, i) => ({
      devEUI: eui(i + 1),
      joinEUI: parseEUI64('70b3d57ed0000000'),
      macVersion: '1.0.4' as const,
      sealedRootKeys: randomBytes(47),
      vaultKind: 'software' as const,
      nsPeer: null,
      asPeer: null,
    })),
  );
  return store;
}

describe('SQLite commit worker', () => {
  test('a commit is in the database file, for any other connection, when its promise resolves', async () => {
    const store = await storeWith(20);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.commitJoin(commit(eui(i + 1), 0, i + 1))));
      expect(results.every((r) => r)).toBe(true);
      expect(store.groupCommitStats!.items).toBe(20);
      expect(store.groupCommitStats!.batches).toBeLessThan(20); // batched, not one transaction each
      const other = new Database(file, { readonly: true });
      try {
        const rows = other.prepare('SELECT dev_eui, version, last_join_nonce FROM devices ORDER BY dev_eui').all() as Array<{ version: number; last_join_nonce: number }>;
        expect(rows.map((r) => [r.version, r.last_join_nonce])).toEqual(Array.from({ length: 20 }, (_, i) => [1, i + 1]));
      } finally {
        other.close();
      }
    } finally {
      await store.close();
    }
  });

  test('the commit thread does not checkpoint; the checkpoint thread copies the WAL into the database file', async () => {
    const store = await storeWith(1200);
    const setup = new Database(file);
    setup.pragma('wal_checkpoint(TRUNCATE)'); // the schema and the devices, in the file
    setup.close();
    try {
      const committed = async (): Promise<number> => {
        // The database file alone (no WAL beside it): what has been checkpointed. A copy taken
        // while the checkpoint thread is writing pages into the file can be torn (SQLite calls
        // it malformed): such a copy says nothing, and is taken again.
        const copy = path.join(dir, 'file-alone.db');
        for (let attempt = 1; ; attempt++) {
          await fs.copyFile(file, copy);
          const alone = new Database(copy, { readonly: true });
          try {
            return (alone.prepare('SELECT count(*) AS n FROM devices WHERE version = 1').get() as { n: number }).n;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (attempt >= 20 || (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB')) throw err;
          } finally {
            alone.close();
            await fs.rm(copy);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // Fewer commits than a checkpoint waits for: all in the WAL, none in the file.
      expect((await Promise.all(Array.from({ length: 100 }, (_, i) => store.commitJoin(commit(eui(i + 1), 0, i + 1))))).every(Boolean)).toBe(true);
      expect(await committed()).toBe(0);
      // Past it: the checkpoint thread copies them (the commits never wait for it).
      expect((await Promise.all(Array.from({ length: 1100 }, (_, i) => store.commitJoin(commit(eui(i + 101), 0, i + 101))))).every(Boolean)).toBe(true);
      const deadline = Date.now() + 10_000;
      while ((await committed()) < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await committed()).toBeGreaterThanOrEqual(1000);
    } finally {
      await store.close();
    }
  });

  test('the version check still decides: of two commits of one version, exactly one wins', async () => {
    const store = await storeWith(1);
    try {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.commitJoin(commit(eui(1), 0, i + 1))));
      expect(results.filter((r) => r)).toHaveLength(1);
      const winner = results.indexOf(true) + 1;
      expect(await store.getDevice(eui(1))).toMatchObject({ version: 1, nonces: { lastJoinNonce: winner } });
    } finally {
      await store.close();
    }
  });

  test('a commit that fails on its own fails alone; the others of its batch are written', async () => {
    const store = await storeWith(5);
    const db = new Database(file);
    db.exec(`CREATE TRIGGER refuse_bad BEFORE UPDATE ON devices WHEN NEW.last_join_peer = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    db.close();
    try {
      const settled = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => store.commitJoin(commit(eui(n), 0, n, n === 3 ? 'bad' : 'ns'))));
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ message: 'refused by the test', code: 'SQLITE_CONSTRAINT_TRIGGER' });
      for (const n of [1, 2, 4, 5]) expect((await store.getDevice(eui(n)))!.version).toBe(1);
      expect((await store.getDevice(eui(3)))!.version).toBe(0);
    } finally {
      await store.close();
    }
  });

  test('a write lock held past the busy timeout rejects the batch with SQLITE_BUSY; the next batch goes through', async () => {
    const store = await storeWith(2, { busyTimeoutMs: 50 });
    const holder = new Database(file);
    try {
      holder.exec('BEGIN IMMEDIATE');
      const settled = await Promise.allSettled([store.commitJoin(commit(eui(1), 0, 1)), store.commitJoin(commit(eui(2), 0, 2))]);
      for (const s of settled) expect(s).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_BUSY' } });
      holder.exec('ROLLBACK');
      expect(await store.commitJoin(commit(eui(1), 0, 3))).toBe(true);
    } finally {
      holder.close();
      await store.close();
    }
  });

  test('prepareForJoins opens the commit and history threads before any join: their connections are open, and a file they cannot open fails it', async () => {
    const store = await storeWith(1);
    try {
      await store.prepareForJoins();
      // Both threads hold the database open: the file cannot be removed from under them unnoticed
      // by SQLite, but it can be renamed; a new thread would fail to open the renamed path.
      await fs.rename(file, `${file}.moved`);
      expect(await store.commitJoin(commit(eui(1), (await store.getDevice(eui(1)))!.version, 1))).toBe(true);
      expect(
        await store.appendJoinRecords(
          [{ devEUI: eui(1), joinEUI: parseEUI64('70b3d57ed0000000'), at: new Date(), peer: 'ns', joinType: 'join', macVersion: '1.0.4', result: 'Success', description: null, devNonce: null, joinNonce: null }],
          5,
        ),
      ).toBe(1);
    } finally {
      await store.close();
    }
    const late = SqliteStore.open(path.join(dir, 'late.db'));
    try {
      await fs.rename(path.join(dir, 'late.db'), path.join(dir, 'late.db.moved'));
      await expect(late.prepareForJoins()).rejects.toMatchObject({ code: 'SQLITE_CANTOPEN', message: 'unable to open database file' });
    } finally {
      await late.close();
    }
  });

  test('close lets the commits in flight finish, and a closed store refuses new ones', async () => {
    const store = await storeWith(3);
    const pending = [1, 2, 3].map((n) => store.commitJoin(commit(eui(n), 0, n)));
    await store.close();
    expect(await Promise.all(pending)).toEqual([true, true, true]);
    await expect(store.commitJoin(commit(eui(1), 1, 4))).rejects.toThrow('closed');
    const reopened = SqliteStore.open(file);
    try {
      for (const n of [1, 2, 3]) expect((await reopened.getDevice(eui(n)))!.version).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  test('a join commit waits for at most a few join records, not for a whole join-history batch', async () => {
    // The history thread writes a batch in short transactions and gives the write lock to the
    // commit thread between them (write-turn.ts); a batch in one transaction held the lock
    // for all of its records, and a commit that came meanwhile waited for all of them.
    const devices = 12_000;
    const store = await storeWith(devices);
    try {
      await store.prepareForJoins();
      const records = (visit: number): JoinRecord[] => Array.from({ length: devices }, (_, i) => joinRecord(eui(i + 1), visit));
      // A batch alone, for its length here.
      let startedAt = performance.now();
      expect(await store.appendJoinRecords(records(1), 50)).toBe(devices);
      const batchMs = performance.now() - startedAt;
      // Another, with join commits one after the other until it is written.
      let written = false;
      startedAt = performance.now();
      const appended = store.appendJoinRecords(records(2), 50).then((n) => ((written = true), n));
      const commitMs: number[] = [];
      for (let n = 1; !written; n++) {
        const at = performance.now();
        expect(await store.commitJoin(commit(eui(n), 0, n))).toBe(true);
        commitMs.push(performance.now() - at);
      }
      expect(await appended).toBe(devices);
      const duringMs = performance.now() - startedAt;
      // Commits went on all through the batch, none waiting for a large part of it.
      expect(commitMs.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...commitMs)).toBeLessThan(Math.min(batchMs, duringMs) / 4);
    } finally {
      await store.close();
    }
  });

  test("off (commitWorker: false) the commits run on the caller's connection, with the same results", async () => {
    const store = await storeWith(2, { commitWorker: false });
    try {
      expect(await Promise.all([store.commitJoin(commit(eui(1), 0, 1)), store.commitJoin(commit(eui(1), 0, 2)), store.commitJoin(commit(eui(2), 0, 3))])).toEqual([true, false, true]);
      expect(store.groupCommitStats).toEqual({ batches: 1, items: 3 });
    } finally {
      await store.close();
    }
  });
});

test('a batch that fails part-way on the history thread says how much of it stays written', async () => {
  // The history thread writes a batch in transactions of at most HISTORY_CHUNK records; a
  // failure in the second leaves the first committed. Devices 1..2*HISTORY_CHUNK exist, but two
  // of the first chunk's records are of unknown devices; the insert of the record after the
  // first chunk fails (a trigger stands in for a full disk).
  const devices = 2 * HISTORY_CHUNK;
  const store = await storeWith(devices);
  try {
    const other = new Database(file);
    other.exec(`CREATE TRIGGER full_disk BEFORE INSERT ON device_joins WHEN NEW.dev_eui = '${eui(HISTORY_CHUNK + 1)}' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    const records = Array.from({ length: devices }, (_, i) => joinRecord(eui(i + 1), 1));
    records[10] = joinRecord(eui(devices + 10), 1);
    records[20] = joinRecord(eui(devices + 20), 1);
    const failure = await store.appendJoinRecords(records, 50).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(JoinHistoryPartlyWrittenError);
    expect(failure).toMatchObject({ handled: HISTORY_CHUNK, stored: HISTORY_CHUNK - 2 });
    expect(((failure as Error).cause as Error).message).toBe('database or disk is full');
    expect((other.prepare('SELECT COUNT(*) AS n FROM device_joins').get() as { n: number }).n).toBe(HISTORY_CHUNK - 2);
    // A failure before any record is written is the failure itself.
    other.exec(`DROP TRIGGER full_disk; CREATE TRIGGER full_disk BEFORE INSERT ON device_joins BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    const first = await store.appendJoinRecords([joinRecord(eui(1), 2)], 50).then(
      () => null,
      (err: unknown) => err,
    );
    expect(first).not.toBeInstanceOf(JoinHistoryPartlyWrittenError);
    expect((first as Error).message).toBe('database or disk is full');
    other.close();
  } finally {
    await store.close();
  }
});

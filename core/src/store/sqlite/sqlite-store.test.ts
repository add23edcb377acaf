import { OPERATOR_TENANT } from '../../tenants/tenant';
import { randomBytes } from 'node:crypto';
import { firstCertificate } from '../../peers/peer-certificates';
import { DEFAULT_PEER_SETTINGS } from '../../peers/peer-settings';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { parseEUI64, parseNetID, type EUI64 } from '../../lorawan/identifiers';
import { devNonce, joinNonce } from '../../lorawan/nonces';
import type { ApplicationServerPeer, NetworkServerPeer } from '../../peers/peer';
import type { JoinCommit, NewDevice } from '../device';
import type { SessionRecord } from '../session';
import { DeviceExistsError, PeerExistsError } from '../store';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, SchemaTooNewError } from './schema-migrations';
import { SqliteStore } from './sqlite-store';
import { NONCE_COLUMNS } from '../retained-nonces';

let dir: string;
let file: string;
const open: SqliteStore[] = [];

function openStore(): SqliteStore {
  const store = SqliteStore.open(file);
  open.push(store);
  return store;
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-sqlite-'));
  file = path.join(dir, 'data', 'joinery.db');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function eui(i: number): EUI64 {
  return parseEUI64(`0004a30b${i.toString(16).padStart(8, '0')}`);
}

function newDevice(i: number, overrides: Partial<NewDevice> = {}): NewDevice {
  return {
    devEUI: eui(i),
    joinEUI: parseEUI64('70b3d57ed0000000'),
    macVersion: i % 2 === 0 ? '1.0.3' : '1.1',
    sealedRootKeys: randomBytes(47),
    vaultKind: 'software',
    nsPeer: i % 3 === 0 ? 'chirpstack-eu' : null,
    asPeer: null,
    ...overrides,
  };
}

function commit(devEUI: EUI64, expectedVersion: number, n: number): JoinCommit {
  return {
    devEUI,
    expectedVersion,
    nonces: { lastDevNonce: devNonce(n), usedDevNonces: [devNonce(1), devNonce(n)], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
    joinedAt: new Date(1_700_000_000_000 + n),
    peer: 'chirpstack-eu',
    recordsActivation: true,
  };
}

function nsPeer(name: string, overrides: Partial<NetworkServerPeer> = {}): NetworkServerPeer {
  const certFingerprint = overrides.certFingerprint ?? randomBytes(32).toString('hex');
  return {
    kind: 'ns',
    name,
    certFingerprint,
    kekLabel: `${name}-kek`,
    sealedKEK: randomBytes(46),
    settings: DEFAULT_PEER_SETTINGS,
    tenantID: OPERATOR_TENANT,
    createdAt: new Date(1_700_000_000_123),
    netID: parseNetID('000013'),
    nsID: parseEUI64('0000000000000013'),
    vendor: 'chirpstack',
    state: 'enabled',
    ...overrides,
    certificates: overrides.certificates ?? firstCertificate(certFingerprint, new Date(1_700_000_000_123), new Date(1_763_000_000_000)),
  };
}

function session(devEUI: EUI64, n: number, createdAt = new Date(1_700_000_000_000 + n * 1000)): SessionRecord {
  return {
    devEUI,
    sessionKeyID: randomBytes(16).toString('hex'),
    joinNonce: joinNonce(n),
    nsPeer: 'chirpstack-eu',
    asPeer: n % 2 === 0 ? 'my-as' : null,
    sealedAppSKey: randomBytes(46),
    createdAt,
  };
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('SqliteStore', () => {
  test('devices/insert, get, list, count', async () => {
    const store = openStore();
    const before = Date.now();
    const devices = [3, 1, 2, 6, 5, 4].map((i) => newDevice(i));
    await store.insertDevices(devices);
    expect(await store.countDevices()).toBe(6);

    const d = await store.getDevice(eui(3));
    expect(d).toMatchObject({
      devEUI: eui(3),
      joinEUI: '70b3d57ed0000000',
      macVersion: '1.1',
      vaultKind: 'software',
      nsPeer: 'chirpstack-eu',
      asPeer: null,
      nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: null, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
      version: 0,
      lastJoinAt: null,
      lastJoinPeer: null,
    });
    expect(d!.sealedRootKeys.equals(devices[0]!.sealedRootKeys)).toBe(true);
    expect(d!.createdAt).toBeInstanceOf(Date);
    expect(d!.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(await store.getDevice(eui(99))).toBeNull();

    const page1 = await store.listDevices({ limit: 4, offset: 0 });
    const page2 = await store.listDevices({ limit: 4, offset: 4 });
    expect([...page1, ...page2].map((x) => x.devEUI)).toEqual([1, 2, 3, 4, 5, 6].map(eui));
    expect((await store.listDevices({ limit: 10, offset: 0, nsPeer: 'chirpstack-eu' })).map((x) => x.devEUI)).toEqual([eui(3), eui(6)]);
    await store.insertDevices([]);
    expect(await store.countDevices()).toBe(6);
  });

  test('retained_nonces has every nonce column of devices, as devices has it; every devices column is a nonce column or known not to be one', () => {
    openStore();
    const db = new Database(file, { readonly: true });
    try {
      type Column = { name: string; type: string; notnull: number; dflt_value: string | null };
      const columns = (table: string): Column[] => db.prepare(`SELECT name, type, "notnull", dflt_value FROM pragma_table_info('${table}')`).all() as Column[];
      const devices = columns('devices');
      const retained = columns('retained_nonces');
      expect(retained.map((c) => c.name)).toEqual(['dev_eui', 'join_eui', ...NONCE_COLUMNS]);
      for (const name of NONCE_COLUMNS) expect(retained.find((c) => c.name === name)).toEqual(devices.find((c) => c.name === name));
      // A column added to devices is classed here: a nonce column goes to NONCE_COLUMNS (and retained_nonces).
      const notNonces = [
        'dev_eui',
        'join_eui',
        'mac_version',
        'sealed_root_keys',
        'vault_kind',
        'ns_peer',
        'as_peer',
        'version',
        'last_join_at',
        'last_join_peer',
        'created_at',
        'manufacturer_tenant',
        'owner_tenant',
        'owner_token_hash',
        'profile_id',
        'locked',
        'claimed_at',
        'activated_at',
        'activated_tenant',
        'overlap_ns_peer',
      ];
      expect(
        devices
          .map((c) => c.name)
          .filter((n) => !(NONCE_COLUMNS as readonly string[]).includes(n))
          .sort(),
      ).toEqual([...notNonces].sort());
    } finally {
      db.close();
    }
  });

  test('devices/a duplicate in the database rejects the whole batch', async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1)]);
    const err = await thrown(store.insertDevices([newDevice(2), newDevice(3), newDevice(1), newDevice(4)]));
    expect(err).toBeInstanceOf(DeviceExistsError);
    expect((err as DeviceExistsError).devEUI).toBe(eui(1));
    expect(await store.countDevices()).toBe(1);
    expect(await store.getDevice(eui(2))).toBeNull();
  });

  test('devices/a duplicate met by a multi-row INSERT is named; nothing of the batch stays', async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1000)]);
    // 150 rows: two full 64-row statements and a rest; the existing device in the second statement.
    const batch = Array.from({ length: 150 }, (_, i) => newDevice(i === 100 ? 1000 : 2000 + i));
    const err = await thrown(store.insertDevices(batch));
    expect(err).toBeInstanceOf(DeviceExistsError);
    expect((err as DeviceExistsError).devEUI).toBe(eui(1000));
    expect(await store.countDevices()).toBe(1);
    await store.insertDevices(batch.filter((_, i) => i !== 100));
    expect(await store.countDevices()).toBe(150);
    expect(await store.getDevice(eui(2149))).toMatchObject({ devEUI: eui(2149), macVersion: '1.1' });
  });

  test('devices/a duplicate within the batch rejects the whole batch', async () => {
    const store = openStore();
    const err = await thrown(store.insertDevices([newDevice(5), newDevice(6), newDevice(5)]));
    expect(err).toBeInstanceOf(DeviceExistsError);
    expect((err as DeviceExistsError).devEUI).toBe(eui(5));
    expect(await store.countDevices()).toBe(0);
  });

  test('commitJoin/succeeds once, then fails with the old version', async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1)]);
    expect(await store.commitJoin(commit(eui(1), 0, 10))).toBe(true);
    expect(await store.commitJoin(commit(eui(1), 0, 11))).toBe(false);
    const d = await store.getDevice(eui(1));
    expect(d).toMatchObject({
      version: 1,
      nonces: { lastDevNonce: 10, usedDevNonces: [1, 10], lastJoinNonce: 10, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
      lastJoinAt: new Date(1_700_000_000_010),
      lastJoinPeer: 'chirpstack-eu',
    });
    expect(await store.commitJoin(commit(eui(1), 1, 12))).toBe(true);
    expect((await store.getDevice(eui(1)))!.version).toBe(2);
    expect(await store.commitJoin({ ...commit(eui(1), 2, 13), nonces: { ...commit(eui(1), 2, 13).nonces, lastRJCount1: 7 } })).toBe(true);
    expect((await store.getDevice(eui(1)))!.nonces.lastRJCount1).toBe(7);
    expect(await store.commitJoin(commit(eui(42), 0, 1))).toBe(false); // no such device
  });

  test('commitJoin/two instances on one file (CLI and server): same expectedVersion, exactly one success', async () => {
    const server = openStore();
    const cli = openStore();
    await cli.insertDevices([newDevice(1)]);
    expect(await server.getDevice(eui(1))).not.toBeNull(); // visible at once, no restart
    for (let v = 0; v < 20; v++) {
      const results = await Promise.all([server.commitJoin(commit(eui(1), v, 100 + v)), cli.commitJoin(commit(eui(1), v, 200 + v))]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
    expect((await cli.getDevice(eui(1)))!.version).toBe(20);
  });

  test('commitJoin/racing threads, each with its own connection: exactly one success per round', async () => {
    const main = openStore();
    await main.insertDevices([newDevice(1)]);
    const contenders = 4;
    const rounds = 25;
    const control = new Int32Array(new SharedArrayBuffer(8)); // [round, expectedVersion]
    const workers = Array.from(
      { length: contenders },
      (_, id) =>
        new Worker(RACE_WORKER, {
          eval: true,
          workerData: { id, file, devEUI: eui(1), control: control.buffer, storeModule: require.resolve('./sqlite-store'), typescript: require.resolve('typescript') },
        }),
    );
    const replies: Array<{ id: number; round: number; ok?: boolean; error?: string }> = [];
    const waiters: Array<() => void> = [];
    for (const w of workers) {
      w.on('message', (m: (typeof replies)[number]) => {
        replies.push(m);
        waiters.splice(0).forEach((f) => f());
      });
      w.on('error', (e) => replies.push({ id: -1, round: -1, error: String(e) }));
    }
    const repliesFor = async (round: number): Promise<typeof replies> => {
      for (;;) {
        const got = replies.filter((r) => r.round === round || r.round === -1);
        if (got.length >= contenders) return got;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    try {
      await repliesFor(0); // every worker has opened its store
      for (let round = 1; round <= rounds; round++) {
        Atomics.store(control, 1, round - 1);
        Atomics.store(control, 0, round);
        Atomics.notify(control, 0);
        const mine = await main.commitJoin(commit(eui(1), round - 1, 9000 + round));
        const theirs = await repliesFor(round);
        expect(theirs.filter((r) => r.error)).toEqual([]);
        const winners = theirs.filter((r) => r.ok).map((r) => 1000 * (r.id + 1) + round);
        if (mine) winners.push(9000 + round);
        expect(winners).toHaveLength(1);
        const d = await main.getDevice(eui(1));
        expect(d!.version).toBe(round);
        expect(d!.nonces.lastJoinNonce).toBe(winners[0]); // the winner's write, whole
      }
    } finally {
      Atomics.store(control, 0, -1);
      Atomics.notify(control, 0);
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
    }
  });

  test("commitJoin/waits for another connection's write lock instead of failing (busy_timeout)", async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1)]);
    const worker = new Worker(LOCK_WORKER, { eval: true, workerData: { file, holdMs: 300, betterSqlite3: require.resolve('better-sqlite3') } });
    // Listened for at once: the commit waits off the event loop, so the holder may exit before it resolves.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      const t0 = Date.now();
      expect(await store.commitJoin(commit(eui(1), 0, 1))).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    } finally {
      await exited;
    }
  });

  test('sessions/added, read back, pruned to the newest keep', async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1), newDevice(2)]);
    const s = [1, 2, 3, 4, 5].map((n) => session(eui(1), n));
    for (const x of s) await store.addSession(x, 3);
    const other = session(eui(2), 9);
    await store.addSession(other, 3);

    expect(await store.getSession(eui(1), s[0]!.sessionKeyID)).toBeNull();
    expect(await store.getSession(eui(1), s[1]!.sessionKeyID)).toBeNull();
    for (const x of s.slice(2)) expect(await store.getSession(eui(1), x.sessionKeyID)).toEqual(x);
    expect(await store.getSession(eui(2), other.sessionKeyID)).toEqual(other);
    expect(await store.getSession(eui(2), s[4]!.sessionKeyID)).toBeNull(); // another device's id

    // Same createdAt: the later insert is the newer.
    const at = new Date(1_800_000_000_000);
    const tie = [session(eui(2), 10, at), session(eui(2), 11, at)];
    for (const x of tie) await store.addSession(x, 1);
    expect(await store.getSession(eui(2), tie[0]!.sessionKeyID)).toBeNull();
    expect(await store.getSession(eui(2), tie[1]!.sessionKeyID)).toEqual(tie[1]);

    await expect(store.addSession(session(eui(1), 6), 0)).rejects.toThrow(RangeError);
  });

  test('sessions/belong to an existing device (foreign keys on)', async () => {
    const store = openStore();
    await expect(store.addSession(session(eui(7), 1), 3)).rejects.toMatchObject({ message: expect.stringMatching(/FOREIGN KEY/) }); // a native error: maybe of another realm under jest
  });

  test('peers/insert, get, by fingerprint, list', async () => {
    const store = openStore();
    const ns = nsPeer('chirpstack-eu');
    const nsNoNSID = nsPeer('tts-eu', { nsID: null, vendor: 'the-things-stack', netID: parseNetID('000013') });
    const asFingerprint = randomBytes(32).toString('hex');
    const as: ApplicationServerPeer = {
      kind: 'as',
      name: 'my-as',
      certFingerprint: asFingerprint,
      certificates: firstCertificate(asFingerprint, new Date(1_700_000_000_000), null),
      state: 'enabled',
      kekLabel: 'my-as-kek',
      sealedKEK: randomBytes(46),
      settings: DEFAULT_PEER_SETTINGS,
      tenantID: OPERATOR_TENANT,
      createdAt: new Date(1_700_000_000_456),
      asID: 'as.example.com',
    };
    for (const p of [nsNoNSID, as, ns]) await store.insertPeer(p);
    expect(await store.getPeer('chirpstack-eu')).toEqual(ns);
    expect(await store.getPeer('tts-eu')).toEqual(nsNoNSID);
    expect(await store.getPeer('my-as')).toEqual(as);
    expect(await store.getPeer('nope')).toBeNull();
    expect(await store.getPeerByFingerprint(as.certFingerprint)).toEqual(as);
    expect(await store.getPeerByFingerprint(randomBytes(32).toString('hex'))).toBeNull();
    expect((await store.listPeers()).map((p) => p.name)).toEqual(['chirpstack-eu', 'my-as', 'tts-eu']);
  });

  test('peers/a duplicate name or certificate is PeerExistsError, nothing written', async () => {
    const store = openStore();
    const ns = nsPeer('chirpstack-eu');
    await store.insertPeer(ns);
    const sameName = await thrown(store.insertPeer(nsPeer('chirpstack-eu')));
    expect(sameName).toBeInstanceOf(PeerExistsError);
    expect((sameName as PeerExistsError).peerName).toBe('chirpstack-eu');
    const sameCert = await thrown(store.insertPeer(nsPeer('other', { certFingerprint: ns.certFingerprint })));
    expect(sameCert).toBeInstanceOf(PeerExistsError);
    expect(await store.listPeers()).toEqual([ns]);
  });

  test('durability/data survives close and reopen', async () => {
    const first = openStore();
    await first.insertDevices([newDevice(1), newDevice(2)]);
    await first.commitJoin(commit(eui(1), 0, 5));
    const s = session(eui(1), 5);
    await first.addSession(s, 10);
    const ns = nsPeer('chirpstack-eu');
    await first.insertPeer(ns);
    await first.close();
    await first.close(); // idempotent

    const second = openStore();
    await second.ping();
    expect(await second.countDevices()).toBe(2);
    expect(await second.getDevice(eui(1))).toMatchObject({ version: 1, nonces: { lastJoinNonce: 5 } });
    expect(await second.getSession(eui(1), s.sessionKeyID)).toEqual(s);
    expect(await second.getPeer('chirpstack-eu')).toEqual(ns);
  });

  test('migrations/applied once: reopening does not re-run them', async () => {
    await openStore().close();
    const raw = new Database(file);
    try {
      const rows = raw.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all() as Array<{ version: number; applied_at: number }>;
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      await openStore().close();
      expect(raw.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(rows);
      expect(migrate(raw)).toEqual([]);
    } finally {
      raw.close();
    }
  });

  test('migrations/11: a peer registered before keeps working, its one certificate current and accepted', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const raw = new Database(file);
    migrate(
      raw,
      MIGRATIONS.filter((m) => m.version <= 10),
    );
    raw
      .prepare(
        `INSERT INTO peers (name, kind, cert_fingerprint, kek_label, sealed_kek, net_id, ns_id, vendor, as_id, created_at, settings, tenant_id)
                VALUES ('old-ns', 'ns', ?, '000013', ?, '000013', NULL, 'chirpstack', NULL, ?, '{}', 'operator')`,
      )
      .run('ab'.repeat(32), randomBytes(40), 1_700_000_000_123);
    raw.close();
    const peer = await openStore().getPeerByFingerprint('ab'.repeat(32));
    expect(peer).toMatchObject({ name: 'old-ns', state: 'enabled', certFingerprint: 'ab'.repeat(32) });
    expect(peer?.certificates).toEqual([{ fingerprint: 'ab'.repeat(32), issuedAt: new Date(1_700_000_000_123), notAfter: null, retiresAt: null }]);
  });

  test('migrations/a database from a newer release is refused, untouched', async () => {
    const store = openStore();
    await store.insertDevices([newDevice(1)]);
    await store.close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'from the future', Date.now());
    raw.close();

    const err = await thrown(Promise.resolve().then(() => SqliteStore.open(file)));
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toContain(`version ${LATEST_SCHEMA_VERSION + 1}`);
    expect((err as Error).message).toContain(`(${LATEST_SCHEMA_VERSION})`);

    const check = new Database(file, { readonly: true });
    try {
      expect((check.prepare('SELECT COUNT(*) AS n FROM devices').get() as { n: number }).n).toBe(1);
    } finally {
      check.close();
    }
  });

  test('migrations/a fresh in-memory database is migrated', async () => {
    const mem = SqliteStore.open(':memory:');
    open.push(mem);
    await mem.insertDevices([newDevice(1)]);
    expect(await mem.countDevices()).toBe(1);
  });
});

/**
 * A contender in the commit race: its own thread, its own SqliteStore (the TypeScript sources
 * transpiled on the fly), committing with the expected version the main thread publishes.
 */
const RACE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ts = require(workerData.typescript);
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
const { SqliteStore } = require(workerData.storeModule);
const control = new Int32Array(workerData.control);
const store = SqliteStore.open(workerData.file);
const id = workerData.id;
(async () => {
  parentPort.postMessage({ id, round: 0 });
  let round = 0;
  for (;;) {
    Atomics.wait(control, 0, round);
    round = Atomics.load(control, 0);
    if (round < 0) break;
    const expectedVersion = Atomics.load(control, 1);
    const n = 1000 * (id + 1) + round;
    try {
      const ok = await store.commitJoin({
        devEUI: workerData.devEUI,
        expectedVersion,
        nonces: { lastDevNonce: n, usedDevNonces: [1, n], lastJoinNonce: n, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
        joinedAt: new Date(),
        peer: 'worker-' + id,
      });
      parentPort.postMessage({ id, round, ok });
    } catch (err) {
      parentPort.postMessage({ id, round, error: String(err && err.stack || err) });
    }
  }
  await store.close();
})();
`;

/** Holds the database's write lock for a while, as a long CLI import would. */
const LOCK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.exec('BEGIN IMMEDIATE');
db.exec("UPDATE devices SET last_join_peer = 'lock-holder'");
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
db.exec('COMMIT');
db.close();
`;

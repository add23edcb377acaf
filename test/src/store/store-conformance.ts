import { randomBytes } from 'node:crypto';
import { DEFAULT_PEER_SETTINGS, DeviceExistsError, MigrationConflictError, PeerExistsError, type FleetMigration, type ApplicationServerPeer, type JoinRecord, type EUI64, type JoinCommit, type NetworkServerPeer, type NewDevice, type SealedBlobOwner, type SessionRecord, type Store } from '@joinery/core';
import { firstCertificate } from '../../../core/src/peers/peer-certificates';
import { parseEUI64, parseNetID } from '../../../core/src/lorawan/identifiers';
import { devNonce, joinNonce, MAX_DEV_NONCE, MAX_JOIN_NONCE } from '../../../core/src/lorawan/nonces';
import { nextJoinNonce } from '../../../core/src/join/next-join-nonce';
import { issueApiKey } from '../../../core/src/tenants/api-key';
import { OPERATOR_TENANT, TenantExistsError, type TenantID } from '../../../core/src/tenants/tenant';
import { verifyAuditChain } from '../../../core/src/store/audit-chain';
import type { AuditEvent } from '../../../core/src/store/audit-event';
import { EMPTY_NONCE_STATE, type DeviceChange } from '../../../core/src/store/device';

/**
 * The store contract (design.md, "Store contract"): every Store implementation passes this
 * suite. `openStore` gives a new handle on the SAME database each time it is called (the way
 * a second Joinery instance, or the CLI beside a running server, opens it).
 *
 * The suite is meant to be run twice on one database, so it never assumes an empty store:
 * each run works on its own DevEUIs (a random prefix) and peer names, and counts in
 * differences. Leftover state from the first run that changes the second's results is a bug
 * of the store (or of this suite).
 */
export function describeStoreConformance(name: string, openStore: () => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    const run = randomBytes(4).toString('hex');
    const tag = `r${run}`;
    const handles: Store[] = [];
    let store: Store;

    const open = async (): Promise<Store> => {
      const s = await openStore();
      handles.push(s);
      return s;
    };
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      for (const h of handles.splice(0)) await h.close();
    });

    /** DevEUI i of this run: the run's prefix keeps the runs apart and its devices contiguous. */
    const eui = (i: number): EUI64 => parseEUI64(`${run}${i.toString(16).padStart(8, '0')}`);
    const nsName = (n: string): string => `${n}-${tag}`;

    function newDevice(i: number, overrides: Partial<NewDevice> = {}): NewDevice {
      return {
        devEUI: eui(i),
        joinEUI: parseEUI64('70b3d57ed0000000'),
        macVersion: i % 2 === 0 ? '1.0.3' : '1.1',
        sealedRootKeys: randomBytes(47),
        vaultKind: 'software',
        nsPeer: i % 3 === 0 ? nsName('ns-eu') : null,
        asPeer: null,
        ...overrides,
      };
    }

    function commit(devEUI: EUI64, expectedVersion: number, n: number): JoinCommit {
      return {
        devEUI,
        expectedVersion,
        nonces: { lastDevNonce: devNonce(n % 65536), usedDevNonces: [devNonce(1), devNonce(n % 65536)], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
        joinedAt: new Date(1_700_000_000_000 + n),
        peer: nsName('ns-eu'),
      };
    }

    function nsPeer(base: string, overrides: Partial<NetworkServerPeer> = {}): NetworkServerPeer {
      const certFingerprint = overrides.certFingerprint ?? randomBytes(32).toString('hex');
      return {
        kind: 'ns',
        name: nsName(base),
        certFingerprint,
        kekLabel: `${base}-kek`,
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
        nsPeer: nsName('ns-eu'),
        asPeer: n % 2 === 0 ? nsName('my-as') : null,
        sealedAppSKey: randomBytes(46),
        createdAt,
      };
    }

    /** The chunks of an import, then `fail` if given (a source that breaks after them). */
    async function* chunks<T>(parts: readonly (readonly T[])[], fail?: Error): AsyncGenerator<readonly T[]> {
      for (const p of parts) yield p;
      if (fail) throw fail;
    }

    async function thrown(p: Promise<unknown>): Promise<unknown> {
      try {
        await p;
      } catch (err) {
        return err;
      }
      throw new Error('expected a rejection');
    }

    /** Every device of this run, in the store's order (the run's DevEUIs are contiguous there). */
    async function ownDevices(s: Store = store): Promise<EUI64[]> {
      const all = await s.listDevices({ limit: 1_000_000, offset: 0 });
      return all.map((d) => d.devEUI).filter((e) => e.startsWith(run));
    }

    test('devices/insert, get, list in DevEUI order, pages, count', async () => {
      const before = Date.now();
      const count0 = await store.countDevices();
      const devices = [3, 1, 2, 6, 5, 4].map((i) => newDevice(i));
      await store.insertDevices(devices);
      expect(await store.countDevices()).toBe(count0 + 6);

      const d = await store.getDevice(eui(3));
      expect(d).toMatchObject({
        devEUI: eui(3),
        joinEUI: '70b3d57ed0000000',
        macVersion: '1.1',
        vaultKind: 'software',
        nsPeer: nsName('ns-eu'),
        asPeer: null,
        nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: null, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
        version: 0,
        lastJoinAt: null,
        lastJoinPeer: null,
      });
      expect(Buffer.isBuffer(d!.sealedRootKeys)).toBe(true);
      expect(d!.sealedRootKeys.equals(devices[0]!.sealedRootKeys)).toBe(true);
      expect(d!.createdAt).toBeInstanceOf(Date);
      expect(d!.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(d!.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(await store.getDevice(eui(99))).toBeNull();

      // The whole list is in DevEUI order; page through this run's part of it.
      const all = await store.listDevices({ limit: 1_000_000, offset: 0 });
      const order = all.map((x) => x.devEUI);
      expect(order).toEqual([...order].sort());
      const first = order.indexOf(eui(1));
      const page1 = await store.listDevices({ limit: 4, offset: first });
      const page2 = await store.listDevices({ limit: 2, offset: first + 4 });
      expect([...page1, ...page2].map((x) => x.devEUI)).toEqual([1, 2, 3, 4, 5, 6].map(eui));
      expect(await store.listDevices({ limit: 10, offset: all.length })).toEqual([]);

      await store.insertDevices([]);
      expect(await store.countDevices()).toBe(count0 + 6);
    });

    test('devices/a DevEUI already in the store rejects the whole batch: DeviceExistsError names it, nothing written', async () => {
      await store.insertDevices([newDevice(11)]);
      const count0 = await store.countDevices();
      const err = await thrown(store.insertDevices([newDevice(12), newDevice(13), newDevice(11), newDevice(14)]));
      expect(err).toBeInstanceOf(DeviceExistsError);
      expect((err as DeviceExistsError).devEUI).toBe(eui(11));
      expect((err as Error).message).toContain(eui(11));
      expect(await store.countDevices()).toBe(count0);
      for (const i of [12, 13, 14]) expect(await store.getDevice(eui(i))).toBeNull();
    });

    test('devices/existingDevEUIs: which of many DevEUIs are devices, in one call (more than a statement\'s parameters)', async () => {
      await store.insertDevices([newDevice(0xa101), newDevice(0xa103)]);
      const asked = [eui(0xa101), eui(0xa102), eui(0xa103), ...Array.from({ length: 1200 }, (_, i) => eui(0xb0000 + i))];
      expect([...(await store.existingDevEUIs(asked))].sort()).toEqual([eui(0xa101), eui(0xa103)]);
      expect(await store.existingDevEUIs([])).toEqual(new Set());
    });

    test('devices/countDevices by binding (bound: true / false), with claimed: the states joinery_devices counts', async () => {
      const bound0 = await store.countDevices({ claimed: true, bound: true });
      const unbound0 = await store.countDevices({ claimed: true, bound: false });
      await store.insertDevices([newDevice(0xa201, { nsPeer: nsName('ns-eu') }), newDevice(0xa202, { nsPeer: null }), newDevice(0xa204, { nsPeer: null })]);
      expect(await store.countDevices({ claimed: true, bound: true })).toBe(bound0 + 1);
      expect(await store.countDevices({ claimed: true, bound: false })).toBe(unbound0 + 2);
      // With the MAC version too (newDevice: even numbers 1.0.3, odd 1.1).
      const mine = (await store.listDevices({ macVersion: '1.1', bound: true, limit: 1_000_000, offset: 0 })).map((d) => d.devEUI);
      expect(mine).toContain(eui(0xa201));
      expect((await store.listDevices({ macVersion: '1.0.3', limit: 1_000_000, offset: 0 })).map((d) => d.devEUI)).toEqual(expect.arrayContaining([eui(0xa202), eui(0xa204)]));
      expect((await store.listDevices({ macVersion: '1.0.3', limit: 1_000_000, offset: 0 })).map((d) => d.devEUI)).not.toContain(eui(0xa201));
    });

    test('devices/a DevEUI twice within the batch rejects the whole batch', async () => {
      const count0 = await store.countDevices();
      const err = await thrown(store.insertDevices([newDevice(15), newDevice(16), newDevice(15)]));
      expect(err).toBeInstanceOf(DeviceExistsError);
      expect((err as DeviceExistsError).devEUI).toBe(eui(15));
      expect(await store.countDevices()).toBe(count0);
    });

    test('devices/a large import is all or nothing (1,200 devices, the duplicate last)', async () => {
      await store.insertDevices([newDevice(0x10000)]);
      const count0 = await store.countDevices();
      const batch = Array.from({ length: 1200 }, (_, i) => newDevice(0x20000 + i));
      const err = await thrown(store.insertDevices([...batch, newDevice(0x10000)]));
      expect((err as DeviceExistsError).devEUI).toBe(eui(0x10000));
      expect(await store.countDevices()).toBe(count0);
      await store.insertDevices(batch);
      expect(await store.countDevices()).toBe(count0 + 1200);
    });

    test('devices/chunks inserted in one transaction: all of them with the audit entry made from their count, or none', async () => {
      const tenantID = tenantOf('chunks');
      const a = Array.from({ length: 700 }, (_, i) => newDevice(0x30000 + i));
      const b = Array.from({ length: 600 }, (_, i) => newDevice(0x31000 + i));
      const count0 = await store.countDevices();

      // An existing DevEUI in the second chunk: the first chunk is not kept either.
      await store.insertDevices([newDevice(0x32000)]);
      const exists = await thrown(store.insertDeviceChunks(chunks([a, [...b, newDevice(0x32000)]])));
      expect(exists).toBeInstanceOf(DeviceExistsError);
      expect((exists as DeviceExistsError).devEUI).toBe(eui(0x32000));
      // A DevEUI twice, in two chunks.
      expect(((await thrown(store.insertDeviceChunks(chunks([a, [a[3]!]])))) as DeviceExistsError).devEUI).toBe(a[3]!.devEUI);
      // The source fails after its chunks: rolled back, its own error rethrown as it is.
      const failure = new RangeError('the file ends in the middle of a line');
      expect(await thrown(store.insertDeviceChunks(chunks([a, b], failure), () => audit('device.import', null, tenantID)))).toBe(failure);
      expect(await store.countDevices()).toBe(count0 + 1);
      expect(await store.getDevice(a[0]!.devEUI)).toBeNull();
      expect(await store.listAuditEvents({ tenantID, limit: 10 })).toEqual([]);

      const counted: number[] = [];
      const inserted = await store.insertDeviceChunks(chunks([a, b]), (n) => {
        counted.push(n);
        return audit('device.import', null, tenantID);
      });
      expect(inserted).toBe(1300);
      expect(counted).toEqual([1300]);
      expect(await store.countDevices()).toBe(count0 + 1301);
      expect((await store.getDevice(b[599]!.devEUI))!.sealedRootKeys.equals(b[599]!.sealedRootKeys)).toBe(true);
      expect((await store.listAuditEvents({ tenantID, limit: 10 })).map((e) => e.action)).toEqual(['device.import']);
      // Nothing to insert: nothing written, no audit entry.
      expect(await store.insertDeviceChunks(chunks<NewDevice>([[]]), () => audit('device.import', null, tenantID))).toBe(0);
      expect(await store.listAuditEvents({ tenantID, limit: 10 })).toHaveLength(1);
    });

    test('bindings/network and application server kept; list by network server', async () => {
      await store.insertDevices([
        newDevice(21, { nsPeer: nsName('ns-b'), asPeer: nsName('as-b') }),
        newDevice(22, { nsPeer: nsName('ns-b'), asPeer: null }),
        newDevice(23, { nsPeer: null, asPeer: null }),
        newDevice(24, { nsPeer: nsName('ns-c'), asPeer: nsName('as-b') }),
      ]);
      expect(await store.getDevice(eui(21))).toMatchObject({ nsPeer: nsName('ns-b'), asPeer: nsName('as-b') });
      expect(await store.getDevice(eui(22))).toMatchObject({ nsPeer: nsName('ns-b'), asPeer: null });
      expect(await store.getDevice(eui(23))).toMatchObject({ nsPeer: null, asPeer: null });
      const ofB = await store.listDevices({ limit: 100, offset: 0, nsPeer: nsName('ns-b') });
      expect(ofB.map((d) => d.devEUI)).toEqual([eui(21), eui(22)]);
      expect((await store.listDevices({ limit: 1, offset: 1, nsPeer: nsName('ns-b') })).map((d) => d.devEUI)).toEqual([eui(22)]);
      expect(await store.listDevices({ limit: 100, offset: 0, nsPeer: nsName('nobody') })).toEqual([]);
    });

    test('nonces/the whole nonce state round-trips: used DevNonces in order, extremes, RJcount1, RJcount0, the rejoin window, last join', async () => {
      await store.insertDevices([newDevice(31)]);
      const used = Array.from({ length: 64 }, (_, i) => devNonce((i * 7919) % 65536));
      const joinedAt = new Date(1_750_000_000_123);
      const rejoinWindow = { start: new Date(1_750_000_000_456), count: 7 };
      expect(
        await store.commitJoin({
          devEUI: eui(31),
          expectedVersion: 0,
          nonces: { lastDevNonce: devNonce(MAX_DEV_NONCE), usedDevNonces: used, lastJoinNonce: joinNonce(0), lastRJCount1: 65535, lastRJCount0: 65535, rejoinWindow },
          joinedAt,
          peer: nsName('ns-eu'),
        }),
      ).toBe(true);
      const d = (await store.getDevice(eui(31)))!;
      expect(d.nonces).toEqual({ lastDevNonce: MAX_DEV_NONCE, usedDevNonces: used, lastJoinNonce: 0, lastRJCount1: 65535, lastRJCount0: 65535, rejoinWindow });
      // RJcount0 0 is a value, not "none".
      expect(await store.commitJoin({ devEUI: eui(31), expectedVersion: 1, nonces: { ...d.nonces, lastRJCount0: 0 }, joinedAt, peer: nsName('ns-eu') })).toBe(true);
      expect((await store.getDevice(eui(31)))!.nonces).toMatchObject({ lastRJCount0: 0, rejoinWindow });
      expect((await store.listDevices({ limit: 10, offset: 0, euiPrefix: eui(31) })).find((x) => x.devEUI === eui(31))!.nonces).toEqual({ ...d.nonces, lastRJCount0: 0 });
      expect(d.lastJoinAt).toEqual(joinedAt);
      expect(d.lastJoinPeer).toBe(nsName('ns-eu'));
      expect(d.version).toBe(1);

      // ... and back to nothing: nulls and an empty set are stored as such, not as zeros.
      expect(
        await store.commitJoin({
          devEUI: eui(31),
          expectedVersion: 2,
          nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: joinNonce(1), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
          joinedAt,
          peer: nsName('ns-other'),
        }),
      ).toBe(true);
      expect((await store.getDevice(eui(31)))!).toMatchObject({
        nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: 1, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
        lastJoinPeer: nsName('ns-other'),
        version: 3,
      });
    });

    test('nonces/devices counted by their last JoinNonce above a threshold (the exhaustion gauge), with other filters', async () => {
      const threshold = 15_000_000;
      const above = () => store.countDevices({ euiPrefix: run, joinNonceAbove: threshold });
      const count0 = await above();
      await store.insertDevices([0x7401, 0x7402, 0x7403, 0x7404].map((i) => newDevice(i)));
      expect(await above()).toBe(count0); // never joined: no JoinNonce
      for (const [i, n] of [[0x7401, threshold], [0x7402, threshold + 1], [0x7403, 0xffffff], [0x7404, 5]] as const) {
        expect(await store.commitJoin(commit(eui(i), 0, n))).toBe(true);
      }
      expect(await above()).toBe(count0 + 2);
      expect(await store.countDevices({ euiPrefix: `${run}000074`, joinNonceAbove: threshold })).toBe(2);
      expect(await store.countDevices({ euiPrefix: `${run}000074`, joinNonceAbove: 0 })).toBe(4);
    });

    test('nonces/an exhausted JoinNonce counter (0xffffff) is stored exactly and stays exhausted', async () => {
      await store.insertDevices([newDevice(32)]);
      expect(await store.commitJoin({ ...commit(eui(32), 0, 1), nonces: { ...commit(eui(32), 0, 1).nonces, lastJoinNonce: joinNonce(MAX_JOIN_NONCE) } })).toBe(true);
      const reader = await open(); // another instance reads the same
      const d = (await reader.getDevice(eui(32)))!;
      expect(d.nonces.lastJoinNonce).toBe(MAX_JOIN_NONCE);
      expect(nextJoinNonce(d.nonces.lastJoinNonce)).toMatchObject({ ok: false, code: 'JoinNonceExhausted' });
    });

    test('commitJoin/succeeds at the expected version only; a missing device is false', async () => {
      await store.insertDevices([newDevice(41)]);
      expect(await store.commitJoin(commit(eui(41), 0, 10))).toBe(true);
      expect(await store.commitJoin(commit(eui(41), 0, 11))).toBe(false);
      expect(await store.commitJoin(commit(eui(41), 5, 12))).toBe(false);
      expect(await store.getDevice(eui(41))).toMatchObject({
        version: 1,
        nonces: { lastDevNonce: 10, usedDevNonces: [1, 10], lastJoinNonce: 10, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
        lastJoinAt: new Date(1_700_000_000_010),
        lastJoinPeer: nsName('ns-eu'),
      });
      expect(await store.commitJoin(commit(eui(41), 1, 13))).toBe(true);
      expect((await store.getDevice(eui(41)))!.version).toBe(2);
      expect(await store.commitJoin(commit(eui(42), 0, 1))).toBe(false); // no such device
      expect(await store.getDevice(eui(42))).toBeNull();
    });

    test('commitJoin/50 concurrent commits with the same expected version: exactly one succeeds, whole', async () => {
      await store.insertDevices([newDevice(51)]);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.commitJoin(commit(eui(51), 0, 1000 + i))));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = 1000 + results.indexOf(true);
      const d = (await store.getDevice(eui(51)))!;
      expect(d.version).toBe(1);
      expect(d.nonces).toEqual({ lastDevNonce: winner, usedDevNonces: [1, winner], lastJoinNonce: winner, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null });
    });

    test('commitJoin/concurrent commits of one device with successive versions: as in some serial order', async () => {
      await store.insertDevices([newDevice(52)]);
      // Concurrent calls have no order, but the outcome is that of one: every success bumped the
      // version once, and a stale version never wins.
      const versions = [0, 1, 2, 0, 1, 2];
      const results = await Promise.all(versions.map((v, i) => store.commitJoin(commit(eui(52), v, 100 + i))));
      const wins = results.filter(Boolean).length;
      expect(wins).toBeGreaterThanOrEqual(1);
      expect(wins).toBeLessThanOrEqual(3);
      const winners = versions.filter((_, i) => results[i]);
      expect(new Set(winners).size).toBe(wins); // at most one winner per version
      expect([...winners].sort()).toEqual([0, 1, 2].slice(0, wins)); // v1 only after v0, v2 only after v1
      const d = (await store.getDevice(eui(52)))!;
      expect(d.version).toBe(wins);
      expect(d.nonces.lastJoinNonce).toBe(100 + results.findIndex((ok, i) => ok && versions[i] === wins - 1));
      expect(await store.commitJoin(commit(eui(52), 0, 200))).toBe(false);
    });

    test('commitJoin/50 concurrent commits of 50 devices all succeed, each with its own state', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => 0x300 + i);
      await store.insertDevices(ids.map((i) => newDevice(i)));
      const results = await Promise.all(ids.map((i) => store.commitJoin(commit(eui(i), 0, i))));
      expect(results.every(Boolean)).toBe(true);
      for (const i of ids) expect((await store.getDevice(eui(i)))!).toMatchObject({ version: 1, nonces: { lastJoinNonce: i } });
    });

    test('commitJoin/two instances on one database: same expected version, exactly one success per round', async () => {
      const other = await open();
      await store.insertDevices([newDevice(53)]);
      expect(await other.getDevice(eui(53))).not.toBeNull(); // visible at once, no restart
      for (let v = 0; v < 20; v++) {
        const results = await Promise.all([
          store.commitJoin(commit(eui(53), v, 1000 + v)),
          other.commitJoin(commit(eui(53), v, 2000 + v)),
          store.commitJoin(commit(eui(53), v, 3000 + v)),
          other.commitJoin(commit(eui(53), v, 4000 + v)),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
      expect((await store.getDevice(eui(53)))!.version).toBe(20);
    });

    test('sessions/added, read back exactly, pruned to the newest keep', async () => {
      await store.insertDevices([newDevice(61), newDevice(62)]);
      const s = [1, 2, 3, 4, 5].map((n) => session(eui(61), n));
      for (const x of s) await store.addSession(x, 3);
      const other = session(eui(62), 9);
      await store.addSession(other, 3);

      expect(await store.getSession(eui(61), s[0]!.sessionKeyID)).toBeNull();
      expect(await store.getSession(eui(61), s[1]!.sessionKeyID)).toBeNull();
      for (const x of s.slice(2)) expect(await store.getSession(eui(61), x.sessionKeyID)).toEqual(x);
      expect(await store.getSession(eui(62), other.sessionKeyID)).toEqual(other);
      expect(await store.getSession(eui(62), s[4]!.sessionKeyID)).toBeNull(); // another device's id

      // An older session added late is the first to go.
      const old = session(eui(61), 0, new Date(1_600_000_000_000));
      await store.addSession(old, 3);
      expect(await store.getSession(eui(61), old.sessionKeyID)).toBeNull();
      for (const x of s.slice(2)) expect(await store.getSession(eui(61), x.sessionKeyID)).toEqual(x);

      // Same createdAt: the later insert is the newer.
      const at = new Date(1_800_000_000_000);
      const tie = [session(eui(62), 10, at), session(eui(62), 11, at)];
      for (const x of tie) await store.addSession(x, 1);
      expect(await store.getSession(eui(62), tie[0]!.sessionKeyID)).toBeNull();
      expect(await store.getSession(eui(62), tie[1]!.sessionKeyID)).toEqual(tie[1]);

      await expect(store.addSession(session(eui(61), 6), 0)).rejects.toThrow(RangeError);
      await expect(store.addSession(session(eui(61), 6), 1.5)).rejects.toThrow(RangeError);
    });

    test('sessions/concurrent sessions of one device still leave exactly keep', async () => {
      await store.insertDevices([newDevice(63)]);
      const many = Array.from({ length: 12 }, (_, n) => session(eui(63), n + 1));
      await Promise.all(many.map((x) => store.addSession(x, 4)));
      const left = await Promise.all(many.map((x) => store.getSession(eui(63), x.sessionKeyID)));
      expect(left.filter((x) => x !== null)).toHaveLength(4);
      // The newest four by createdAt.
      for (const x of many.slice(-4)) expect(await store.getSession(eui(63), x.sessionKeyID)).toEqual(x);
    });

    test('sessions/belong to an existing device', async () => {
      // (toMatchObject, not toThrow: an error of a native addon may come from another realm under jest.)
      await expect(store.addSession(session(eui(64), 1), 3)).rejects.toMatchObject({ message: expect.stringMatching(/foreign key/i) });
      expect(await store.getDevice(eui(64))).toBeNull();
    });

    test('peers/insert, get, by fingerprint, list in name order', async () => {
      const ns = nsPeer('chirpstack-eu');
      const nsNoNSID = nsPeer('tts-eu', { nsID: null, vendor: 'the-things-stack', netID: parseNetID('c00053') });
      const asFingerprint = randomBytes(32).toString('hex');
      const as: ApplicationServerPeer = {
        kind: 'as',
        name: nsName('my-as'),
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
      const dashed = nsPeer('chirpstack', { vendor: 'generic' }); // "chirpstack-r..." vs "chirpstack-eu-r...": byte order
      for (const p of [nsNoNSID, as, ns, dashed]) await store.insertPeer(p);
      expect(await store.getPeer(ns.name)).toEqual(ns);
      expect(await store.getPeer(nsNoNSID.name)).toEqual(nsNoNSID);
      expect(await store.getPeer(as.name)).toEqual(as);
      expect(await store.getPeer(nsName('nope'))).toBeNull();
      expect(await store.getPeerByFingerprint(as.certFingerprint)).toEqual(as);
      expect(await store.getPeerByFingerprint(randomBytes(32).toString('hex'))).toBeNull();
      const mine = (await store.listPeers()).filter((p) => p.name.endsWith(tag));
      const names = [ns.name, nsNoNSID.name, as.name, dashed.name];
      expect(mine.map((p) => p.name)).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      const everyone = (await store.listPeers()).map((p) => p.name);
      expect(everyone).toEqual([...everyone].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    });

    test('peers/a duplicate name or certificate is PeerExistsError, nothing written', async () => {
      const ns = nsPeer('dup');
      await store.insertPeer(ns);
      const count0 = (await store.listPeers()).length;
      const sameName = await thrown(store.insertPeer(nsPeer('dup')));
      expect(sameName).toBeInstanceOf(PeerExistsError);
      expect((sameName as PeerExistsError).peerName).toBe(ns.name);
      const sameCert = await thrown(store.insertPeer(nsPeer('dup-other', { certFingerprint: ns.certFingerprint })));
      expect(sameCert).toBeInstanceOf(PeerExistsError);
      expect((await store.listPeers()).length).toBe(count0);
      expect(await store.getPeer(nsName('dup-other'))).toBeNull();
      expect(await store.getPeer(ns.name)).toEqual(ns);
    });

    test('peers/settings: stored with the peer, replaced whole, false for an unknown peer', async () => {
      const ns = nsPeer('with-settings', { settings: { asyncAnswers: { url: 'https://ns.example:8001/', caPem: null }, authorizationSHA256: null } });
      await store.insertPeer(ns);
      expect((await store.getPeer(ns.name))?.settings).toEqual(ns.settings);
      const next = { asyncAnswers: null, authorizationSHA256: 'ab'.repeat(32) };
      expect(await store.updatePeerSettings(ns.name, next)).toBe(true);
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.settings).toEqual(next);
      expect(await store.updatePeerSettings(nsName('nobody'), next)).toBe(false);
    });

    test('peers/cache: a change is seen at once, whether made through this handle or another (another process, another instance)', async () => {
      const ns = nsPeer('cached');
      await store.insertPeer(ns);
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.settings).toEqual(ns.settings); // now cached, by both keys
      const mine = { asyncAnswers: null, authorizationSHA256: 'cd'.repeat(32) };
      expect(await store.updatePeerSettings(ns.name, mine)).toBe(true);
      expect((await store.getPeer(ns.name))?.settings).toEqual(mine);
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.settings).toEqual(mine);

      const other = await open();
      const theirs = { asyncAnswers: null, authorizationSHA256: 'ef'.repeat(32) };
      expect(await other.updatePeerSettings(ns.name, theirs)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the next turn of the event loop
      expect((await store.getPeer(ns.name))?.settings).toEqual(theirs);
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.settings).toEqual(theirs);

      // An unknown peer is never cached: one registered through another handle is found at once.
      expect(await store.getPeer(nsName('late'))).toBeNull();
      const late = nsPeer('late');
      await other.insertPeer(late);
      expect(await store.getPeer(late.name)).toEqual(late);
      expect(await store.getPeerByFingerprint(late.certFingerprint)).toEqual(late);
    });

    const peerAudit = (action: string, name: string): AuditEvent => ({ at: new Date(), actor: `test:${tag}`, tenantID: 'operator', source: null, action, devEUI: null, detail: { name } });

    test('peers/state: a disabled peer is seen disabled at once, through this handle or another; audited; false for an unknown peer', async () => {
      const ns = nsPeer('lifecycle-state');
      await store.insertPeer(ns);
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.state).toBe('enabled'); // cached
      const other = await open();
      expect(await other.updatePeer(ns.name, { state: 'disabled' }, peerAudit('peer.disable', ns.name))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the next turn of the event loop
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.state).toBe('disabled');
      expect(await store.updatePeer(ns.name, { state: 'enabled' }, peerAudit('peer.enable', ns.name))).toBe(true);
      expect((await store.getPeer(ns.name))?.state).toBe('enabled');
      expect(await store.updatePeer(nsName('nobody'), { state: 'disabled' }, peerAudit('peer.disable', 'nobody'))).toBe(false);
      const trail = (await store.listAuditEvents({ limit: 50 })).filter((e) => e.detail['name'] === ns.name).map((e) => e.action);
      expect(trail).toEqual(['peer.enable', 'peer.disable']);
      expect((await store.listAuditEvents({ limit: 50 })).some((e) => e.detail['name'] === 'nobody')).toBe(false);
    });

    test('peers/certificates: every certificate of the set finds its peer, retirements and the current one are kept, the KEK replaced', async () => {
      const ns = nsPeer('lifecycle-certs');
      await store.insertPeer(ns);
      expect(await store.getPeerByFingerprint(ns.certFingerprint)).toEqual(ns); // cached by the old fingerprint
      const renewedFingerprint = randomBytes(32).toString('hex');
      const retiresAt = new Date(1_800_000_000_000);
      const certificates = [{ ...ns.certificates[0]!, retiresAt }, { fingerprint: renewedFingerprint, issuedAt: new Date(1_790_000_000_000), notAfter: new Date(1_850_000_000_000), retiresAt: null }];
      expect(await store.updatePeer(ns.name, { certificates, certFingerprint: renewedFingerprint }, peerAudit('peer.certificate.renew', ns.name))).toBe(true);
      const renewed = { ...ns, certificates, certFingerprint: renewedFingerprint };
      expect(await store.getPeerByFingerprint(ns.certFingerprint)).toEqual(renewed);
      expect(await store.getPeerByFingerprint(renewedFingerprint)).toEqual(renewed);
      expect(await store.getPeer(ns.name)).toEqual(renewed);
      // Another peer cannot take a fingerprint of this one's set.
      expect(await thrown(store.insertPeer(nsPeer('lifecycle-thief', { certFingerprint: renewedFingerprint })))).toBeInstanceOf(PeerExistsError);

      const sealedKEK = randomBytes(46);
      expect(await store.updatePeer(ns.name, { kek: { label: 'kek-2', sealedKEK } }, peerAudit('peer.kek.rotate', ns.name))).toBe(true);
      expect(await store.getPeerByFingerprint(renewedFingerprint)).toEqual({ ...renewed, kekLabel: 'kek-2', sealedKEK });
    });

    test('peers/delete: refused while devices are bound; with unbinding, the bindings go with the peer and its certificates', async () => {
      const ns = nsPeer('lifecycle-del');
      const fallback = nsPeer('lifecycle-keep');
      await store.insertPeer(ns);
      await store.insertPeer(fallback);
      await store.insertDevices([
        newDevice(0x7a001, { nsPeer: ns.name }),
        newDevice(0x7a002, { nsPeer: fallback.name, asPeer: ns.name }),
        newDevice(0x7a003, { nsPeer: fallback.name }),
      ]);
      expect(await store.commitJoin({ ...commit(eui(0x7a001), 0, 5), peer: ns.name, joinedAt: new Date(1_700_000_500_000) })).toBe(true);
      const usage = await store.peerUsage();
      expect(usage.get(ns.name)).toEqual({ boundDevices: 2, lastJoinAt: new Date(1_700_000_500_000) });
      expect(usage.get(fallback.name)).toEqual({ boundDevices: 2, lastJoinAt: null });

      expect(await store.deletePeer(ns.name, false, peerAudit('peer.delete', ns.name))).toEqual({ kind: 'bound', devices: 2 });
      expect(await store.getPeerByFingerprint(ns.certFingerprint)).toEqual(ns);
      expect(await store.deletePeer(ns.name, true, peerAudit('peer.delete', ns.name))).toEqual({ kind: 'deleted', unbound: 2 });
      expect(await store.getPeer(ns.name)).toBeNull();
      expect(await store.getPeerByFingerprint(ns.certFingerprint)).toBeNull();
      expect(await store.getDevice(eui(0x7a001))).toMatchObject({ nsPeer: null, asPeer: null });
      expect(await store.getDevice(eui(0x7a002))).toMatchObject({ nsPeer: fallback.name, asPeer: null });
      expect(await store.getDevice(eui(0x7a003))).toMatchObject({ nsPeer: fallback.name });
      expect(await store.deletePeer(ns.name, true, peerAudit('peer.delete', ns.name))).toEqual({ kind: 'not-found' });
      expect((await store.listAuditEvents({ limit: 50 })).filter((e) => e.detail['name'] === ns.name).map((e) => e.action)).toEqual(['peer.delete']);
      // Its name and certificate may be registered again.
      await store.insertPeer(nsPeer('lifecycle-del', { certFingerprint: ns.certFingerprint }));
    });

    test('devices/DevNonce reset: used DevNonces forgotten, JoinNonce and RJcount1 kept, audited in the same write', async () => {
      await store.insertDevices([newDevice(81)]);
      expect(await store.commitJoin({ ...commit(eui(81), 0, 9), nonces: { lastDevNonce: devNonce(40), usedDevNonces: [devNonce(7), devNonce(40)], lastJoinNonce: joinNonce(9), lastRJCount1: 3, lastRJCount0: 5, rejoinWindow: { start: new Date(1_700_000_000_000), count: 2 } } })).toBe(true);
      const at = new Date(1_700_000_100_000);
      const reset = await store.resetDevNonces(eui(81), { at, actor: 'cli:test', tenantID: 'operator', source: 'cli@host', action: 'device.dev-nonce.reset', devEUI: eui(81), detail: { lastDevNonce: 40, reason: 'stuck' } });
      expect(reset?.nonces).toEqual({ lastDevNonce: null, usedDevNonces: [], lastJoinNonce: 9, lastRJCount1: 3, lastRJCount0: 5, rejoinWindow: { start: new Date(1_700_000_000_000), count: 2 } });
      expect(reset?.version).toBe(2);
      const events = await store.listAuditEvents({ devEUI: eui(81), limit: 10 });
      expect(events).toEqual([{ at, actor: 'cli:test', tenantID: 'operator', source: 'cli@host', action: 'device.dev-nonce.reset', devEUI: eui(81), detail: { lastDevNonce: 40, reason: 'stuck' } }]);
      expect((await store.listAuditEvents({ limit: 1000 })).some((e) => e.devEUI === eui(81))).toBe(true);
      // An unknown device: nothing reset, nothing audited.
      expect(await store.resetDevNonces(eui(82), { at, actor: 'cli:test', tenantID: null, source: null, action: 'device.dev-nonce.reset', devEUI: eui(82), detail: {} })).toBeNull();
      expect(await store.listAuditEvents({ devEUI: eui(82), limit: 10 })).toEqual([]);
    });

    test('reseal/every sealed blob is handed over once with its owner and replaced in place, only while unchanged', async () => {
      await store.insertDevices([newDevice(90), newDevice(91)]);
      const peer = nsPeer('reseal');
      await store.insertPeer(peer);
      const pruned = session(eui(90), 1);
      await store.addSession(pruned, 10);
      const ours = new Map<string, Buffer>([
        [`device:${eui(90)}`, (await store.getDevice(eui(90)))!.sealedRootKeys],
        [`device:${eui(91)}`, (await store.getDevice(eui(91)))!.sealedRootKeys],
        [`peer:${peer.name}`, peer.sealedKEK],
        [`session:${eui(90)}:${pruned.sessionKeyID}`, pruned.sealedAppSKey],
      ]);
      const seen: string[] = [];
      const replaced = await store.resealAll(async (blob, owner: SealedBlobOwner) => {
        const id = owner.kind === 'peer' ? `peer:${owner.name}` : owner.kind === 'device' ? `device:${owner.devEUI}` : `session:${owner.devEUI}:${owner.sessionKeyID}`;
        const original = ours.get(id);
        if (!original) return null; // another run's, or the session added below
        expect(blob.equals(original)).toBe(true);
        seen.push(id);
        // The session is pruned (a newer one, keep 1) between being read and being replaced.
        if (owner.kind === 'session') await store.addSession(session(eui(90), 2), 1);
        return Buffer.concat([Buffer.from('resealed:'), blob]);
      });
      expect(seen.sort()).toEqual([...ours.keys()].sort());
      expect(replaced).toBe(3);
      const resealed = (b: Buffer): Buffer => Buffer.concat([Buffer.from('resealed:'), b]);
      expect((await store.getDevice(eui(90)))!.sealedRootKeys.equals(resealed(ours.get(`device:${eui(90)}`)!))).toBe(true);
      expect((await store.getDevice(eui(91)))!.sealedRootKeys.equals(resealed(ours.get(`device:${eui(91)}`)!))).toBe(true);
      expect((await store.getPeer(peer.name))!.sealedKEK.equals(resealed(peer.sealedKEK))).toBe(true);
      expect(await store.getSession(eui(90), pruned.sessionKeyID)).toBeNull();
      // Nothing to replace: nothing replaced.
      expect(await store.resealAll(async () => null)).toBe(0);
    });

    const audit = (action: string, devEUI: EUI64 | null = null, tenantID: string | null = null): AuditEvent => ({
      at: new Date(),
      actor: `test:${tag}`,
      tenantID,
      source: '127.0.0.1',
      action,
      devEUI,
      detail: { run: tag },
    });
    const tenantOf = (base: string): TenantID => `${base}-${tag}` as TenantID;
    const change = (d: { devEUI: EUI64; version: number }, fields: Partial<DeviceChange>): DeviceChange => ({
      devEUI: d.devEUI,
      expectedVersion: d.version,
      owner: null,
      ownerTokenHash: null,
      nsPeer: null,
      asPeer: null,
      locked: false,
      claimedAt: null,
      ...fields,
    });

    test('devices/another handle\'s writes: a claim, a binding, a DevNonce reset, resealing and a deletion are seen at once', async () => {
      const other = await open();
      await store.insertDevices([newDevice(0x9001, { nsPeer: null })]);
      const read = async (): Promise<ReturnType<Store['getDevice']>> => {
        await new Promise((resolve) => setImmediate(resolve)); // the next turn of the event loop
        return store.getDevice(eui(0x9001));
      };
      const d0 = (await store.getDevice(eui(0x9001)))!;
      expect(await other.changeDevice(change(d0, { owner: OPERATOR_TENANT, nsPeer: nsName('ns-b'), claimedAt: new Date(1_700_000_000_000) }), audit('device.bind', d0.devEUI))).toBe(true);
      const d1 = (await read())!;
      expect(d1).toMatchObject({ nsPeer: nsName('ns-b'), version: d0.version + 1 });

      expect(await store.commitJoin(commit(d1.devEUI, d1.version, 11))).toBe(true);
      const joined = (await store.getDevice(d1.devEUI))!;
      expect(joined.nonces.usedDevNonces).toEqual([devNonce(1), devNonce(11)]);
      expect(joined).toEqual({ ...d1, version: d1.version + 1, nonces: joined.nonces, lastJoinAt: joined.lastJoinAt, lastJoinPeer: nsName('ns-eu'), ownership: joined.ownership });
      expect(Buffer.isBuffer(joined.sealedRootKeys)).toBe(true);
      expect((await other.resetDevNonces(d1.devEUI, audit('device.reset', d1.devEUI)))?.nonces.usedDevNonces).toEqual([]);
      expect((await read())?.nonces).toMatchObject({ usedDevNonces: [], lastJoinNonce: 11 });

      const sealed = randomBytes(47);
      await other.resealAll(async (blob, owner) => (owner.kind === 'device' && owner.devEUI === d1.devEUI ? sealed : null));
      expect((await read())?.sealedRootKeys).toEqual(sealed);

      expect(await other.deleteDevice(d1.devEUI, audit('device.delete', d1.devEUI))).toBe(true);
      expect(await read()).toBeNull();
    });

    test('devices/a join committed through another handle: this handle\'s commit at the older version fails, and the device read after it is current', async () => {
      const other = await open();
      await store.insertDevices([newDevice(0x9002)]);
      const d0 = (await store.getDevice(eui(0x9002)))!;
      expect(await other.commitJoin(commit(d0.devEUI, d0.version, 21))).toBe(true);
      expect(await store.commitJoin(commit(d0.devEUI, d0.version, 22))).toBe(false);
      const d1 = (await store.getDevice(d0.devEUI))!;
      expect(d1).toMatchObject({ version: d0.version + 1, nonces: { lastJoinNonce: 21 } });
      expect(await store.commitJoin(commit(d1.devEUI, d1.version, 23))).toBe(true);
      expect((await other.getDevice(d1.devEUI))?.nonces.lastJoinNonce).toBe(23);
    });

    test('tenants/insert (audited), get, list; a duplicate id is TenantExistsError', async () => {
      const t = { id: tenantOf('maker'), name: 'Maker Inc.', roles: ['manufacturer', 'owner'] as const, createdAt: new Date(1_700_000_000_789) };
      await store.insertTenant({ ...t, roles: [...t.roles] }, audit('tenant.add', null, t.id));
      expect(await store.getTenant(t.id)).toEqual({ ...t, roles: ['manufacturer', 'owner'] });
      expect((await store.listTenants()).map((x) => x.id)).toEqual(expect.arrayContaining([t.id, OPERATOR_TENANT]));
      expect(await store.getTenant(tenantOf('nobody'))).toBeNull();
      expect(await thrown(store.insertTenant({ ...t, roles: ['owner'] }, audit('tenant.add')))).toBeInstanceOf(TenantExistsError);
      expect((await store.listAuditEvents({ tenantID: t.id, limit: 10 })).map((e) => e.action)).toEqual(['tenant.add']);
    });

    test('tenants/the operator tenant exists from the start, with the admin role', async () => {
      expect((await store.getTenant(OPERATOR_TENANT))?.roles).toContain('admin');
    });

    test('api keys/stored hashed, listed per tenant, revoked once', async () => {
      const tenantID = tenantOf('keys');
      await store.insertTenant({ id: tenantID, name: 'k', roles: ['owner'], createdAt: new Date() }, audit('tenant.add'));
      const issued = issueApiKey(tenantID, ['devices:read', 'claims'], 'ci');
      await store.insertApiKey(issued.record, audit('api-key.add', null, tenantID));
      expect(await store.getApiKey(issued.record.id)).toEqual(issued.record);
      expect(JSON.stringify(await store.getApiKey(issued.record.id))).not.toContain(issued.key.slice('jny_0123456789abcdef_'.length));
      expect(await store.listApiKeys(tenantID)).toEqual([issued.record]);
      const at = new Date(1_700_000_500_000);
      expect(await store.revokeApiKey(issued.record.id, at, audit('api-key.revoke', null, tenantID))).toBe(true);
      expect((await store.getApiKey(issued.record.id))?.revokedAt).toEqual(at);
      expect(await store.revokeApiKey(issued.record.id, at, audit('api-key.revoke', null, tenantID))).toBe(false);
      expect((await store.listAuditEvents({ tenantID, limit: 10 })).map((e) => e.action)).toEqual(['api-key.revoke', 'api-key.add']);
    });

    test('ownership/a device without ownership is the operator\'s, claimed; a pre-provisioned one is unclaimed, unbound, with its token hash', async () => {
      const maker = tenantOf('own-maker');
      await store.insertDevices([
        newDevice(100, { nsPeer: nsName('ns-eu') }),
        newDevice(101, { nsPeer: null, ownership: { manufacturer: maker, owner: null, ownerTokenHash: 'salt:hash', profileID: 'AABB0001' } }),
      ], audit('device.import', null, maker));
      const operators = (await store.getDevice(eui(100)))!;
      expect(operators.ownership).toMatchObject({ manufacturer: OPERATOR_TENANT, owner: OPERATOR_TENANT, ownerTokenHash: null, locked: false, activatedAt: null });
      expect(operators.ownership.claimedAt).toBeInstanceOf(Date);
      expect((await store.getDevice(eui(101)))!.ownership).toEqual({
        manufacturer: maker, owner: null, ownerTokenHash: 'salt:hash', profileID: 'AABB0001', locked: false, claimedAt: null, activatedAt: null, activatedTenant: null,
      });
      expect((await store.listAuditEvents({ tenantID: maker, limit: 5 })).map((e) => e.action)).toEqual(['device.import']);
      // A device that is not claimed cannot be bound.
      expect(await thrown(store.insertDevices([newDevice(102, { nsPeer: nsName('ns-eu'), ownership: { manufacturer: maker, owner: null, ownerTokenHash: null, profileID: '00000000' } })]))).toBeInstanceOf(TypeError);
      expect(await store.getDevice(eui(102))).toBeNull();
    });

    test('ownership/changeDevice writes at the expected version only, with its audit entry; holder and claimed filters', async () => {
      const maker = tenantOf('chg-maker');
      const owner = tenantOf('chg-owner');
      await store.insertDevices([103, 104, 105].map((i) => newDevice(i, { nsPeer: null, ownership: { manufacturer: maker, owner: null, ownerTokenHash: `t${i}`, profileID: '00000000' } })));
      const d = (await store.getDevice(eui(103)))!;
      const claimedAt = new Date(1_700_000_900_000);
      expect(await store.changeDevice(change(d, { owner, ownerTokenHash: 'new', nsPeer: nsName('ns-eu'), asPeer: nsName('my-as'), locked: true, claimedAt }), audit('device.claim', d.devEUI, owner))).toBe(true);
      // A stale version writes nothing, and audits nothing.
      expect(await store.changeDevice(change(d, { owner: maker }), audit('device.stale', d.devEUI, owner))).toBe(false);
      expect(await store.changeDevice(change({ devEUI: eui(199), version: 0 }, {}), audit('device.none', eui(199), owner))).toBe(false);
      const after = (await store.getDevice(eui(103)))!;
      expect(after).toMatchObject({ version: d.version + 1, nsPeer: nsName('ns-eu'), asPeer: nsName('my-as') });
      expect(after.ownership).toMatchObject({ owner, ownerTokenHash: 'new', locked: true, claimedAt, manufacturer: maker });
      expect((await store.listAuditEvents({ devEUI: d.devEUI, limit: 5 })).map((e) => e.action)).toEqual(['device.claim']);

      const held = async (t: TenantID, claimed?: boolean): Promise<EUI64[]> =>
        (await store.listDevices({ limit: 100, offset: 0, holder: t, ...(claimed === undefined ? {} : { claimed }) })).map((x) => x.devEUI);
      expect(await held(owner)).toEqual([eui(103)]);
      expect(await held(maker)).toEqual([eui(104), eui(105)]);
      expect(await held(maker, true)).toEqual([]);
      expect(await store.countDevices({ holder: maker })).toBe(2);
      expect(await store.countDevices({ holder: owner, claimed: true })).toBe(1);
      expect(await store.countDevices({ holder: owner, nsPeer: nsName('ns-eu') })).toBe(1);
    });

    test('ownership/deleteDevice deletes with its audit entry; false for none', async () => {
      await store.insertDevices([newDevice(106)]);
      await store.addSession(session(eui(106), 1), 10);
      expect(await store.deleteDevice(eui(106), audit('device.delete', eui(106)))).toBe(true);
      expect(await store.getDevice(eui(106))).toBeNull();
      expect(await store.deleteDevice(eui(106), audit('device.delete.again', eui(106)))).toBe(false);
      expect((await store.listAuditEvents({ devEUI: eui(106), limit: 5 })).map((e) => e.action)).toEqual(['device.delete']);
    });

    test('deleteDevice leaves the nonce state behind: the same DevEUI and JoinEUI imported again continues from it, another JoinEUI starts afresh', async () => {
      const other = await open();
      const joinEUI = parseEUI64('70b3d57ed0000000');
      const otherJoinEUI = parseEUI64('70b3d57ed0000001');
      const ids = [0x9100, 0x9101, 0x9102, 0x9103];
      await store.insertDevices(ids.map((i) => newDevice(i, { joinEUI })));
      const full = (n: number): JoinCommit => ({ ...commit(eui(0), 0, n), nonces: { lastDevNonce: devNonce(n), usedDevNonces: [devNonce(3), devNonce(n)], lastJoinNonce: joinNonce(1000 + n), lastRJCount1: 7 + n, lastRJCount0: 3 + n, rejoinWindow: { start: new Date(1_700_000_000_000 + n * 1000), count: 2 } } });
      for (const i of ids) expect(await store.commitJoin({ ...full(i % 256), devEUI: eui(i) })).toBe(true);
      const before = new Map<number, unknown>();
      for (const i of ids) {
        before.set(i, (await store.getDevice(eui(i)))!.nonces);
        expect(await store.deleteDevice(eui(i), audit('device.delete', eui(i)))).toBe(true);
      }

      // One by one, through another handle on the database, and in chunks: each takes its state back.
      await other.insertDevices([newDevice(0x9100, { joinEUI })]);
      expect((await store.getDevice(eui(0x9100)))!.nonces).toEqual(before.get(0x9100));
      expect(await store.insertDeviceChunks(chunks([[newDevice(0x9101, { joinEUI }), newDevice(0x9104, { joinEUI })], [newDevice(0x9103, { joinEUI: otherJoinEUI })]]))).toBe(3);
      expect((await store.getDevice(eui(0x9101)))!.nonces).toEqual(before.get(0x9101));
      // Never deleted: fresh. Another JoinEUI: another identity, fresh.
      expect((await store.getDevice(eui(0x9104)))!.nonces).toEqual(EMPTY_NONCE_STATE);
      expect((await store.getDevice(eui(0x9103)))!.nonces).toEqual(EMPTY_NONCE_STATE);
      // The state left by the JoinEUI it had is still there for it.
      expect(await store.deleteDevice(eui(0x9103), audit('device.delete', eui(0x9103)))).toBe(true);
      await store.insertDevices([newDevice(0x9103, { joinEUI })]);
      expect((await store.getDevice(eui(0x9103)))!.nonces).toEqual(before.get(0x9103));

      // Deleted again after more joins: the newer state is what stays behind.
      const d = (await store.getDevice(eui(0x9100)))!;
      const later = { ...full(200), devEUI: d.devEUI, expectedVersion: d.version };
      expect(await store.commitJoin(later)).toBe(true);
      expect(await other.deleteDevice(d.devEUI, audit('device.delete', d.devEUI))).toBe(true);
      await store.insertDevices([newDevice(0x9100, { joinEUI })]);
      expect((await store.getDevice(d.devEUI))!.nonces).toEqual(later.nonces);
      // An insert that fails (a DevEUI that exists) takes nothing: the state is still left for the next.
      expect(await thrown(store.insertDevices([newDevice(0x9102, { joinEUI }), newDevice(0x9100, { joinEUI })]))).toBeInstanceOf(DeviceExistsError);
      expect(await store.getDevice(eui(0x9102))).toBeNull();
      await store.insertDevices([newDevice(0x9102, { joinEUI })]);
      expect((await store.getDevice(eui(0x9102)))!.nonces).toEqual(before.get(0x9102));
    });

    test('rate buckets/200 concurrent takes through two handles: exactly the burst taken; all or nothing over several buckets; refunds; refill', async () => {
      const other = await open();
      const t0 = 1_900_000_000_000;
      const bucket = (name: string, burst: number, refillMs = 3_600_000) => ({ key: `test:${tag}:${name}`, burst, refillMs });
      const a = bucket('a', 5);
      const b = bucket('b', 50);
      const takes = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? store : other).takeRateBuckets([a, b], t0)));
      expect(takes.filter((t) => t.taken)).toHaveLength(5);
      const refused = takes.find((t) => !t.taken);
      expect(refused).toEqual({ taken: false, waitMs: 3_600_000 });
      // A refused take took nothing from b: b has 45 left, a none.
      const c = bucket('c', 45);
      expect(await store.takeRateBuckets([b, c], t0)).toEqual({ taken: true });
      for (let i = 0; i < 43; i++) expect((await other.takeRateBuckets([b], t0)).taken).toBe(true);
      expect(await store.takeRateBuckets([b], t0)).toEqual({ taken: true });
      expect((await store.takeRateBuckets([b], t0)).taken).toBe(false);
      // A refund gives one back (never above the burst).
      await store.refundRateBuckets([a], t0);
      expect((await other.takeRateBuckets([a], t0)).taken).toBe(true);
      expect((await other.takeRateBuckets([a], t0)).taken).toBe(false);
      await store.refundRateBuckets([c], t0);
      await store.refundRateBuckets([c], t0);
      let taken = 0;
      for (let i = 0; i < 46; i++) if ((await store.takeRateBuckets([c], t0)).taken) taken++;
      expect(taken).toBe(45);
      // Refill: a quarter of an hour gives a quarter of a token (wait 45 min), an hour one.
      expect(await store.takeRateBuckets([a], t0 + 900_000)).toEqual({ taken: false, waitMs: 2_700_000 });
      expect(await store.takeRateBuckets([a], t0 + 3_600_000)).toEqual({ taken: true });
      // A clock behind the row's takes nothing and gives nothing.
      expect((await store.takeRateBuckets([a], t0)).taken).toBe(false);
      // Naming one bucket twice is a programming error.
      await expect(store.takeRateBuckets([a, a], t0)).rejects.toThrow(TypeError);
    });

    test('usage/the first accepted join activates a device, charged to its owner then; later joins change nothing', async () => {
      const owner = tenantOf('usage');
      await store.insertDevices([newDevice(107, { nsPeer: null, ownership: { manufacturer: owner, owner, ownerTokenHash: null, profileID: '00000000' } }), newDevice(108)]);
      const first = new Date(1_800_000_000_000);
      expect(await store.commitJoin({ ...commit(eui(107), 0, 1), joinedAt: first })).toBe(true);
      expect(await store.commitJoin({ ...commit(eui(107), 1, 2), joinedAt: new Date(1_800_000_500_000) })).toBe(true);
      const d = (await store.getDevice(eui(107)))!;
      expect(d.ownership.activatedAt).toEqual(first);
      expect(d.ownership.activatedTenant).toBe(owner);
      expect(await store.listFirstJoins({ tenantID: owner, since: new Date(0) })).toEqual([{ devEUI: eui(107), joinEUI: d.joinEUI, tenantID: owner, activatedAt: first }]);
      expect(await store.listFirstJoins({ tenantID: owner, since: new Date(first.getTime() + 1) })).toEqual([]);
      expect(await store.listFirstJoins({ tenantID: owner, since: new Date(0), until: first })).toEqual([]);
      expect((await store.getDevice(eui(108)))!.ownership.activatedAt).toBeNull();
    });

    test('audit/every entry is chained to the one before it; the whole chain verifies', async () => {
      await store.appendAudit(audit('test.one'));
      await Promise.all([1, 2, 3, 4, 5].map((i) => store.appendAudit(audit(`test.concurrent.${i}`))));
      const chain = await store.readAuditChain(0, 1_000_000);
      expect(chain.length).toBeGreaterThanOrEqual(6);
      chain.forEach((r, i) => {
        expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
        if (i > 0) expect(r.prevHash).toBe(chain[i - 1]!.hash);
      });
      expect(await verifyAuditChain((after, limit) => store.readAuditChain(after, limit), 7)).toEqual({ ok: true, entries: chain.length });
    });

    test('durability/everything survives close and reopen; close is idempotent', async () => {
      const first = await openStore();
      await first.insertDevices([newDevice(71), newDevice(72)]);
      expect(await first.commitJoin(commit(eui(71), 0, 5))).toBe(true);
      const s = session(eui(71), 5);
      await first.addSession(s, 10);
      const ns = nsPeer('durable');
      await first.insertPeer(ns);
      const count = await first.countDevices();
      await first.close();
      await first.close();

      const second = await open();
      await second.ping();
      expect(await second.countDevices()).toBe(count);
      expect(await second.getDevice(eui(71))).toMatchObject({ version: 1, nonces: { lastJoinNonce: 5 }, lastJoinPeer: nsName('ns-eu') });
      expect(await second.getDevice(eui(72))).toMatchObject({ version: 0 });
      expect(await second.getSession(eui(71), s.sessionKeyID)).toEqual(s);
      expect(await second.getPeer(ns.name)).toEqual(ns);
      expect(await ownDevices(second)).toContain(eui(71));
    });

    test('store settings: the last value written, seen by another handle', async () => {
      const other = await open();
      expect(await other.getSetting('master-key-check')).not.toBe(`v1:${tag}-2`);
      await store.putSetting('master-key-check', `v1:${tag}`);
      await store.putSetting('master-key-check', `v1:${tag}-2`);
      expect(await other.getSetting('master-key-check')).toBe(`v1:${tag}-2`);
      // If absent only: the value there stays, and is what the call returns.
      expect(await other.putSettingIfAbsent('master-key-check', `v1:${tag}-3`)).toBe(`v1:${tag}-2`);
      expect(await store.getSetting('master-key-check')).toBe(`v1:${tag}-2`);
    });

    test('sealedCanary: the sealed root keys of a device of that vault kind, else a peer\'s KEK', async () => {
      const kind = `canary-${tag}`;
      const fallback = await store.sealedCanary(kind);
      if (fallback !== null) expect(fallback.kind).toBe('peer');
      const d = newDevice(0x7a090, { vaultKind: kind }); // not 90: the reseal test's
      await store.insertDevices([d]);
      expect(await store.sealedCanary(kind)).toEqual({ kind: 'device', devEUI: d.devEUI, sealed: d.sealedRootKeys });
    });

    describe('join history', () => {
      function joinRecord(devEUI: EUI64, n: number, overrides: Partial<JoinRecord> = {}): JoinRecord {
        return {
          devEUI,
          joinEUI: parseEUI64('70b3d57ed0000000'),
          at: new Date(1_700_000_000_000 + n * 1000),
          peer: nsName('ns-eu'),
          joinType: 'join',
          macVersion: '1.0.3',
          result: n % 2 === 0 ? 'Success' : 'JoinReqFailed',
          description: n % 2 === 0 ? null : `DevNonce ${n} already used`,
          devNonce: n,
          joinNonce: n % 2 === 0 ? n : null,
          ...overrides,
        };
      }

      test("a peer's join results since a time, by result code", async () => {
        await store.insertDevices([newDevice(0x7a101), newDevice(0x7a102)]);
        const peer = nsName('results');
        await store.appendJoinRecords(
          [
            joinRecord(eui(0x7a101), 10, { peer, result: 'Success' }),
            joinRecord(eui(0x7a101), 20, { peer, result: 'MICFailed' }),
            joinRecord(eui(0x7a102), 30, { peer, result: 'Success' }),
            joinRecord(eui(0x7a102), 40, { peer: nsName('results-other'), result: 'Success' }),
            joinRecord(eui(0x7a102), 1, { peer, result: 'JoinReqFailed' }), // before `since`
          ],
          10,
        );
        expect(await store.peerJoinResults(peer, new Date(1_700_000_000_000 + 10 * 1000))).toEqual({ MICFailed: 1, Success: 2 });
        expect(await store.peerJoinResults(nsName('nobody'), new Date(0))).toEqual({});
      });

      test('appends records of known devices only, lists them newest first, keeps the newest `keep` per device', async () => {
        await store.insertDevices([newDevice(0x7001), newDevice(0x7002)]);
        const unknown = eui(0x70ff);
        const stored = await store.appendJoinRecords([joinRecord(eui(0x7001), 1), joinRecord(unknown, 2), joinRecord(eui(0x7002), 3, { joinType: 'rejoin-1', macVersion: '1.1' })], 3);
        expect(stored).toBe(2);
        expect(await store.listJoinRecords(unknown, 10)).toEqual([]);
        expect(await store.listJoinRecords(eui(0x7002), 10)).toEqual([joinRecord(eui(0x7002), 3, { joinType: 'rejoin-1', macVersion: '1.1' })]);

        // Two more batches (one through a second handle): the device keeps its newest 3.
        await store.appendJoinRecords([2, 3].map((n) => joinRecord(eui(0x7001), n)), 3);
        const other = await open();
        await other.appendJoinRecords([4, 5].map((n) => joinRecord(eui(0x7001), n)), 3);
        const history = await store.listJoinRecords(eui(0x7001), 10);
        expect(history.map((r) => r.devNonce)).toEqual([5, 4, 3]);
        expect(history[1]).toEqual(joinRecord(eui(0x7001), 4));
        expect((await store.listJoinRecords(eui(0x7001), 2)).map((r) => r.devNonce)).toEqual([5, 4]);
        // The other device's history is untouched by the first one's pruning.
        expect(await store.listJoinRecords(eui(0x7002), 10)).toHaveLength(1);
        expect(await store.appendJoinRecords([], 3)).toBe(0);
        await expect(store.appendJoinRecords([joinRecord(eui(0x7001), 6)], 0)).rejects.toThrow(RangeError);
      });

      test('a deleted device takes its join history with it', async () => {
        await store.insertDevices([newDevice(0x7003)]);
        await store.appendJoinRecords([joinRecord(eui(0x7003), 1)], 5);
        expect(await store.deleteDevice(eui(0x7003), { at: new Date(), actor: `test-${tag}`, tenantID: null, source: null, action: 'device.delete', devEUI: eui(0x7003), detail: { run: tag } })).toBe(true);
        await store.insertDevices([newDevice(0x7003)]);
        expect(await store.listJoinRecords(eui(0x7003), 5)).toEqual([]);
      });
    });

    test('devices/search by DevEUI or JoinEUI prefix, with owner, paging and count', async () => {
      const joinEUI = parseEUI64(`${run}ee000000`);
      const made = [0x7101, 0x7102, 0x7103, 0x7201].map((i) => newDevice(i, { nsPeer: null }));
      const withJoinEUI = [0x7301, 0x7302].map((i) => newDevice(i, { joinEUI, nsPeer: null }));
      await store.insertDevices([...made, ...withJoinEUI]);
      const prefix = `${run}000071`; // DevEUIs 0x71xx of this run
      const byDevEUI = await store.listDevices({ euiPrefix: prefix, limit: 10, offset: 0 });
      expect(byDevEUI.map((d) => d.devEUI)).toEqual([eui(0x7101), eui(0x7102), eui(0x7103)]);
      expect(await store.countDevices({ euiPrefix: prefix })).toBe(3);
      expect((await store.listDevices({ euiPrefix: prefix.toUpperCase(), limit: 2, offset: 1 })).map((d) => d.devEUI)).toEqual([eui(0x7102), eui(0x7103)]);
      // A JoinEUI prefix finds the devices of that JoinEUI (and a DevEUI prefix that is also one: none here).
      expect((await store.listDevices({ euiPrefix: `${run}ee`, limit: 10, offset: 0 })).map((d) => d.devEUI)).toEqual([eui(0x7301), eui(0x7302)]);
      expect(await store.countDevices({ euiPrefix: joinEUI })).toBe(2);
      expect(await store.countDevices({ euiPrefix: `${run}ff` })).toBe(0);
      // With the owner filter: these are the operator's (imported without ownership).
      expect(await store.countDevices({ euiPrefix: prefix, owner: OPERATOR_TENANT })).toBe(3);
      expect(await store.countDevices({ euiPrefix: prefix, owner: 'nobody' as TenantID })).toBe(0);
      await expect(store.countDevices({ euiPrefix: "1' OR 1=1 --" })).rejects.toThrow();
    });

    describe('fleet migrations', () => {
      const source = nsName('mig-src');
      const target = nsName('mig-dst');
      const migration = (id: string, over: Partial<FleetMigration> = {}): FleetMigration => ({
        id,
        sourcePeer: source,
        targetPeer: target,
        strategy: 'overlap',
        selection: { kind: 'all' },
        limits: { chirpstack: { ratePerSecond: 5, concurrency: 2 } },
        deadline: new Date(1_900_000_000_000),
        rollbackAtDeadline: true,
        maxAttempts: 3,
        status: 'running',
        createdAt: new Date(1_800_000_000_000),
        createdBy: 'test',
        finishedAt: null,
        ...over,
      });
      const audit = (action: string, devEUI: EUI64 | null = null): AuditEvent => ({ at: new Date(), actor: `test-${tag}`, tenantID: null, source: null, action, devEUI, detail: { run: tag } });
      const id = (n: number): string => `mig-${run}000${n}`.slice(0, 16).padEnd(16, '0');
      const overlap = { nsPeer: source, overlapNsPeer: target };
      const alone = (nsPeer: string) => ({ nsPeer, overlapNsPeer: null });

      test('migrations/create with its journal and audit entry, read back, list, count, page, status', async () => {
        await store.insertDevices([200, 201, 202].map((i) => newDevice(i, { nsPeer: source })));
        const m = migration(id(1));
        await store.insertFleetMigration(m, [eui(202), eui(200), eui(201), eui(200)], audit('migration.created'));
        expect(await store.getFleetMigration(m.id)).toEqual(m);
        expect((await store.listFleetMigrations(1000)).map((x) => x.id)).toContain(m.id);
        expect(await store.countMigrationEntries(m.id)).toEqual({ planned: 3 });
        const first = await store.listMigrationEntries(m.id, { limit: 2 });
        expect(first.map((e) => e.devEUI)).toEqual([eui(200), eui(201)]);
        expect(first[0]).toMatchObject({ migrationID: m.id, state: 'planned', attempts: 0, failedStep: null, lastError: null, reboundAt: null, joinedAt: null });
        expect((await store.listMigrationEntries(m.id, { limit: 10, afterDevEUI: eui(201) })).map((e) => e.devEUI)).toEqual([eui(202)]);
        expect(await store.listMigrationEntries(m.id, { limit: 10, states: ['parked'] })).toEqual([]);
        expect((await store.listAuditEvents({ limit: 50 })).some((a) => a.action === 'migration.created' && a.detail['run'] === tag)).toBe(true);
        expect(await store.setFleetMigrationStatus(m.id, 'finished', audit('migration.finished'))).toBe(true);
        const finished = await store.getFleetMigration(m.id);
        expect(finished).toMatchObject({ status: 'finished' });
        expect(finished!.finishedAt).toBeInstanceOf(Date);
        expect(await store.setFleetMigrationStatus(`mig-${run}ffff`, 'finished', audit('x'))).toBe(false);
        expect(await store.getFleetMigration(`mig-${run}ffff`)).toBeNull();
      });

      test('migrations/a device still in one migration cannot enter another (nothing written); a done one can', async () => {
        await store.insertDevices([210, 211].map((i) => newDevice(i, { nsPeer: source })));
        await store.insertFleetMigration(migration(id(2)), [eui(210)], audit('migration.created'));
        const err = await thrown(store.insertFleetMigration(migration(id(3)), [eui(211), eui(210)], audit('migration.created')));
        expect(err).toBeInstanceOf(MigrationConflictError);
        expect(err).toMatchObject({ devEUI: eui(210), otherMigrationID: id(2) });
        expect(await store.getFleetMigration(id(3))).toBeNull();
        expect(await store.advanceMigrationEntry(id(2), eui(210), 'planned', { state: 'done' })).toBe(true);
        await store.insertFleetMigration(migration(id(3)), [eui(211), eui(210)], audit('migration.created'));
        expect(await store.countMigrationEntries(id(3))).toEqual({ planned: 2 });
      });

      test('migrations/journal transitions are conditional: a replayed step writes nothing', async () => {
        await store.insertDevices([newDevice(220, { nsPeer: source })]);
        await store.insertFleetMigration(migration(id(4)), [eui(220)], audit('migration.created'));
        expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'planned', attempts: 1, lastError: 'UNAVAILABLE' })).toBe(true);
        expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'registered', attempts: 0, lastError: null })).toBe(true);
        // The same step again (a run killed after its write, resumed): nothing happens.
        expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'registered', attempts: 0 })).toBe(false);
        expect(await store.advanceMigrationEntry(id(4), eui(221), 'planned', { state: 'registered' })).toBe(false);
        const [e] = await store.listMigrationEntries(id(4), { limit: 1 });
        expect(e).toMatchObject({ state: 'registered', attempts: 0, lastError: null });
        expect(await store.advanceMigrationEntry(id(4), eui(220), 'registered', { state: 'parked', failedStep: 'registered', lastError: 'x', attempts: 3 })).toBe(true);
        expect((await store.listMigrationEntries(id(4), { limit: 1, states: ['parked'] }))[0]).toMatchObject({ state: 'parked', failedStep: 'registered', lastError: 'x', attempts: 3 });
      });

      test('migrations/rebinding moves binding and journal together, once; a changed binding writes nothing', async () => {
        await store.insertDevices([230, 231].map((i) => newDevice(i, { nsPeer: source })));
        await store.insertFleetMigration(migration(id(5)), [eui(230), eui(231)], audit('migration.created'));
        for (const i of [230, 231]) expect(await store.advanceMigrationEntry(id(5), eui(i), 'planned', { state: 'registered' })).toBe(true);
        const reboundAt = new Date(Date.now() - 60_000);
        const rebinding = { migrationID: id(5), devEUI: eui(230), from: 'registered' as const, change: { state: 'rebound' as const, reboundAt }, bindingFrom: [alone(source)], bindingTo: overlap, audit: audit('device.rebound', eui(230)) };
        expect(await store.rebindMigratingDevice(rebinding)).toBe('rebound');
        const d = await store.getDevice(eui(230));
        expect(d).toMatchObject({ nsPeer: source, overlapNsPeer: target, version: 1 });
        expect((await store.listMigrationEntries(id(5), { limit: 1 }))[0]).toMatchObject({ state: 'rebound', reboundAt });
        // Replayed: the journal moved on, so nothing is written (no second audit entry either).
        expect(await store.rebindMigratingDevice(rebinding)).toBe('already');
        expect((await store.getDevice(eui(230)))!.version).toBe(1);
        expect((await store.listAuditEvents({ devEUI: eui(230), limit: 10 })).filter((a) => a.action === 'device.rebound')).toHaveLength(1);
        // Someone else rebound 231 meanwhile: neither the journal nor the binding changes.
        expect(await store.rebindMigratingDevice({ ...rebinding, devEUI: eui(231), bindingFrom: [alone(nsName('elsewhere'))], audit: audit('device.rebound', eui(231)) })).toBe('binding-changed');
        expect(await store.getDevice(eui(231))).toMatchObject({ nsPeer: source, overlapNsPeer: null, version: 0 });
        expect((await store.listMigrationEntries(id(5), { limit: 1, afterDevEUI: eui(230) }))[0]).toMatchObject({ state: 'registered' });
        expect(await store.listAuditEvents({ devEUI: eui(231), limit: 10 })).toEqual([]);
      });

      test('migrations/arrivals: a join through the target after the rebinding, and only that', async () => {
        await store.insertDevices([240, 241, 242].map((i) => newDevice(i, { nsPeer: source })));
        await store.insertFleetMigration(migration(id(6)), [eui(240), eui(241), eui(242)], audit('migration.created'));
        const reboundAt = new Date(Date.now() - 10_000);
        for (const i of [240, 241, 242]) {
          await store.advanceMigrationEntry(id(6), eui(i), 'planned', { state: 'registered' });
          expect(await store.rebindMigratingDevice({ migrationID: id(6), devEUI: eui(i), from: 'registered', change: { state: 'rebound', reboundAt }, bindingFrom: [alone(source)], bindingTo: overlap, audit: audit('device.rebound', eui(i)) })).toBe('rebound');
        }
        const join = (i: number, peer: string, at: Date): JoinCommit => ({ ...commit(eui(i), 1, 7), peer, joinedAt: at });
        expect(await store.commitJoin(join(240, target, new Date()))).toBe(true);
        expect(await store.commitJoin(join(241, source, new Date()))).toBe(true); // through the source: not an arrival
        expect(await store.commitJoin(join(242, target, new Date(reboundAt.getTime() - 5000)))).toBe(true); // before the rebinding
        const arrivals = await store.listMigrationArrivals(id(6), target, 100);
        expect(arrivals.map((a) => a.devEUI)).toEqual([eui(240)]);
        expect(arrivals[0]!.joinedAt).toBeInstanceOf(Date);
        expect(await store.rebindMigratingDevice({ migrationID: id(6), devEUI: eui(240), from: 'rebound', change: { state: 'joined', joinedAt: arrivals[0]!.joinedAt }, bindingFrom: [overlap], bindingTo: alone(target), audit: audit('device.rebound', eui(240)) })).toBe('rebound');
        expect(await store.getDevice(eui(240))).toMatchObject({ nsPeer: target, overlapNsPeer: null });
        expect(await store.listMigrationArrivals(id(6), target, 100)).toEqual([]);
      });

      test('migrations/resume from another handle: the journal is the only state', async () => {
        await store.insertDevices([newDevice(250, { nsPeer: source })]);
        await store.insertFleetMigration(migration(id(7), { strategy: 'cutover', deadline: null, rollbackAtDeadline: false }), [eui(250)], audit('migration.created'));
        await store.advanceMigrationEntry(id(7), eui(250), 'planned', { state: 'registered' });
        const other = await open();
        expect(await other.getFleetMigration(id(7))).toMatchObject({ strategy: 'cutover', deadline: null, selection: { kind: 'all' } });
        expect((await other.listMigrationEntries(id(7), { limit: 1 }))[0]).toMatchObject({ state: 'registered' });
        // Two runners racing on one step: exactly one wins.
        const results = await Promise.all([store, other, store, other].map((s) => s.advanceMigrationEntry(id(7), eui(250), 'registered', { state: 'rebound' })));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}

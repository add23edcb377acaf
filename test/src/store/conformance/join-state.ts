import { type Store } from '@joinery/core';
import { devNonce, joinNonce, MAX_DEV_NONCE, MAX_JOIN_NONCE } from '../../../../core/src/lorawan/nonces';
import { nextJoinNonce } from '../../../../core/src/join/next-join-nonce';
import type { StoreConformance } from './conformance-context';

/** The join's state: the nonce state, the conditional commit (alone, concurrent, across handles), sessions. */
export function joinStateConformance(c: StoreConformance): void {
  const { open, eui, nsName, newDevice, commit, session } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
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
        recordsActivation: true,
      }),
    ).toBe(true);
    const d = (await store.getDevice(eui(31)))!;
    expect(d.nonces).toEqual({ lastDevNonce: MAX_DEV_NONCE, usedDevNonces: used, lastJoinNonce: 0, lastRJCount1: 65535, lastRJCount0: 65535, rejoinWindow });
    // RJcount0 0 is a value, not "none".
    expect(await store.commitJoin({ devEUI: eui(31), expectedVersion: 1, nonces: { ...d.nonces, lastRJCount0: 0 }, joinedAt, peer: nsName('ns-eu'), recordsActivation: false })).toBe(true);
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
        recordsActivation: false,
      }),
    ).toBe(true);
    expect((await store.getDevice(eui(31)))!).toMatchObject({
      nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: 1, lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
      lastJoinPeer: nsName('ns-other'),
      version: 3,
    });
  });

  test('activation/the first accepted join records it, charged to the owner; later joins leave it as it was', async () => {
    await store.insertDevices([newDevice(35)]);
    const first = { ...commit(eui(35), 0, 1), recordsActivation: true };
    expect(await store.commitJoin(first)).toBe(true);
    const activated = (await store.getDevice(eui(35)))!;
    expect(activated.ownership.activatedAt).toEqual(first.joinedAt);
    expect(activated.ownership.activatedTenant).toBe(activated.ownership.owner);
    expect(activated.ownership.activatedTenant).not.toBeNull();

    // A later join (its device read with the activation recorded) writes its nonces and its time alone.
    const later = { ...commit(eui(35), 1, 2), recordsActivation: false };
    expect(await store.commitJoin(later)).toBe(true);
    for (const reader of [store, await open()]) {
      const d = (await reader.getDevice(eui(35)))!;
      expect(d).toMatchObject({ version: 2, lastJoinAt: later.joinedAt, nonces: later.nonces });
      expect(d.ownership).toEqual(activated.ownership);
    }
    expect((await store.listFirstJoins({ since: new Date(0) })).filter((j) => j.devEUI === eui(35))).toEqual([
      { devEUI: eui(35), joinEUI: activated.joinEUI, tenantID: activated.ownership.owner, activatedAt: first.joinedAt },
    ]);
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

  test("devices/a join committed through another handle: this handle's commit at the older version fails, and the device read after it is current", async () => {
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
}

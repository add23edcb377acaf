import { randomBytes } from 'node:crypto';
import { DeviceExistsError, StoreError, type EUI64, type JoinCommit, type NewDevice, type Store } from '@joinery/core';
import { parseEUI64 } from '../../../../core/src/lorawan/identifiers';
import { devNonce, joinNonce } from '../../../../core/src/lorawan/nonces';
import { OPERATOR_TENANT, type TenantID } from '../../../../core/src/tenants/tenant';
import { EMPTY_NONCE_STATE } from '../../../../core/src/store/device';
import type { StoreConformance } from './conformance-context';

/** The device registry: imports, lists and filters, ownership and bindings, deletion, DevNonce resets, first joins. */
export function deviceRegistryConformance(c: StoreConformance): void {
  const { open, run, eui, nsName, newDevice, commit, session, chunks, thrown, audit, tenantOf, change } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

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
    // The same refusal from either store: one StoreError kind.
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).kind).toBe('device-exists');
    expect((err as DeviceExistsError).devEUI).toBe(eui(11));
    expect((err as Error).message).toContain(eui(11));
    expect(await store.countDevices()).toBe(count0);
    for (const i of [12, 13, 14]) expect(await store.getDevice(eui(i))).toBeNull();
  });

  test("devices/existingDevEUIs: which of many DevEUIs are devices, in one call (more than a statement's parameters)", async () => {
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

  test('nonces/devices counted by their last JoinNonce above a threshold (the exhaustion gauge), with other filters', async () => {
    const threshold = 15_000_000;
    const above = () => store.countDevices({ euiPrefix: run, joinNonceAbove: threshold });
    const count0 = await above();
    await store.insertDevices([0x7401, 0x7402, 0x7403, 0x7404].map((i) => newDevice(i)));
    expect(await above()).toBe(count0); // never joined: no JoinNonce
    for (const [i, n] of [
      [0x7401, threshold],
      [0x7402, threshold + 1],
      [0x7403, 0xffffff],
      [0x7404, 5],
    ] as const) {
      expect(await store.commitJoin(commit(eui(i), 0, n))).toBe(true);
    }
    expect(await above()).toBe(count0 + 2);
    expect(await store.countDevices({ euiPrefix: `${run}000074`, joinNonceAbove: threshold })).toBe(2);
    expect(await store.countDevices({ euiPrefix: `${run}000074`, joinNonceAbove: 0 })).toBe(4);
  });

  test('devices/DevNonce reset: used DevNonces forgotten, JoinNonce and RJcount1 kept, audited in the same write', async () => {
    await store.insertDevices([newDevice(81)]);
    expect(
      await store.commitJoin({
        ...commit(eui(81), 0, 9),
        nonces: { lastDevNonce: devNonce(40), usedDevNonces: [devNonce(7), devNonce(40)], lastJoinNonce: joinNonce(9), lastRJCount1: 3, lastRJCount0: 5, rejoinWindow: { start: new Date(1_700_000_000_000), count: 2 } },
      }),
    ).toBe(true);
    const at = new Date(1_700_000_100_000);
    const reset = await store.resetDevNonces(eui(81), {
      at,
      actor: 'cli:test',
      tenantID: 'operator',
      source: 'cli@host',
      action: 'device.dev-nonce.reset',
      devEUI: eui(81),
      detail: { lastDevNonce: 40, reason: 'stuck' },
    });
    expect(reset?.nonces).toEqual({ lastDevNonce: null, usedDevNonces: [], lastJoinNonce: 9, lastRJCount1: 3, lastRJCount0: 5, rejoinWindow: { start: new Date(1_700_000_000_000), count: 2 } });
    expect(reset?.version).toBe(2);
    const events = await store.listAuditEvents({ devEUI: eui(81), limit: 10 });
    expect(events).toEqual([{ at, actor: 'cli:test', tenantID: 'operator', source: 'cli@host', action: 'device.dev-nonce.reset', devEUI: eui(81), detail: { lastDevNonce: 40, reason: 'stuck' } }]);
    expect((await store.listAuditEvents({ limit: 1000 })).some((e) => e.devEUI === eui(81))).toBe(true);
    // An unknown device: nothing reset, nothing audited.
    expect(await store.resetDevNonces(eui(82), { at, actor: 'cli:test', tenantID: null, source: null, action: 'device.dev-nonce.reset', devEUI: eui(82), detail: {} })).toBeNull();
    expect(await store.listAuditEvents({ devEUI: eui(82), limit: 10 })).toEqual([]);
  });

  test("devices/another handle's writes: a claim, a binding, a DevNonce reset, resealing and a deletion are seen by the join from the next turn", async () => {
    const other = await open();
    await store.insertDevices([newDevice(0x9001, { nsPeer: null })]);
    // The join's read, which a store may answer from memory (join-device-cache.ts).
    const read = async (): Promise<ReturnType<Store['deviceForJoin']>> => {
      await new Promise((resolve) => setImmediate(resolve)); // the next turn of the event loop
      return store.deviceForJoin(eui(0x9001));
    };
    const d0 = (await store.deviceForJoin(eui(0x9001)))!;
    expect(await other.changeDevice(change(d0, { owner: OPERATOR_TENANT, nsPeer: nsName('ns-b'), claimedAt: new Date(1_700_000_000_000) }), audit('device.bind', d0.devEUI))).toBe(true);
    const d1 = (await read())!;
    expect(d1).toMatchObject({ nsPeer: nsName('ns-b'), version: d0.version + 1 });

    expect(await store.commitJoin(commit(d1.devEUI, d1.version, 11))).toBe(true);
    const joined = (await store.getDevice(d1.devEUI))!;
    expect(joined.nonces.usedDevNonces).toEqual([devNonce(1), devNonce(11)]);
    expect(joined).toEqual({ ...d1, version: d1.version + 1, nonces: joined.nonces, lastJoinAt: joined.lastJoinAt, lastJoinPeer: nsName('ns-eu'), ownership: joined.ownership });
    expect(Buffer.isBuffer(joined.sealedRootKeys)).toBe(true);
    // What the join reads next is what the commit wrote (a kept copy is kept as committed), the first join included.
    expect(await store.deviceForJoin(d1.devEUI)).toEqual(joined);
    expect(await read()).toEqual(joined);
    expect(joined.ownership).toMatchObject({ activatedAt: joined.lastJoinAt, activatedTenant: OPERATOR_TENANT });
    expect((await other.resetDevNonces(d1.devEUI, audit('device.reset', d1.devEUI)))?.nonces.usedDevNonces).toEqual([]);
    expect((await read())?.nonces).toMatchObject({ usedDevNonces: [], lastJoinNonce: 11 });

    const sealed = randomBytes(47);
    await other.resealAll(async (blob, owner) => (owner.kind === 'device' && owner.devEUI === d1.devEUI ? sealed : null));
    expect((await read())?.sealedRootKeys).toEqual(sealed);

    expect(await other.deleteDevice(d1.devEUI, audit('device.delete', d1.devEUI))).toBe(true);
    expect(await read()).toBeNull();
  });

  test("ownership/a device without ownership is the operator's, claimed; a pre-provisioned one is unclaimed, unbound, with its token hash", async () => {
    const maker = tenantOf('own-maker');
    await store.insertDevices(
      [newDevice(100, { nsPeer: nsName('ns-eu') }), newDevice(101, { nsPeer: null, ownership: { manufacturer: maker, owner: null, ownerTokenHash: 'salt:hash', profileID: 'AABB0001' } })],
      audit('device.import', null, maker),
    );
    const operators = (await store.getDevice(eui(100)))!;
    expect(operators.ownership).toMatchObject({ manufacturer: OPERATOR_TENANT, owner: OPERATOR_TENANT, ownerTokenHash: null, locked: false, activatedAt: null });
    expect(operators.ownership.claimedAt).toBeInstanceOf(Date);
    expect((await store.getDevice(eui(101)))!.ownership).toEqual({
      manufacturer: maker,
      owner: null,
      ownerTokenHash: 'salt:hash',
      profileID: 'AABB0001',
      locked: false,
      claimedAt: null,
      activatedAt: null,
      activatedTenant: null,
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

    const held = async (t: TenantID, claimed?: boolean): Promise<EUI64[]> => (await store.listDevices({ limit: 100, offset: 0, holder: t, ...(claimed === undefined ? {} : { claimed }) })).map((x) => x.devEUI);
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
    const full = (n: number): JoinCommit => ({
      ...commit(eui(0), 0, n),
      nonces: {
        lastDevNonce: devNonce(n),
        usedDevNonces: [devNonce(3), devNonce(n)],
        lastJoinNonce: joinNonce(1000 + n),
        lastRJCount1: 7 + n,
        lastRJCount0: 3 + n,
        rejoinWindow: { start: new Date(1_700_000_000_000 + n * 1000), count: 2 },
      },
    });
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
}

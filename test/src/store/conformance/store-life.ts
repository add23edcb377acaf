import type { StoreConformance } from './conformance-context';

/** The store as a whole: durability across close and reopen. */
export function storeLifeConformance(c: StoreConformance): void {
  const { openStore, open, eui, nsName, newDevice, commit, nsPeer, session, ownDevices } = c;
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
}

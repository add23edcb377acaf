import { type SealedBlobOwner, type Store } from '@joinery/core';
import type { StoreConformance } from './conformance-context';

/** Store settings, the sealed canary, resealing every sealed blob. */
export function sealedSettingsConformance(c: StoreConformance): void {
  const { open, tag, eui, newDevice, nsPeer, session } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
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

  test("sealedCanary: the sealed root keys of a device of that vault kind, else a peer's KEK", async () => {
    const kind = `canary-${tag}`;
    const fallback = await store.sealedCanary(kind);
    if (fallback !== null) expect(fallback.kind).toBe('peer');
    const d = newDevice(0x7a090, { vaultKind: kind }); // not 90: the reseal test's
    await store.insertDevices([d]);
    expect(await store.sealedCanary(kind)).toEqual({ kind: 'device', devEUI: d.devEUI, sealed: d.sealedRootKeys });
  });
}

import { randomBytes } from 'node:crypto';
import { DEFAULT_PEER_SETTINGS, PeerExistsError, StoreError, type ApplicationServerPeer, type Store } from '@joinery/core';
import { firstCertificate } from '../../../../core/src/peers/peer-certificates';
import { parseNetID } from '../../../../core/src/lorawan/identifiers';
import { OPERATOR_TENANT } from '../../../../core/src/tenants/tenant';
import type { StoreConformance } from './conformance-context';

/** The peers: registration, lookups, the cache across handles, lifecycle, deletion. */
export function peerRegistryConformance(c: StoreConformance): void {
  const { open, tag, eui, nsName, newDevice, commit, nsPeer, thrown, peerAudit } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
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
    expect((sameName as StoreError).kind).toBe('peer-exists');
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

  test('peers/a change through another handle is seen from the next turn while device reads of this handle are in flight', async () => {
    // The PostgreSQL store reads the peers' counter with the device reads of the joins: a
    // lookup must still not be answered by a read that was sent before it was asked for.
    const ns = nsPeer('lifecycle-in-flight');
    await store.insertPeer(ns);
    const devEUI = eui(0x700);
    await store.insertDevices([newDevice(0x700)]);
    const other = await open();
    for (const state of ['disabled', 'enabled', 'disabled'] as const) {
      expect((await store.getPeerByFingerprint(ns.certFingerprint))?.state).toBe(state === 'disabled' ? 'enabled' : 'disabled'); // cached
      const inFlight = Promise.all([store.deviceForJoin(devEUI), store.deviceForJoin(devEUI)]);
      expect(await other.updatePeer(ns.name, { state }, peerAudit(`peer.${state === 'disabled' ? 'disable' : 'enable'}`, ns.name))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the next turn of the event loop
      const [peer, devices] = await Promise.all([store.getPeerByFingerprint(ns.certFingerprint), inFlight, store.deviceForJoin(devEUI)]);
      expect(peer?.state).toBe(state);
      expect(devices.map((d) => d?.devEUI)).toEqual([devEUI, devEUI]);
    }
  });

  test('peers/certificates: every certificate of the set finds its peer, retirements and the current one are kept, the KEK replaced', async () => {
    const ns = nsPeer('lifecycle-certs');
    await store.insertPeer(ns);
    expect(await store.getPeerByFingerprint(ns.certFingerprint)).toEqual(ns); // cached by the old fingerprint
    const renewedFingerprint = randomBytes(32).toString('hex');
    const retiresAt = new Date(1_800_000_000_000);
    const certificates = [
      { ...ns.certificates[0]!, retiresAt },
      { fingerprint: renewedFingerprint, issuedAt: new Date(1_790_000_000_000), notAfter: new Date(1_850_000_000_000), retiresAt: null },
    ];
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
    await store.insertDevices([newDevice(0x7a001, { nsPeer: ns.name }), newDevice(0x7a002, { nsPeer: fallback.name, asPeer: ns.name }), newDevice(0x7a003, { nsPeer: fallback.name })]);
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
}

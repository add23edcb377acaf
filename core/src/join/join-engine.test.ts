import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstCertificate } from '../peers/peer-certificates';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { MasterKey } from '../keys/master-key';
import { SoftwareKeyVault } from '../keys/software-vault';
import { AES128Key } from '../lorawan/aes128-key';
import { parseDevAddr, parseEUI64, parseNetID } from '../lorawan/identifiers';
import { encodeJoinRequest } from '../lorawan/join-request';
import { devNonce, joinNonce } from '../lorawan/nonces';
import type { NetworkServerPeer } from '../peers/peer';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import type { JoinCommit } from '../store/device';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { decodeJoinRequestFrame } from './join-request-frame';
import type { JoinRequestMessage } from './join-request-message';
import { JoinEngine } from './join-engine';
import { kekContext } from './vault-contexts';

const devEUI = parseEUI64('0102030405060708');
const joinEUI = parseEUI64('70b3d57ed0000000');
const appKey = AES128Key.fromHex('000102030405060708090a0b0c0d0e0f');

async function setup(file = ':memory:') {
  const store = SqliteStore.open(file);
  const vault = new SoftwareKeyVault(MasterKey.generate());
  const kek = await vault.generateKey();
  const peer: NetworkServerPeer = {
    kind: 'ns',
    name: 'ns-a',
    netID: parseNetID('000013'),
    nsID: null,
    vendor: 'generic',
    certFingerprint: 'aa'.repeat(32),
    certificates: firstCertificate('aa'.repeat(32), new Date(), null),
    state: 'enabled',
    tenantID: OPERATOR_TENANT,
    kekLabel: '000013',
    sealedKEK: await vault.sealKey(kek, kekContext('ns-a')),
    settings: DEFAULT_PEER_SETTINGS,
    createdAt: new Date(),
  };
  await store.insertPeer(peer);
  await store.insertDevices([{ devEUI, joinEUI, macVersion: '1.0.3', sealedRootKeys: await vault.sealRootKeys({ kind: 'legacy', appKey }, devEUI), vaultKind: vault.kind, nsPeer: 'ns-a', asPeer: null }]);
  const engine = new JoinEngine(store, vault);
  const input = (n: number, key = appKey): JoinRequestMessage => {
    const phyPayload = encodeJoinRequest({ joinEUI, devEUI, devNonce: devNonce(n) }, key);
    return {
      messageType: 'JoinReq',
      macVersion: '1.0.3',
      phyPayload,
      frame: decodeJoinRequestFrame('JoinReq', phyPayload),
      devEUI,
      receiverJoinEUI: joinEUI,
      devAddr: parseDevAddr('26011234'),
      dlSettings: 0,
      rxDelay: 1,
      cfList: undefined,
    };
  };
  const join = async (n: number, key = appKey) => (await engine.handleJoin(input(n, key), peer)).result;
  /** Another server on the same database file, with the same key vault. */
  const secondInstance = () => {
    const other = SqliteStore.open(file);
    const otherEngine = new JoinEngine(other, vault);
    return { store: other, join: async (n: number) => (await otherEngine.handleJoin(input(n), peer)).result };
  };
  return { store, vault, engine, peer, join, secondInstance };
}

describe('join/engine', () => {
  test('the first accepted join records the activation; the joins after it do not write it again', async () => {
    const { store, join } = await setup();
    const commits: JoinCommit[] = [];
    const commitJoin = store.commitJoin.bind(store);
    store.commitJoin = (c) => (commits.push(c), commitJoin(c));
    expect((await join(1)).ok).toBe(true);
    const activated = (await store.getDevice(devEUI))!.ownership;
    expect(activated.activatedAt).toEqual(commits[0]!.joinedAt);
    expect((await join(2)).ok).toBe(true);
    expect((await join(3)).ok).toBe(true);
    expect(commits.map((c) => c.recordsActivation)).toEqual([true, false, false]);
    expect((await store.getDevice(devEUI))!.ownership).toEqual(activated);
  });

  test('1.0.3/exhausted JoinNonce: refused, no wrap-around, DevNonce not burnt', async () => {
    const { store, join } = await setup();
    const before = (await store.getDevice(devEUI))!;
    expect(await store.commitJoin({ devEUI, expectedVersion: before.version, nonces: { ...before.nonces, lastJoinNonce: joinNonce(0xfffffe) }, joinedAt: new Date(), peer: 'ns-a', recordsActivation: true })).toBe(true);

    const last = await join(1);
    expect(last.ok && last.joinNonce).toBe(0xffffff);
    const exhausted = await join(2);
    expect(exhausted.ok).toBe(false);
    expect(!exhausted.ok && exhausted.code).toBe('JoinNonceExhausted');
    const after = (await store.getDevice(devEUI))!;
    expect(after.nonces.lastJoinNonce).toBe(0xffffff);
    expect(after.nonces.usedDevNonces).toEqual([1]);
  });

  test('1.0.3/MIC failure changes nothing', async () => {
    const { store, join } = await setup();
    const before = (await store.getDevice(devEUI))!;
    const r = await join(5, AES128Key.fromHex('ff'.repeat(16)));
    expect(!r.ok && r.code).toBe('MICFailed');
    expect((await store.getDevice(devEUI))!.version).toBe(before.version);
  });

  test('1.0.3/a lost race is decided again on the new state', async () => {
    const { store, join } = await setup();
    // Another instance accepts DevNonce 9 between this join's read and its commit.
    const original = store.commitJoin.bind(store);
    let raced = false;
    store.commitJoin = async (commit) => {
      if (!raced) {
        raced = true;
        const current = (await store.getDevice(devEUI))!;
        await original({ ...commit, expectedVersion: current.version, nonces: { ...commit.nonces, lastJoinNonce: joinNonce(0) } });
      }
      return original(commit);
    };
    const r = await join(9);
    expect(!r.ok && r.code).toBe('DevNonceReplayed');
  });

  test('1.0.3/two servers on one SQLite file: a DevNonce one accepted is refused by the other, whose kept copy of the device is older', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'joinery-engine-'));
    const a = await setup(path.join(dir, 'joinery.db'));
    const b = a.secondInstance();
    try {
      expect((await a.join(1)).ok).toBe(true);
      expect((await a.join(4)).ok).toBe(true); // its second read: A keeps the device, as it committed it
      expect((await b.join(2)).ok).toBe(true); // B's join commit does not drop A's copy (it bumps no counter)
      await new Promise((resolve) => setImmediate(resolve)); // a later turn of A's event loop
      expect((await a.store.deviceForJoin(devEUI))!.nonces.usedDevNonces).toEqual([devNonce(1), devNonce(4)]); // A's copy is older than the file
      // A decides DevNonce 2 on its copy, loses the commit (version), reads afresh and refuses it.
      const replay = await a.join(2);
      expect(!replay.ok && replay.code).toBe('DevNonceReplayed');
      expect((await a.join(3)).ok).toBe(true);
      expect((await b.store.getDevice(devEUI))!.nonces.usedDevNonces).toEqual([devNonce(1), devNonce(4), devNonce(2), devNonce(3)]);
    } finally {
      await b.store.close();
      await a.store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

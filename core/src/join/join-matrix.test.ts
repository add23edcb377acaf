import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../../../test/src/support/lora-device';
import { BIKit, kekOf, openEnvelope, type KitPeer } from '../backend-interfaces/bi-test-kit.test-helper';
import { parseDevAddr, parseEUI64, type NetID } from '../lorawan/identifiers';
import { MAC_VERSIONS, parseMACVersion, type MACVersion } from '../lorawan/mac-version';
import type { NetworkServerPeer } from '../peers/peer';
import { VENDORS, type Vendor } from '../peers/vendor';
import type { KeyEnvelope } from './key-envelope';
import { decodeJoinRequestFrame } from './join-request-frame';
import type { JoinRequestMessage } from './join-request-message';

/**
 * The join engine's answer over the whole matrix, in process (a SQLite store in a temporary
 * directory, the software vault): every MAC version, OptNeg asked or not, every vendor's
 * dialect, with and without an application server. Each join-accept is checked as the device
 * (lora-packet, independent of Joinery) and each key envelope unwrapped with node's OpenSSL.
 */
const JOIN_EUI = '70b3d57ed0000000';

/** What each vendor's network server is given for the AppSKey of a device without an application server (peers/vendor-dialect.ts). */
const APP_S_KEY_WITHOUT_AS: Readonly<Record<Vendor, 'clear' | 'ns'>> = {
  chirpstack: 'clear',
  'the-things-stack': 'ns',
  actility: 'ns',
  loriot: 'ns',
  orbiwise: 'ns',
  generic: 'ns',
};

interface Case {
  readonly macVersion: MACVersion;
  readonly optNegAsked: boolean;
  readonly vendor: Vendor;
  readonly withAS: boolean;
  readonly device: DeviceKeys;
}

const cases: Case[] = [];
let n = 0;
for (const macVersion of MAC_VERSIONS) {
  for (const optNegAsked of [true, false]) {
    for (const vendor of VENDORS) {
      for (const withAS of [false, true]) {
        n++;
        const device: DeviceKeys = { devEUI: `00000000000e${n.toString(16).padStart(4, '0')}`, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
        cases.push({ macVersion, optNegAsked, vendor, withAS, device });
      }
    }
  }
}

let kit: BIKit;
const nsOf = new Map<Vendor, KitPeer>();
let as: KitPeer;

beforeAll(async () => {
  kit = await BIKit.open();
  as = await kit.addApplicationServer('as-1', 'as1');
  for (const [i, vendor] of VENDORS.entries()) nsOf.set(vendor, await kit.addNetworkServer(`ns-${vendor}`, { netID: `00001${i}`, vendor }));
  for (const vendor of VENDORS) {
    const mine = cases.filter((c) => c.vendor === vendor);
    await kit.addDevices(
      mine.filter((c) => !c.withAS).map((c) => c.device),
      `ns-${vendor}`,
    );
    await kit.addDevices(
      mine.filter((c) => c.withAS).map((c) => c.device),
      `ns-${vendor}`,
      'as-1',
    );
  }
});

afterAll(() => kit.close());

/** A JoinReq as the BI edge gives it to the engine. */
function message(d: DeviceKeys, devNonce: number, dlSettings: number): JoinRequestMessage {
  const phyPayload = joinRequest(d, devNonce);
  return {
    messageType: 'JoinReq',
    macVersion: parseMACVersion(d.macVersion),
    phyPayload,
    frame: decodeJoinRequestFrame('JoinReq', phyPayload),
    devEUI: parseEUI64(d.devEUI),
    receiverJoinEUI: parseEUI64(d.joinEUI),
    devAddr: parseDevAddr('26011234'),
    dlSettings,
    rxDelay: 1,
    cfList: undefined,
  };
}

function wire(e: KeyEnvelope): { KEKLabel: string; AESKey: string } {
  return { KEKLabel: e.kekLabel, AESKey: e.aesKey.toString('hex') };
}

describe('join/matrix: MAC version × OptNeg asked × vendor dialect × application server', () => {
  test.each(cases.map((c) => [`${c.macVersion}/OptNeg ${c.optNegAsked ? 'asked' : 'not asked'}/${c.vendor}/${c.withAS ? 'with' : 'without'} AS`, c] as const))('%s', async (_name, c) => {
    const ns = nsOf.get(c.vendor)!;
    const outcome = await kit.engine.handleJoin(message(c.device, 7, c.optNegAsked ? 0x80 : 0x00), ns.peer as NetworkServerPeer);
    expect(outcome.device?.devEUI).toBe(c.device.devEUI);
    const r = outcome.result;
    if (!r.ok) throw new Error(`refused: ${r.code} ${r.description}`);

    // OptNeg only for a 1.1 device whose network server asked for it.
    const optNeg = c.macVersion === '1.1' && c.optNegAsked;
    expect(r.optNeg).toBe(optNeg);
    expect(r.devNonce).toBe(7);
    const device = acceptJoin(c.device, 7, r.phyPayload.toString('hex'));
    expect(device.micValid).toBe(true);
    expect(device.optNeg).toBe(optNeg);
    expect(device.netID).toBe((ns.peer as NetworkServerPeer).netID satisfies NetID);
    expect(device.joinNonce).toBe(r.joinNonce);

    // Network keys: three with OptNeg, NwkSKey otherwise; always under the network server's KEK.
    const nsKEK = kekOf(ns);
    if (optNeg) {
      expect(r.networkKeys.kind).toBe('1.1');
      if (r.networkKeys.kind !== '1.1') return;
      expect(openEnvelope(wire(r.networkKeys.fNwkSIntKey), nsKEK)).toBe(device.keys['FNwkSIntKey']);
      expect(openEnvelope(wire(r.networkKeys.sNwkSIntKey), nsKEK)).toBe(device.keys['SNwkSIntKey']);
      expect(openEnvelope(wire(r.networkKeys.nwkSEncKey), nsKEK)).toBe(device.keys['NwkSEncKey']);
    } else {
      expect(r.networkKeys.kind).toBe('legacy');
      if (r.networkKeys.kind !== 'legacy') return;
      expect(openEnvelope(wire(r.networkKeys.nwkSKey), nsKEK)).toBe(device.keys['NwkSKey']);
    }
    // A 1.1 device answered in 1.0 mode: the network server also gets NwkSKey as the three 1.1 keys (every dialect).
    expect(r.legacyKeysAs11).toBe(c.macVersion === '1.1' && !optNeg);

    // AppSKey: the application server's, under its KEK, with a SessionKeyID; else as the dialect takes it.
    const delivery = c.withAS ? 'as' : APP_S_KEY_WITHOUT_AS[c.vendor];
    expect(r.appSKey.kekLabel).toBe({ as: as.kekLabel, ns: ns.kekLabel, clear: '' }[delivery]);
    expect(openEnvelope(wire(r.appSKey), delivery === 'as' ? kekOf(as) : nsKEK)).toBe(device.keys['AppSKey']);
    const sessionKeyID = c.withAS || c.vendor !== 'chirpstack';
    expect(r.sessionKeyID !== undefined).toBe(sessionKeyID);
    // The session is kept for AppSKeyReq exactly when it has a SessionKeyID.
    if (r.sessionKeyID !== undefined) {
      const session = await kit.store.getSession(parseEUI64(c.device.devEUI), r.sessionKeyID);
      expect(session).toMatchObject({ nsPeer: ns.peer.name, asPeer: c.withAS ? 'as-1' : null, joinNonce: r.joinNonce });
    }
  });
});

import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * One JoinReq exactly as each vendor's network server sends it (shapes from their source and
 * traces; docs/network-servers.md), and the answer that vendor accepts: the keys it reads for the MAC
 * version, AppSKey and SessionKeyID as its dialect needs, the labels it knows, and no nulls.
 */
const JOIN_EUI = '70b3d57ed0000000';

interface Fixture {
  readonly name: string;
  readonly vendor: string;
  readonly netID: string;
  readonly nsID?: string;
  readonly macVersion: string;
  /** Bind the device to an application server too (end-to-end AppSKey). */
  readonly withAS?: boolean;
  /** The request as that vendor sends it. */
  readonly request: (d: DeviceKeys, phy: string) => Record<string, unknown>;
  readonly expectKeys: readonly string[];
  readonly absentKeys: readonly string[];
  readonly appSKey: 'clear' | 'ns' | 'as';
  readonly sessionKeyID: boolean;
}

const randomTxID = () => randomInt(1, 2 ** 32 - 1);
const NET_11 = ['FNwkSIntKey', 'SNwkSIntKey', 'NwkSEncKey'];

const FIXTURES: readonly Fixture[] = [
  {
    name: 'ChirpStack v4, LoRaWAN 1.0.3 (lower case, random TransactionID)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.3',
    request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: d.joinEUI, TransactionID: randomTxID(), MessageType: 'JoinReq', MACVersion: '1.0.3', PHYPayload: phy, DevEUI: d.devEUI, DevAddr: '00a1b2c3', DLSettings: '00', RxDelay: 1 }),
    expectKeys: ['NwkSKey', 'AppSKey'],
    absentKeys: ['SessionKeyID', ...NET_11],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'ChirpStack v4, LoRaWAN 1.1 (MACVersion 1.1.0, OptNeg set)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.1',
    request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: d.joinEUI, TransactionID: randomTxID(), MessageType: 'JoinReq', MACVersion: '1.1.0', PHYPayload: phy, DevEUI: d.devEUI, DevAddr: '00a1b2c4', DLSettings: '80', RxDelay: 1 }),
    expectKeys: [...NET_11, 'AppSKey'],
    absentKeys: ['NwkSKey', 'SessionKeyID'],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'ChirpStack v4, device with its own application server (end-to-end)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.4',
    withAS: true,
    request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: d.joinEUI, TransactionID: randomTxID(), MessageType: 'JoinReq', MACVersion: '1.0.4', PHYPayload: phy, DevEUI: d.devEUI, DevAddr: '00a1b2c5', DLSettings: '00', RxDelay: 1 }),
    expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
    absentKeys: NET_11,
    appSKey: 'as',
    sessionKeyID: true,
  },
  {
    name: 'ChirpStack v3 / Go backend client (VSExtension {}, CFList)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.2',
    request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: d.joinEUI, TransactionID: randomTxID(), MessageType: 'JoinReq', MACVersion: '1.0.2', PHYPayload: phy, DevEUI: d.devEUI, DevAddr: '00a1b2c6', DLSettings: '00', RxDelay: 1, CFList: '184f84e85684b85e84886684586e8400', VSExtension: {} }),
    expectKeys: ['NwkSKey', 'AppSKey'],
    absentKeys: ['SessionKeyID'],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'The Things Stack, BI 1.1 (SenderNSID, TransactionID 0, upper case)',
    vendor: 'the-things-stack',
    netID: '000099',
    nsID: '70B3D57ED000ABCD',
    macVersion: '1.0.3',
    request: (d, phy) => ({ ProtocolVersion: '1.1', SenderID: '000099', ReceiverID: d.joinEUI.toUpperCase(), TransactionID: 0, MessageType: 'JoinReq', SenderNSID: '70B3D57ED000ABCD', MACVersion: '1.0.3', PHYPayload: phy.toUpperCase(), DevEUI: d.devEUI.toUpperCase(), DevAddr: '260B1234', DLSettings: '00', RxDelay: 5 }),
    expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
    absentKeys: NET_11,
    appSKey: 'ns',
    sessionKeyID: true,
  },
  {
    name: 'The Things Stack, BI 1.0, LoRaWAN 1.1 (MACVersion "1.1")',
    vendor: 'the-things-stack',
    netID: '000099',
    macVersion: '1.1',
    request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000099', ReceiverID: d.joinEUI.toUpperCase(), TransactionID: 0, MessageType: 'JoinReq', MACVersion: '1.1', PHYPayload: phy.toUpperCase(), DevEUI: d.devEUI.toUpperCase(), DevAddr: '260B1235', DLSettings: '80', RxDelay: 5 }),
    expectKeys: [...NET_11, 'AppSKey', 'SessionKeyID'],
    absentKeys: ['NwkSKey'],
    appSKey: 'ns',
    sessionKeyID: true,
  },
  ...(['actility', 'loriot', 'orbiwise', 'generic'] as const).map(
    (vendor): Fixture => ({
      name: `${vendor}, BI 1.0, LoRaWAN 1.0.3`,
      vendor,
      netID: '000013',
      macVersion: '1.0.3',
      request: (d, phy) => ({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: d.joinEUI, TransactionID: randomTxID(), MessageType: 'JoinReq', MACVersion: '1.0.3', PHYPayload: phy, DevEUI: d.devEUI, DevAddr: '00a1b2c7', DLSettings: '00', RxDelay: 1 }),
      expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
      absentKeys: NET_11,
      appSKey: 'ns',
      sessionKeyID: true,
    }),
  ),
];

let work: string;
let server: ServerProcess;
let as1: PeerBundle;
const cases: { fixture: Fixture; device: DeviceKeys; ns: PeerBundle }[] = [];

beforeAll(async () => {
  work = await makeTempDir('dialects');
  const dataDir = path.join(work, 'data');
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1', '--out', path.join(work, 'as-1')]);
  as1 = await readBundle(path.join(work, 'as-1'));
  for (const [i, fixture] of FIXTURES.entries()) {
    const name = `ns-${i}`;
    await cli(['ns', 'add', '--data-dir', dataDir, '--name', name, '--net-id', fixture.netID, ...(fixture.nsID ? ['--ns-id', fixture.nsID] : []), '--vendor', fixture.vendor, '--out', path.join(work, name)]);
    const device: DeviceKeys = { devEUI: `00000000000d00${i.toString(16).padStart(2, '0')}`, joinEUI: JOIN_EUI, macVersion: fixture.macVersion, appKey: randomKey(), ...(fixture.macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
    const file = path.join(work, `${name}.csv`);
    await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${device.devEUI},${device.joinEUI},${device.macVersion},${device.appKey},${device.nwkKey ?? ''}\n`);
    await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', name, ...(fixture.withAS ? ['--as', 'as-1'] : [])]);
    cases.push({ fixture, device, ns: await readBundle(path.join(work, name)) });
  }
  server = await startServer(dataDir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

function nulls(value: unknown, at = '$'): string[] {
  if (value === null) return [at];
  if (typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => nulls(v, `${at}.${k}`));
}

describe('e2e/vendor dialects', () => {
  test.each(FIXTURES.map((f, i) => [f.name, i] as const))('%s', async (_name, i) => {
    const { fixture, device, ns } = cases[i]!;
    const request = fixture.request(device, joinRequest(device, 1).toString('hex'));
    const r = await postJSON(server.biURL, request, ns);
    expect(r.status).toBe(200);
    const answer = r.body as Record<string, any>;
    expect(answer['Result']).toEqual({ ResultCode: 'Success' });
    expect(nulls(answer)).toEqual([]);
    expect(answer['TransactionID']).toBe(request['TransactionID']);
    expect(answer['ProtocolVersion']).toBe(request['ProtocolVersion']);
    if (fixture.nsID) expect(answer['ReceiverNSID']).toBe(fixture.nsID.toLowerCase());
    for (const k of fixture.expectKeys) expect(answer).toHaveProperty(k);
    for (const k of fixture.absentKeys) expect(answer).not.toHaveProperty(k);

    const accepted = acceptJoin(device, 1, answer['PHYPayload']);
    expect(accepted.micValid).toBe(true);
    if (request['CFList']) expect(accepted.cfList).toBe(request['CFList']);
    const nsKEK = { label: ns.kekLabel, key: ns.kek };
    for (const k of fixture.expectKeys.filter((k) => k !== 'AppSKey' && k !== 'SessionKeyID')) {
      expect(answer[k]['KEKLabel']).toBe(ns.kekLabel);
      expect(openEnvelope(answer[k], nsKEK)).toBe(accepted.keys[k]);
    }
    const appSKey = answer['AppSKey'];
    const expectedLabel = { clear: '', ns: ns.kekLabel, as: as1.kekLabel }[fixture.appSKey];
    expect(appSKey['KEKLabel']).toBe(expectedLabel);
    expect(openEnvelope(appSKey, fixture.appSKey === 'as' ? { label: as1.kekLabel, key: as1.kek } : nsKEK)).toBe(accepted.keys['AppSKey']);
    expect(typeof answer['SessionKeyID'] === 'string').toBe(fixture.sessionKeyID);
  });
});

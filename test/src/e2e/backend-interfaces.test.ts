import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, rejoinRequest, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * The Backend Interfaces beyond JoinReq: RejoinReq (LoRaWAN 1.1, types 0, 1, 2), HomeNSReq,
 * ErrorNotif, the served JoinEUI ranges, the session history limit and the metrics, through a
 * real `joinery serve` with lora-packet as the device.
 */
const JOIN_EUI = '70b3d57ed0000000';
const OTHER_JOIN_EUI = '0016c001fffe0001';
const NSID = '70b3d57ed0000abc';

let work: string;
let dataDir: string;
let server: ServerProcess;
let nsA: PeerBundle;
let nsB: PeerBundle;
let as1: PeerBundle;
const d11: DeviceKeys = { devEUI: '0000000000001101', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
const d10: DeviceKeys = { devEUI: '0000000000001001', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const outside: DeviceKeys = { devEUI: '0000000000001002', joinEUI: OTHER_JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
/** 1.1 devices of their own: RJcount0, the NetID of a rejoin, the rejoin bound. */
const dRJ0: DeviceKeys = { devEUI: '0000000000001110', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
const dNetID: DeviceKeys = { devEUI: '0000000000001120', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
const dBound: DeviceKeys = { devEUI: '0000000000001130', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
/** A device whose JoinNonce is set past 90% of its space before the server starts. */
const dWorn: DeviceKeys = { devEUI: '0000000000001040', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const WORN_JOIN_NONCE = 0xf00000;

beforeAll(async () => {
  work = await makeTempDir('bi');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', '000013', '--ns-id', NSID, '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-b', '--net-id', '000042', '--vendor', 'chirpstack', '--out', path.join(work, 'ns-b')]);
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1', '--out', path.join(work, 'as-1')]);
  nsA = await readBundle(path.join(work, 'ns-a'));
  nsB = await readBundle(path.join(work, 'ns-b'));
  as1 = await readBundle(path.join(work, 'as-1'));
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...[d11, d10, outside, dRJ0, dNetID, dBound, dWorn].map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
  await fs.writeFile(path.join(work, 'devices.csv'), csv.join('\n'));
  await cli(['devices', 'import', path.join(work, 'devices.csv'), '--data-dir', dataDir, '--ns', 'ns-a']);
  const db = new Database(path.join(dataDir, 'joinery.db'));
  try {
    expect(db.prepare('UPDATE devices SET last_join_nonce = ? WHERE dev_eui = ?').run(WORN_JOIN_NONCE, dWorn.devEUI).changes).toBe(1);
  } finally {
    db.close();
  }
  server = await startServer(dataDir, ['--join-eui-prefix', '70b3d57ed0000000/40', '--session-history', '2']);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function request(messageType: string, d: DeviceKeys, phy: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ProtocolVersion: '1.0',
    SenderID: '000013',
    ReceiverID: d.joinEUI,
    TransactionID: randomInt(1, 2 ** 31),
    MessageType: messageType,
    MACVersion: d.macVersion,
    PHYPayload: phy.toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: d.nwkKey ? '80' : '00',
    RxDelay: 1,
    ...extra,
  };
}

async function send(message: Record<string, unknown>, bundle = nsA): Promise<Record<string, any>> {
  const r = await postJSON(server.biURL, message, bundle);
  expect(r.status).toBe(200);
  return r.body as Record<string, any>;
}

function checkKeys(answer: Record<string, any>, keys: Record<string, string>): void {
  for (const [name, value] of Object.entries(keys)) {
    expect({ name, key: openEnvelope(answer[name], { label: nsA.kekLabel, key: nsA.kek }) }).toEqual({ name, key: value });
  }
}

describe('e2e/rejoin', () => {
  test('1.1/type 1: checked with JSIntKey, answered with JSEncKey and fresh keys; an old RJcount1 is refused', async () => {
    const first = await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 5)));
    expect(first['MessageType']).toBe('RejoinAns');
    expect(first['Result']).toEqual({ ResultCode: 'Success' });
    const a = acceptJoin(d11, 5, first['PHYPayload'], 1);
    expect(a.micValid).toBe(true);
    expect(a.optNeg).toBe(true);
    checkKeys(first, { FNwkSIntKey: a.keys['FNwkSIntKey']!, SNwkSIntKey: a.keys['SNwkSIntKey']!, NwkSEncKey: a.keys['NwkSEncKey']! });

    const second = await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 6)));
    const b = acceptJoin(d11, 6, second['PHYPayload'], 1);
    expect(b.micValid).toBe(true);
    expect(b.joinNonce).toBe(a.joinNonce + 1);
    expect(b.keys['FNwkSIntKey']).not.toBe(a.keys['FNwkSIntKey']);

    for (const replayed of [6, 5]) {
      const refused = await send(request('RejoinReq', d11, rejoinRequest(d11, 1, replayed)));
      expect(refused['Result']['ResultCode']).toBe('JoinReqFailed');
      expect(refused['Result']['Description']).toMatch(/RJcount1/);
      expect(refused).not.toHaveProperty('PHYPayload');
    }
  });

  test('1.1/type 1: RJcount1 is not reset by a join-request', async () => {
    const joined = await send(request('JoinReq', d11, joinRequest(d11, 100)));
    expect(acceptJoin(d11, 100, joined['PHYPayload']).micValid).toBe(true);
    expect((await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 6))))['Result']['ResultCode']).toBe('JoinReqFailed');
    expect((await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 7))))['Result']['ResultCode']).toBe('Success');
  });

  test('1.1/type 1 with a wrong MIC → MICFailed, RJcount1 not burnt', async () => {
    const forged = rejoinRequest({ ...d11, nwkKey: randomKey() }, 1, 50);
    expect((await send(request('RejoinReq', d11, forged)))['Result']['ResultCode']).toBe('MICFailed');
    expect((await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 50))))['Result']['ResultCode']).toBe('Success');
  });

  test.each([0, 2] as const)('1.1/type %i: forwarded by the network server (which checked its MIC), answered with fresh keys; the same RJcount0 again is refused', async (type) => {
    // Type 0 and type 2 share RJcount0: each test takes counts of its own.
    const count = type * 10;
    const first = await send(request('RejoinReq', d11, rejoinRequest(d11, type, count, { netID: '000013' })));
    expect(first['Result']).toEqual({ ResultCode: 'Success' });
    const a = acceptJoin(d11, count, first['PHYPayload'], type);
    expect(a.micValid).toBe(true);
    checkKeys(first, { FNwkSIntKey: a.keys['FNwkSIntKey']! });
    const replayed = await send(request('RejoinReq', d11, rejoinRequest(d11, type, count, { netID: '000013' })));
    expect(replayed['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(new RegExp(`RJcount0 ${count} is not greater than the last RJcount0 ${count}`)) });
    expect(replayed).not.toHaveProperty('PHYPayload');
    const next = await send(request('RejoinReq', d11, rejoinRequest(d11, type, count + 1, { netID: '000013' })));
    expect(acceptJoin(d11, count + 1, next['PHYPayload'], type).joinNonce).toBe(a.joinNonce + 1);
  });

  test('1.1/type 0: a byte-identical rejoin-request forwarded again is refused, and costs no JoinNonce', async () => {
    const frame = rejoinRequest(dRJ0, 0, 3, { netID: '000013' });
    const first = await send(request('RejoinReq', dRJ0, frame));
    const a = acceptJoin(dRJ0, 3, first['PHYPayload'], 0);
    for (let i = 0; i < 3; i++) {
      const again = await send(request('RejoinReq', dRJ0, frame));
      expect(again['Result']['ResultCode']).toBe('JoinReqFailed');
      expect(again['Result']['Description']).toMatch(/RJcount0 3 /);
    }
    const next = await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 4, { netID: '000013' })));
    expect(acceptJoin(dRJ0, 4, next['PHYPayload'], 0).joinNonce).toBe(a.joinNonce + 1);
  });

  test('1.1/type 0: RJcount0 restarts at every join-accept (to a join-request, or to a rejoin type 1)', async () => {
    expect((await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 0, { netID: '000013' }))))['Result']['ResultCode']).toBe('JoinReqFailed');
    const joined = await send(request('JoinReq', dRJ0, joinRequest(dRJ0, 1)));
    expect(acceptJoin(dRJ0, 1, joined['PHYPayload']).micValid).toBe(true);
    const afterJoin = await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 0, { netID: '000013' })));
    expect(afterJoin['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dRJ0, 0, afterJoin['PHYPayload'], 0);
    expect((await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 2, 0, { netID: '000013' }))))['Result']['ResultCode']).toBe('JoinReqFailed');
    const type1 = await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 1, 1)));
    acceptJoin(dRJ0, 1, type1['PHYPayload'], 1);
    const afterType1 = await send(request('RejoinReq', dRJ0, rejoinRequest(dRJ0, 2, 0, { netID: '000013' })));
    expect(afterType1['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dRJ0, 0, afterType1['PHYPayload'], 2);
  });

  test.each([0, 2] as const)('1.1/type %i naming another NetID than the network server\'s → JoinReqFailed, no JoinNonce spent', async (type) => {
    const refused = await send(request('RejoinReq', dNetID, rejoinRequest(dNetID, type, 40 + type, { netID: '000042' })));
    expect(refused['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(/NetID 000042, not the NetID 000013 of network server ns-a/) });
    expect(refused).not.toHaveProperty('PHYPayload');
    // The same counter with the right NetID is still accepted: the refusal wrote nothing.
    const ok = await send(request('RejoinReq', dNetID, rejoinRequest(dNetID, type, 40 + type, { netID: '000013' })));
    expect(ok['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dNetID, 40 + type, ok['PHYPayload'], type);
  });

  test('the rejoins accepted per device are bounded (default 10 an hour): the 11th gets JoinReqFailed with a Description, counted and logged; joins go on', async () => {
    for (let n = 1; n <= 10; n++) {
      const r = await send(request('RejoinReq', dBound, rejoinRequest(dBound, 0, n, { netID: '000013' })));
      expect({ n, result: r['Result'] }).toEqual({ n, result: { ResultCode: 'Success' } });
      acceptJoin(dBound, n, r['PHYPayload'], 0);
    }
    for (const frame of [rejoinRequest(dBound, 0, 11, { netID: '000013' }), rejoinRequest(dBound, 1, 1)]) {
      const r = await send(request('RejoinReq', dBound, frame));
      expect(r['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(/10 rejoin-requests within the hour/) });
      expect(r).not.toHaveProperty('PHYPayload');
    }
    const metrics = await (await fetch(`${server.adminURL}metrics`)).text();
    expect(metrics).toMatch(/^joinery_rejoins_refused_total\{peer="ns-a"\} 2$/m);
    await server.outputMatching(new RegExp(`${dBound.devEUI}.*ns-a.*rejoin-request refused: the device reached its rejoin bound|rejoin-request refused: the device reached its rejoin bound.*${dBound.devEUI}`));
    const joined = await send(request('JoinReq', dBound, joinRequest(dBound, 1)));
    expect(acceptJoin(dBound, 1, joined['PHYPayload']).micValid).toBe(true);
  });

  test('1.0.x device: rejoin-requests are LoRaWAN 1.1 → JoinReqFailed', async () => {
    const pseudo: DeviceKeys = { ...d10, nwkKey: d10.appKey };
    const r = await send(request('RejoinReq', d10, rejoinRequest(pseudo, 1, 1)));
    expect(r['Result']['ResultCode']).toBe('JoinReqFailed');
    expect(r['Result']['Description']).toMatch(/1\.1/);
  });

  test('a join-request sent as RejoinReq is malformed, not a crash', async () => {
    const r = await send(request('RejoinReq', d11, joinRequest(d11, 200)));
    expect(['MalformedRequest', 'FrameSizeError']).toContain(r['Result']['ResultCode']);
  });
});

describe('e2e/home-ns', () => {
  const homeNSReq = (devEUI: string, version = '1.0') => ({ ProtocolVersion: version, SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: 9, MessageType: 'HomeNSReq', DevEUI: devEUI, ...(version === '1.1' ? { SenderNSID: NSID } : {}) });

  test('BI 1.0: HNetID of the device\'s network server; BI 1.1 adds HNSID', async () => {
    const r10 = await send(homeNSReq(d11.devEUI));
    expect(r10).toMatchObject({ MessageType: 'HomeNSAns', Result: { ResultCode: 'Success' }, HNetID: '000013', TransactionID: 9 });
    expect(r10).not.toHaveProperty('HNSID');
    const r11 = await send(homeNSReq(d11.devEUI, '1.1'));
    expect(r11).toMatchObject({ ProtocolVersion: '1.1', HNetID: '000013', HNSID: NSID });
  });

  test('unknown DevEUI → UnknownDevEUI; an application server may not ask', async () => {
    expect((await send(homeNSReq('ffffffffffffffff')))['Result']['ResultCode']).toBe('UnknownDevEUI');
    const byAS = await send({ ...homeNSReq(d11.devEUI), SenderID: 'as1' }, as1);
    expect(byAS['Result']['ResultCode']).toBe('UnknownSender');
    expect(byAS).not.toHaveProperty('HNetID');
  });

  test('another known network server may ask (roaming)', async () => {
    const r = await send({ ...homeNSReq(d11.devEUI), SenderID: '000042' }, nsB);
    expect(r['HNetID']).toBe('000013');
  });
});

describe('e2e/operator controls', () => {
  test('a JoinEUI outside the served ranges → UnknownReceiver', async () => {
    const r = await send(request('JoinReq', outside, joinRequest(outside, 1)));
    expect(r['Result']['ResultCode']).toBe('UnknownReceiver');
  });

  test('DevNonce reset: audited, lets a reset device join again, never resets the JoinNonce', async () => {
    const first = await send(request('JoinReq', d11, joinRequest(d11, 1000)));
    const before = acceptJoin(d11, 1000, first['PHYPayload']).joinNonce;
    // The device was reset and counts from 0 again: refused until the operator resets.
    expect((await send(request('JoinReq', d11, joinRequest(d11, 0))))['Result']['ResultCode']).toBe('JoinReqFailed');
    const reset = await cli(['devices', 'reset-dev-nonce', d11.devEUI, '--reason', 'factory reset of the device', '--data-dir', dataDir]);
    expect(reset.stdout).toMatch(/JoinNonce stays at \d+/);
    const again = await send(request('JoinReq', d11, joinRequest(d11, 0)));
    expect(again['Result']['ResultCode']).toBe('Success');
    expect(acceptJoin(d11, 0, again['PHYPayload']).joinNonce).toBeGreaterThan(before);
    const audit = JSON.parse((await cli(['audit', 'list', '--dev-eui', d11.devEUI, '--json', '--data-dir', dataDir])).stdout) as any[];
    expect(audit[0]).toMatchObject({ action: 'device.dev-nonce.reset', devEUI: d11.devEUI, actor: expect.stringMatching(/^cli:/), detail: { reason: 'factory reset of the device', lastDevNonce: 1000 } });
  });

  test('session history: the oldest SessionKeyID is forgotten beyond the limit', async () => {
    const ids: string[] = [];
    for (const n of [300, 301, 302]) ids.push((await send(request('JoinReq', d10, joinRequest(d10, n))))['SessionKeyID']);
    const fetch = (id: string) => send({ ProtocolVersion: '1.0', SenderID: 'as1', ReceiverID: JOIN_EUI, TransactionID: 1, MessageType: 'AppSKeyReq', DevEUI: d10.devEUI, SessionKeyID: id });
    // d10 has no application server: its network server (generic dialect) may fetch its own sessions.
    expect((await fetch(ids[0]!))['Result']['ResultCode']).toBe('UnknownDevEUI');
    expect((await fetch(ids[2]!))['Result']['ResultCode']).toBe('Success');
  });
});

describe('e2e/error-notif and metrics', () => {
  test('ErrorNotif is acknowledged (HTTP 200), logged and counted; misspelt codes understood', async () => {
    const r = await postJSON(server.biURL, { ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: 77, MessageType: 'ErrorNotif', Result: { ResultCode: 'UnkownReceiver', Description: 'test' } }, nsA);
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    const metrics = await (await fetch(`${server.adminURL}metrics`)).text();
    expect(metrics).toMatch(/joinery_error_notifs_received_total\{result="UnknownReceiver",peer="ns-a"\} 1/);
    await server.outputMatching(/ErrorNotif received/);
  });

  test('/metrics counts the devices whose JoinNonce passed 90% of its space; they still join', async () => {
    const metrics = await (await fetch(`${server.adminURL}metrics`)).text();
    expect(metrics).toMatch(/^joinery_devices_join_nonce_near_exhaustion 1$/m);
    const r = await send(request('JoinReq', dWorn, joinRequest(dWorn, 1)));
    expect(acceptJoin(dWorn, 1, r['PHYPayload']).joinNonce).toBe(WORN_JOIN_NONCE + 1);
  });

  test('/metrics counts BI requests by message type, result and peer, with a latency histogram', async () => {
    const metrics = await (await fetch(`${server.adminURL}metrics`)).text();
    expect(metrics).toMatch(/joinery_bi_requests_total\{message_type="JoinReq",result="Success",peer="ns-a"\} \d+/);
    expect(metrics).toMatch(/joinery_bi_requests_total\{message_type="RejoinReq",result="JoinReqFailed",peer="ns-a"\} \d+/);
    expect(metrics).toMatch(/joinery_bi_request_duration_seconds_bucket\{le="0.05",message_type="JoinReq"\} \d+/);
    for (const k of [d11.appKey, d11.nwkKey!, d10.appKey]) expect(metrics).not.toContain(k);
  });
});

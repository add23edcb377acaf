import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, rejoinRequest, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * The Backend Interfaces beyond JoinReq through a real `joinery serve`, with lora-packet as the
 * device: a RejoinReq smoke test, ErrorNotif, the operator's controls (`--join-eui-prefix`,
 * `--session-history`, `devices reset-dev-nonce`) and the metrics. Every RejoinReq type and
 * refusal, HomeNSReq and the rest of the handler's table are tested in process
 * (core/src/backend-interfaces/*.test.ts).
 */
const JOIN_EUI = '70b3d57ed0000000';
const OTHER_JOIN_EUI = '0016c001fffe0001';
const NSID = '70b3d57ed0000abc';

let work: string;
let dataDir: string;
let server: ServerProcess;
let nsA: PeerBundle;
const d11: DeviceKeys = { devEUI: '0000000000001101', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
const d10: DeviceKeys = { devEUI: '0000000000001001', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const outside: DeviceKeys = { devEUI: '0000000000001002', joinEUI: OTHER_JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
/** A device whose JoinNonce is set past 90% of its space before the server starts. */
const dWorn: DeviceKeys = { devEUI: '0000000000001040', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const WORN_JOIN_NONCE = 0xf00000;

beforeAll(async () => {
  work = await makeTempDir('bi');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', '000013', '--ns-id', NSID, '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  nsA = await readBundle(path.join(work, 'ns-a'));
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...[d11, d10, outside, dWorn].map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
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
  test('1.1/type 1: answered with a RejoinAns the device accepts (JSEncKey, fresh keys); the same RJcount1 again is refused', async () => {
    const first = await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 5)));
    expect(first['MessageType']).toBe('RejoinAns');
    expect(first['Result']).toEqual({ ResultCode: 'Success' });
    const a = acceptJoin(d11, 5, first['PHYPayload'], 1);
    expect(a.micValid).toBe(true);
    checkKeys(first, { FNwkSIntKey: a.keys['FNwkSIntKey']!, SNwkSIntKey: a.keys['SNwkSIntKey']!, NwkSEncKey: a.keys['NwkSEncKey']! });
    const replayed = await send(request('RejoinReq', d11, rejoinRequest(d11, 1, 5)));
    expect(replayed['Result']['ResultCode']).toBe('JoinReqFailed');
    expect(replayed).not.toHaveProperty('PHYPayload');
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
    const r = await postJSON(
      server.biURL,
      { ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: 77, MessageType: 'ErrorNotif', Result: { ResultCode: 'UnkownReceiver', Description: 'test' } },
      nsA,
    );
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

import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, post, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * End to end through the real HTTPS listener of a `joinery serve` process, with lora-packet as
 * the device and a plain HTTPS client with the credential bundles as the network servers: one
 * join per MAC version, the transport (TLS, HTTP), concurrency, restarts, re-imports and the
 * secrecy of keys. The matrix of MAC versions, OptNeg, BI dialects and refusals is tested in
 * process (core/src/join/join-matrix.test.ts, core/src/backend-interfaces/join-req.test.ts).
 */

const JOIN_EUI = '70b3d57ed0000000';
const NS_A_NETID = '000013';

let dataDir: string;
let work: string;
let server: ServerProcess;
let nsA: PeerBundle; // generic vendor, the devices' network server
let as1: PeerBundle; // application server of the 1.1 device
const devices: Record<string, DeviceKeys> = {};
/** Every key used in the run: none may ever appear in any output. */
const secrets = new Set<string>();

function device(name: string, macVersion: string, devEUI: string): DeviceKeys {
  const d: DeviceKeys = { devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
  secrets.add(d.appKey);
  if (d.nwkKey) secrets.add(d.nwkKey);
  devices[name] = d;
  return d;
}

async function importCSV(file: string, list: DeviceKeys[], args: string[]): Promise<void> {
  const lines = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...list.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  await cli(['devices', 'import', file, '--data-dir', dataDir, ...args]);
}

beforeAll(async () => {
  work = await makeTempDir('e2e');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', NS_A_NETID, '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1.example.com', '--out', path.join(work, 'as-1')]);
  nsA = await readBundle(path.join(work, 'ns-a'));
  as1 = await readBundle(path.join(work, 'as-1'));
  for (const b of [nsA, as1]) secrets.add(b.kek.toString('hex'));

  await importCSV(
    path.join(work, 'a.csv'),
    [
      device('1.0.2', '1.0.2', '0000000000000102'),
      device('1.0.3', '1.0.3', '0000000000000103'),
      device('1.0.4', '1.0.4', '0000000000000104'),
      device('race-1.0.3', '1.0.3', '00000000000a0103'),
      device('race-1.1', '1.1', '00000000000a0110'),
    ],
    ['--ns', 'ns-a'],
  );
  await importCSV(path.join(work, 'a11.csv'), [device('1.1', '1.1', '0000000000000110')], ['--ns', 'ns-a', '--as', 'as-1']);
  server = await startServer(dataDir);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

interface JoinOptions {
  readonly ns?: PeerBundle;
  readonly netID?: string;
  readonly devNonce: number;
  readonly dlSettings?: string;
  readonly protocolVersion?: string;
  readonly macVersion?: string;
  readonly cfList?: string;
  readonly extra?: Record<string, unknown>;
  readonly phyPayload?: string;
}

function joinReq(d: DeviceKeys, o: JoinOptions): Record<string, unknown> {
  return {
    ProtocolVersion: o.protocolVersion ?? '1.0',
    SenderID: o.netID ?? (o.ns ?? nsA).peer['netID'],
    ReceiverID: d.joinEUI,
    TransactionID: randomInt(1, 2 ** 32 - 1),
    MessageType: 'JoinReq',
    MACVersion: o.macVersion ?? d.macVersion,
    PHYPayload: o.phyPayload ?? joinRequest(d, o.devNonce).toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: o.dlSettings ?? (d.nwkKey ? '80' : '00'),
    RxDelay: 1,
    ...(o.cfList ? { CFList: o.cfList } : {}),
    ...o.extra,
  };
}

async function join(d: DeviceKeys, o: JoinOptions) {
  const request = joinReq(d, o);
  const answer = await postJSON(server.biURL, request, o.ns ?? nsA);
  expect(answer.status).toBe(200);
  return { request, answer: answer.body as Record<string, any> };
}

/** Checks a successful JoinAns as the device (lora-packet) and as the network server (KEK unwrap). */
function verifyAccepted(d: DeviceKeys, devNonce: number, answer: Record<string, any>, ns: PeerBundle, appSKeyKEK: PeerBundle) {
  expect(answer['Result']).toEqual({ ResultCode: 'Success' });
  const accepted = acceptJoin(d, devNonce, answer['PHYPayload']);
  expect(accepted.micValid).toBe(true);
  expect(accepted.netID).toBe(ns.peer['netID']);
  expect(accepted.devAddr).toBe('26011234');
  const nsKEK = { label: ns.kekLabel, key: ns.kek };
  for (const [name, value] of Object.entries(accepted.keys)) {
    secrets.add(value);
    const kek = name === 'AppSKey' ? { label: appSKeyKEK.kekLabel, key: appSKeyKEK.kek } : nsKEK;
    expect({ name, key: openEnvelope(answer[name], kek) }).toEqual({ name, key: value });
  }
  return accepted;
}

describe('e2e/join', () => {
  test.each(['1.0.2', '1.0.3', '1.0.4'])('%s/join succeeds, keys agree, second join has a higher JoinNonce', async (name) => {
    const d = devices[name]!;
    const first = await join(d, { devNonce: 10 });
    expect(first.answer['TransactionID']).toBe(first.request['TransactionID']);
    expect(first.answer['MessageType']).toBe('JoinAns');
    expect(first.answer['SenderID']).toBe(JOIN_EUI);
    expect(first.answer['ReceiverID']).toBe(NS_A_NETID);
    const a1 = verifyAccepted(d, 10, first.answer, nsA, nsA);
    expect(a1.optNeg).toBe(false);
    expect(first.answer['NwkSKey']['KEKLabel']).toBe(nsA.kekLabel);
    expect(first.answer).not.toHaveProperty('FNwkSIntKey');
    expect(typeof first.answer['SessionKeyID']).toBe('string');
    expect(JSON.stringify(first.answer)).not.toContain('null');

    const second = await join(d, { devNonce: 11 });
    const a2 = verifyAccepted(d, 11, second.answer, nsA, nsA);
    expect(a2.joinNonce).toBeGreaterThan(a1.joinNonce);
  });

  test("readyz/200: the store answers, the vault opens one of its devices' sealed root keys (software vault or HSM), the data directory takes a file", async () => {
    const r = await fetch(`${server.adminURL}readyz`);
    expect({ status: r.status, body: await r.json() }).toEqual({ status: 200, body: { status: 'ready' } });
  });

  test('1.1/OptNeg join: MIC with JSIntKey, three network keys, AppSKey for the application server', async () => {
    const d = devices['1.1']!;
    const cfList = '184f84e85684b85e84886684586e8400';
    const { answer } = await join(d, { devNonce: 0, cfList });
    const a = verifyAccepted(d, 0, answer, nsA, as1);
    expect(a.optNeg).toBe(true);
    expect(a.cfList).toBe(cfList);
    expect(answer).not.toHaveProperty('NwkSKey');
    expect(answer['AppSKey']['KEKLabel']).toBe(as1.kekLabel);
    const again = await join(d, { devNonce: 1 });
    expect(verifyAccepted(d, 1, again.answer, nsA, as1).joinNonce).toBe(a.joinNonce + 1);

    // The application server fetches the AppSKey by SessionKeyID.
    const appSKeyReq = { ProtocolVersion: '1.0', SenderID: 'as1.example.com', ReceiverID: JOIN_EUI, TransactionID: 5, MessageType: 'AppSKeyReq', DevEUI: d.devEUI, SessionKeyID: again.answer['SessionKeyID'] };
    const fetched = await postJSON(server.biURL, appSKeyReq, as1);
    expect(fetched.body['Result']['ResultCode']).toBe('Success');
    expect(fetched.body['MessageType']).toBe('AppSKeyAns');
    expect(openEnvelope(fetched.body['AppSKey'], { label: as1.kekLabel, key: as1.kek })).toBe(openEnvelope(again.answer['AppSKey'], { label: as1.kekLabel, key: as1.kek }));
  });
});

describe('e2e/transport refusals', () => {
  test('no client certificate → the TLS handshake fails', async () => {
    await expect(post(server.biURL, '{}', { ca: nsA.ca })).rejects.toThrow();
  });

  test('a certificate from another CA → the TLS handshake fails', async () => {
    const other = await makeTempDir('other-ca');
    await cli(['ns', 'add', '--data-dir', path.join(other, 'data'), '--name', 'ns-a', '--net-id', NS_A_NETID, '--vendor', 'generic', '--out', path.join(other, 'b')]);
    const foreign = await readBundle(path.join(other, 'b'));
    await expect(post(server.biURL, '{}', { ca: nsA.ca, cert: foreign.cert, key: foreign.key })).rejects.toThrow();
  });

  test('malformed input gets a clear answer, never a 500', async () => {
    const tls = { ca: nsA.ca, cert: nsA.cert, key: nsA.key };
    const notJSON = await post(server.biURL, 'not json', tls);
    expect(notJSON.status).toBe(400);
    expect(notJSON.body['message']).toMatch(/JSON/);
    const big = await post(server.biURL, JSON.stringify({ pad: 'x'.repeat(40 * 1024) }), tls);
    expect(big.status).toBe(400);
    expect(big.body['message']).toMatch(/larger/);
    expect((await post(server.biURL, '[1,2]', tls)).status).toBe(400);
    // A JSON object that is no good BI message is a BI answer (core/src/backend-interfaces/join-req.test.ts has them all).
    const missing = joinReq(devices['1.0.3']!, { devNonce: 6000 });
    delete missing['DevAddr'];
    const m10 = await postJSON(server.biURL, missing, nsA);
    expect(m10.status).toBe(200);
    expect(m10.body['Result']).toEqual({ ResultCode: 'MalformedRequest', Description: expect.stringMatching(/DevAddr/) });
  });
});

describe('e2e/concurrency', () => {
  test.each(['race-1.0.3', 'race-1.1'])('%s/200 concurrent JoinReqs with the same DevNonce → exactly one Success', async (name) => {
    const d = devices[name]!;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: nsA.ca, cert: nsA.cert, key: nsA.key });
    try {
      const body = joinReq(d, { devNonce: 31337 });
      const answers = await Promise.all(Array.from({ length: 200 }, () => postJSON(server.biURL, body, nsA, agent)));
      const codes = answers.map((a) => a.body['Result']['ResultCode']);
      expect(codes.filter((c) => c === 'Success')).toHaveLength(1);
      expect(codes.filter((c) => c !== 'Success' && c !== 'JoinReqFailed')).toEqual([]);
      const winner = answers.find((a) => a.body['Result']['ResultCode'] === 'Success')!;
      verifyAccepted(d, 31337, winner.body, nsA, nsA);
    } finally {
      agent.destroy();
    }
  });
});

describe('e2e/restart', () => {
  test('counters and nonces survive a restart (SIGTERM, graceful)', async () => {
    const d = devices['1.0.4']!;
    const before = await join(d, { devNonce: 20000 });
    const a1 = verifyAccepted(d, 20000, before.answer, nsA, nsA);
    // A network server keeps its connection alive: shutdown must not wait for it to go away.
    const keepAlive = new https.Agent({ keepAlive: true, ca: nsA.ca, cert: nsA.cert, key: nsA.key });
    expect((await postJSON(server.biURL, joinReq(d, { devNonce: 19999 }), nsA, keepAlive)).status).toBe(200); // any request will do
    const stopping = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5000);
    keepAlive.destroy();
    server = await startServer(dataDir);
    const replay = await join(d, { devNonce: 20000 });
    expect(replay.answer['Result']['ResultCode']).toBe('JoinReqFailed');
    const after = await join(d, { devNonce: 20001 });
    expect(verifyAccepted(d, 20001, after.answer, nsA, nsA).joinNonce).toBe(a1.joinNonce + 1);
  });
});

describe('e2e/delete and re-import', () => {
  test.each([
    ['1.0.3', '00000000000d0103'],
    ['1.0.4', '00000000000d0104'],
    ['1.1', '00000000000d0110'],
  ] as const)('%s/an old join-request replayed after `devices delete` and `devices import` with the same keys is refused; the next join has a higher JoinNonce', async (macVersion, devEUI) => {
    const d = device(`reimport-${macVersion}`, macVersion, devEUI);
    const file = path.join(work, `reimport-${devEUI}.csv`);
    const options = macVersion === '1.1' ? ['--ns', 'ns-a', '--as', 'as-1'] : ['--ns', 'ns-a'];
    await importCSV(file, [d], options);
    const first = await join(d, { devNonce: 300 });
    const before = verifyAccepted(d, 300, first.answer, nsA, macVersion === '1.1' ? as1 : nsA);

    await cli(['devices', 'delete', devEUI, '--data-dir', dataDir]);
    expect((await join(d, { devNonce: 301 })).answer['Result']['ResultCode']).toBe('UnknownDevEUI');
    await importCSV(file, [d], options);

    // The very bytes of the old join-request: refused, no keys.
    const replay = (await postJSON(server.biURL, { ...first.request, TransactionID: randomInt(1, 2 ** 32 - 1) }, nsA)).body as Record<string, any>;
    expect(replay['Result']['ResultCode']).toBe('JoinReqFailed');
    expect(replay['Result']['Description']).toMatch(/DevNonce/);
    for (const k of ['PHYPayload', 'NwkSKey', 'AppSKey', 'SessionKeyID']) expect(replay).not.toHaveProperty(k);
    const next = await join(d, { devNonce: 302 });
    expect(verifyAccepted(d, 302, next.answer, nsA, macVersion === '1.1' ? as1 : nsA).joinNonce).toBeGreaterThan(before.joinNonce);
  });
});

describe('e2e/secrets', () => {
  test('no root key, KEK or clear session key appears in any output of the run', async () => {
    await server.stop();
    server = await startServer(dataDir); // afterAll stops it again
    const everything = transcript.join('\n').toLowerCase();
    expect(everything).toMatch(/"msg":"bi request"/); // the log really was captured
    expect(secrets.size).toBeGreaterThan(30);
    const leaked = [...secrets].filter((s) => everything.includes(s.toLowerCase()));
    expect(leaked).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../../../test/src/support/lora-device';
import { expectVendorAnswer, VENDOR_JOIN_REQUESTS } from '../../../test/src/support/vendor-join-requests';
import { parseJoinEUIPrefix } from '../lorawan/join-eui-prefix';
import type { Vendor } from '../peers/vendor';
import { BIKit, joinReqMessage, kekOf, openEnvelope, type KitPeer } from './bi-test-kit.test-helper';

/**
 * JoinReq through the Backend Interfaces handler, in process (a SQLite store in a temporary
 * directory, the software vault): every vendor's request shape, the BI dialect (1.0 and 1.1
 * headers, tolerant input), every refusal and its result code in BI 1.0 and 1.1, AppSKeyReq,
 * and what a join records (join events, metrics). The transport (TLS, HTTP) is the end-to-end
 * tests' (test/src/e2e/join.test.ts).
 */
const JOIN_EUI = '70b3d57ed0000000';
const NSID = '70b3d57ed000abcd';

let kit: BIKit;
let nsA: KitPeer; // generic, the devices' network server
let nsB: KitPeer; // ChirpStack, a network server the devices are not bound to
let nsC: KitPeer; // The Things Stack, with an NSID (BI 1.1)
let as1: KitPeer;

function device(macVersion: string, devEUI: string): DeviceKeys {
  return { devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
}

const d103 = device('1.0.3', '0000000000000103');
const d104 = device('1.0.4', '0000000000000104');
const d11 = device('1.1', '0000000000000110');
const d11AS = device('1.1', '0000000000001110');
const dTTS = device('1.0.4', '00000000000c0104');
const outside: DeviceKeys = { ...device('1.0.3', '0000000000001002'), joinEUI: '0016c001fffe0001' };
/** Devices of their own for the replay table: each case starts from a fresh nonce state. */
const replayDevices = new Map<string, DeviceKeys>();
const vendorDevices = VENDOR_JOIN_REQUESTS.map((f, i) => device(f.macVersion, `00000000000d00${i.toString(16).padStart(2, '0')}`));
const vendorPeers: KitPeer[] = [];

const REPLAYS = [
  ['1.0.0', 'an old DevNonce', [500, 501, 500]],
  ['1.0.2', 'an old DevNonce', [500, 500]],
  ['1.0.3', 'an old DevNonce', [500, 501, 500]],
  ['1.0.4', 'an equal DevNonce', [500, 500]],
  ['1.0.4', 'a lower DevNonce', [600, 599]],
  ['1.1', 'an equal DevNonce', [500, 500]],
  ['1.1', 'a lower DevNonce', [600, 599]],
] as const;

beforeAll(async () => {
  kit = await BIKit.open({ servedJoinEUIs: [parseJoinEUIPrefix('70b3d57ed0000000/40')] });
  nsA = await kit.addNetworkServer('ns-a', { netID: '000013', vendor: 'generic' });
  nsB = await kit.addNetworkServer('ns-b', { netID: '000042', vendor: 'chirpstack' });
  nsC = await kit.addNetworkServer('ns-c', { netID: '000099', nsID: NSID, vendor: 'the-things-stack' });
  as1 = await kit.addApplicationServer('as-1', 'as1.example.com');
  await kit.addDevices([d103, d104, d11, outside], 'ns-a');
  await kit.addDevices([d11AS], 'ns-a', 'as-1');
  await kit.addDevices([dTTS], 'ns-c');
  for (const [i, [macVersion]] of REPLAYS.entries()) replayDevices.set(`${i}`, device(macVersion, `00000000000f00${i.toString(16).padStart(2, '0')}`));
  await kit.addDevices([...replayDevices.values()], 'ns-a');
  for (const [i, f] of VENDOR_JOIN_REQUESTS.entries()) {
    vendorPeers.push(await kit.addNetworkServer(`vendor-${i}`, { netID: f.netID, ...(f.nsID ? { nsID: f.nsID } : {}), vendor: f.vendor as Vendor }));
    await kit.addDevices([vendorDevices[i]!], `vendor-${i}`, f.withAS ? 'as-1' : null);
  }
});

afterAll(() => kit.close());

const join = (d: DeviceKeys, devNonce: number, from = nsA, extra: Record<string, unknown> = {}) => kit.send(joinReqMessage(d, joinRequest(d, devNonce), { senderID: (from.peer as { netID: string }).netID, extra }), from);

describe('bi/JoinReq: every vendor as it sends it', () => {
  test.each(VENDOR_JOIN_REQUESTS.map((f, i) => [f.name, i] as const))('%s', async (_name, i) => {
    const fixture = VENDOR_JOIN_REQUESTS[i]!;
    const d = vendorDevices[i]!;
    const request = fixture.request(d, joinRequest(d, 1).toString('hex'));
    expectVendorAnswer(fixture, d, request, await kit.send(request, vendorPeers[i]!), kekOf(vendorPeers[i]!), kekOf(as1));
  });
});

describe('bi/JoinReq: the BI dialect', () => {
  test('the answer header: TransactionID echoed, JoinAns from the JoinEUI to the NetID, no nulls; a second join has a higher JoinNonce', async () => {
    const request = joinReqMessage(d104, joinRequest(d104, 10), { senderID: '000013' });
    const first = await kit.send(request, nsA);
    expect(first).toMatchObject({ ProtocolVersion: '1.0', TransactionID: request['TransactionID'], MessageType: 'JoinAns', SenderID: JOIN_EUI, ReceiverID: '000013', Result: { ResultCode: 'Success' } });
    expect(JSON.stringify(first)).not.toContain('null');
    const a1 = acceptJoin(d104, 10, first['PHYPayload']);
    expect(first['NwkSKey']['KEKLabel']).toBe(nsA.kekLabel);
    expect(first).not.toHaveProperty('FNwkSIntKey');
    const a2 = acceptJoin(d104, 11, (await join(d104, 11))['PHYPayload']);
    expect(a2.joinNonce).toBe(a1.joinNonce + 1);
  });

  test('the-things-stack/BI 1.1 with SenderNSID, TransactionID 0, upper-case hex; the wrong SenderNSID → UnknownSender', async () => {
    const request = joinReqMessage(dTTS, joinRequest(dTTS, 1), { senderID: '000099', extra: { ProtocolVersion: '1.1' } });
    const upper = Object.fromEntries(Object.entries(request).map(([k, v]) => [k, typeof v === 'string' && k !== 'MessageType' ? v.toUpperCase() : v]));
    const answer = await kit.send({ ...upper, TransactionID: 0, SenderNSID: NSID.toUpperCase() }, nsC);
    expect(answer).toMatchObject({ ProtocolVersion: '1.1', TransactionID: 0, ReceiverNSID: NSID, Result: { ResultCode: 'Success' } });
    expect(openEnvelope(answer['NwkSKey'], kekOf(nsC))).toBe(acceptJoin(dTTS, 1, answer['PHYPayload']).keys['NwkSKey']);
    expect(typeof answer['SessionKeyID']).toBe('string');
    const wrong = await kit.send({ ...joinReqMessage(dTTS, joinRequest(dTTS, 2), { senderID: '000099', extra: { ProtocolVersion: '1.1' } }), SenderNSID: '0000000000000001' }, nsC);
    expect(wrong['Result']['ResultCode']).toBe('UnknownSender');
  });

  test('1.0.3/tolerant input: 0x prefixes, MACVersion "1.0.3", DLSettings as a number, RxDelay as a string, unknown fields', async () => {
    const r = joinReqMessage(d103, joinRequest(d103, 777), { senderID: '000013' });
    const answer = await kit.send({ ...r, PHYPayload: `0x${String(r['PHYPayload'])}`, DevEUI: `0x${d103.devEUI.toUpperCase()}`, DLSettings: 0, RxDelay: '1', Whatever: { a: 1 } }, nsA);
    expect(answer['Result']).toEqual({ ResultCode: 'Success' });
    expect(acceptJoin(d103, 777, answer['PHYPayload']).micValid).toBe(true);
  });

  test('1.1 without OptNeg (a 1.0-only network server): 1.0 mode with NwkKey as root; NwkSKey also as the three 1.1 keys', async () => {
    const answer = await join(d11, 0, nsA, { DLSettings: '00' });
    const a = acceptJoin(d11, 0, answer['PHYPayload']);
    expect(a).toMatchObject({ micValid: true, optNeg: false });
    const nwkSKey = openEnvelope(answer['NwkSKey'], kekOf(nsA));
    expect(nwkSKey).toBe(a.keys['NwkSKey']);
    for (const f of ['FNwkSIntKey', 'SNwkSIntKey', 'NwkSEncKey']) expect(openEnvelope(answer[f], kekOf(nsA))).toBe(nwkSKey);
  });
});

describe('bi/JoinReq: refusals, with their result codes', () => {
  test.each(REPLAYS.map(([mac, what, nonces], i) => [mac, what, nonces, i] as const))('%s/replay of %s → JoinReqFailed, no keys', async (_mac, _what, nonces, i) => {
    const d = replayDevices.get(`${i}`)!;
    for (const n of nonces.slice(0, -1)) expect((await join(d, n))['Result']['ResultCode']).toBe('Success');
    const answer = await join(d, nonces[nonces.length - 1]!);
    expect(answer['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(/DevNonce/) });
    for (const k of ['PHYPayload', 'NwkSKey', 'FNwkSIntKey', 'AppSKey', 'SessionKeyID']) expect(answer).not.toHaveProperty(k);
  });

  test.each([d103, d11])('$macVersion/wrong MIC → MICFailed, no keys, and the DevNonce is not burnt', async (d) => {
    const forged = { ...d, appKey: randomKey(), ...(d.nwkKey ? { nwkKey: randomKey() } : {}) };
    const answer = await kit.send(joinReqMessage(d, joinRequest(forged, 4000), { senderID: '000013' }), nsA);
    expect(answer['Result']).toEqual({ ResultCode: 'MICFailed', Description: 'join-request MIC does not verify' });
    expect(answer).not.toHaveProperty('NwkSKey');
    expect((await join(d, 4000))['Result']['ResultCode']).toBe('Success');
  });

  // [what, the request (from ns-a unless said), BI 1.0 result, BI 1.1 result]
  const REFUSALS: readonly [string, () => Promise<[Record<string, unknown>, KitPeer]>, string, string][] = [
    ['unknown DevEUI', async () => [joinReqMessage(device('1.0.3', 'ffffffffffff0001'), joinRequest(device('1.0.3', 'ffffffffffff0001'), 1), { senderID: '000013' }), nsA], 'UnknownDevEUI', 'UnknownDevEUI'],
    ['a network server the device is not bound to', async () => [joinReqMessage(d103, joinRequest(d103, 5000), { senderID: '000042' }), nsB], 'ActivationDisallowed', 'ActivationDisallowed'],
    ["a SenderID that is not the certificate's NetID", async () => [joinReqMessage(d103, joinRequest(d103, 5001), { senderID: '000042' }), nsA], 'UnknownSender', 'UnknownSender'],
    ['an application server sending a JoinReq', async () => [joinReqMessage(d103, joinRequest(d103, 5002), { senderID: 'as1.example.com' }), as1], 'UnknownSender', 'UnknownSender'],
    ['a JoinEUI outside the served ranges', async () => [joinReqMessage(outside, joinRequest(outside, 1), { senderID: '000013' }), nsA], 'UnknownReceiver', 'UnknownReceiver'],
    [
      "a ReceiverID that is not the join-request's JoinEUI",
      async () => [{ ...joinReqMessage(d103, joinRequest(d103, 5003), { senderID: '000013' }), ReceiverID: '70b3d57ed0000001' }, nsA],
      'UnknownReceiver',
      'UnknownReceiver',
    ],
    ["a DevEUI that is not the join-request's", async () => [{ ...joinReqMessage(d103, joinRequest(d103, 5004), { senderID: '000013' }), DevEUI: d104.devEUI }, nsA], 'MalformedRequest', 'MalformedMessage'],
    [
      'a missing DevAddr',
      async () => {
        const m = joinReqMessage(d103, joinRequest(d103, 6000), { senderID: '000013' });
        delete m['DevAddr'];
        return [m, nsA];
      },
      'MalformedRequest',
      'MalformedMessage',
    ],
    ['a PHYPayload too short for a join-request', async () => [{ ...joinReqMessage(d103, joinRequest(d103, 6001), { senderID: '000013' }), PHYPayload: '00010203' }, nsA], 'FrameSizeError', 'FrameSizeError'],
    ['a rejoin-request sent as JoinReq', async () => [{ ...joinReqMessage(d103, joinRequest(d103, 6002), { senderID: '000013' }), PHYPayload: `c001${'00'.repeat(21)}` }, nsA], 'MalformedRequest', 'MalformedMessage'],
    [
      'a MessageType this Join Server does not handle (answered as its …Ans)',
      async () => [{ ...joinReqMessage(d103, joinRequest(d103, 6003), { senderID: '000013' }), MessageType: 'PRStartReq' }, nsA],
      'MalformedRequest',
      'MalformedMessage',
    ],
  ];

  test.each(REFUSALS.flatMap(([what, make, r10, r11]) => [['1.0', what, make, r10] as const, ['1.1', what, make, r11] as const]))('BI %s/%s → %s (%s)', async (version, _what, make, expected) => {
    const [message, from] = await make();
    const answer = await kit.send({ ...message, ProtocolVersion: version }, from);
    expect(answer['Result']['ResultCode']).toBe(expected);
    expect(answer['Result']['Description']).toEqual(expect.any(String));
    if (message['MessageType'] === 'PRStartReq') expect(answer['MessageType']).toBe('PRStartAns');
    for (const k of ['PHYPayload', 'NwkSKey', 'AppSKey', 'SessionKeyID']) expect(answer).not.toHaveProperty(k);
  });

  test('an unknown ProtocolVersion → InvalidProtocolVersion, answered as BI 1.0', async () => {
    const answer = await kit.send({ ...joinReqMessage(d103, joinRequest(d103, 6004), { senderID: '000013' }), ProtocolVersion: '9.9' }, nsA);
    expect(answer).toMatchObject({ ProtocolVersion: '1.0', Result: { ResultCode: 'InvalidProtocolVersion' } });
  });
});

describe('bi/AppSKeyReq', () => {
  test('the application server fetches the AppSKey by SessionKeyID; the network server may not; an unknown session is UnknownDevEUI', async () => {
    const joined = await join(d11AS, 1);
    const a = acceptJoin(d11AS, 1, joined['PHYPayload']);
    expect(joined['AppSKey']['KEKLabel']).toBe(as1.kekLabel);
    expect(joined).not.toHaveProperty('NwkSKey');
    const request = { ProtocolVersion: '1.0', SenderID: 'as1.example.com', ReceiverID: JOIN_EUI, TransactionID: 5, MessageType: 'AppSKeyReq', DevEUI: d11AS.devEUI, SessionKeyID: joined['SessionKeyID'] };
    const fetched = await kit.send(request, as1);
    expect(fetched).toMatchObject({ MessageType: 'AppSKeyAns', Result: { ResultCode: 'Success' }, DevEUI: d11AS.devEUI, SessionKeyID: joined['SessionKeyID'] });
    expect(openEnvelope(fetched['AppSKey'], kekOf(as1))).toBe(a.keys['AppSKey']);
    // ... but the network server may not (the AppSKey is the application server's).
    const byNS = await kit.send(request, nsA);
    expect(byNS['Result']['ResultCode']).toBe('ActivationDisallowed');
    expect(byNS).not.toHaveProperty('AppSKey');
    const unknown = await kit.send({ ...request, SessionKeyID: randomBytes(16).toString('hex') }, as1);
    expect(unknown['Result']['ResultCode']).toBe('UnknownDevEUI');
    const bad = await kit.send({ ...request, SessionKeyID: 'xyz' }, as1);
    expect(bad['Result']['ResultCode']).toBe('MalformedRequest');
  });
});

describe('bi/JoinReq: what a join records', () => {
  test('a join event per JoinReq whose request parsed: its type, DevNonce, JoinNonce, the owner tenant; the joins metrics', async () => {
    kit.events.length = 0;
    const ok = await join(d104, 200);
    const refused = await join(d104, 200);
    await kit.send(joinReqMessage(outside, joinRequest(outside, 2), { senderID: '000013' }), nsA);
    const malformed = joinReqMessage(d104, joinRequest(d104, 201), { senderID: '000013' });
    delete malformed['DevAddr'];
    await kit.send(malformed, nsA);
    expect(kit.events).toEqual([
      expect.objectContaining({
        messageType: 'JoinReq',
        joinType: 'join',
        devEUI: d104.devEUI,
        joinEUI: JOIN_EUI,
        tenant: 'operator',
        peer: 'ns-a',
        macVersion: '1.0.4',
        result: 'Success',
        devNonce: 200,
        joinNonce: acceptJoin(d104, 200, ok['PHYPayload']).joinNonce,
      }),
      expect.objectContaining({ result: 'JoinReqFailed', description: refused['Result']['Description'], devNonce: 200 }),
      // Not served: the operator's to see, the frame still read.
      expect.objectContaining({ devEUI: outside.devEUI, result: 'UnknownReceiver', tenant: 'operator', devNonce: 2 }),
    ]);
    expect(kit.events[0]).not.toHaveProperty('description');
    expect(kit.events[1]).not.toHaveProperty('joinNonce');
    const metrics = await kit.metricsText();
    expect(metrics).toMatch(/joinery_joins_total\{message_type="JoinReq",result="Success",mac_version="1\.0\.4",peer="ns-a"\} \d+/);
    expect(metrics).toMatch(/joinery_joins_total\{message_type="JoinReq",result="MalformedRequest",mac_version="unknown",peer="ns-a"\} \d+/);
    expect(metrics).toMatch(/joinery_dev_nonce_refusals_total\{mac_version="1\.0\.4",peer="ns-a"\} \d+/);
    expect(metrics).toMatch(/joinery_bi_requests_total\{message_type="JoinReq",result="Success",peer="ns-a"\} \d+/);
    const line = kit.logLines().find((l) => l['msg'] === 'bi request' && l['result'] === 'UnknownReceiver');
    expect(line).toMatchObject({ messageType: 'JoinReq', devEUI: outside.devEUI, peer: 'ns-a', description: expect.stringMatching(/not served/) });
  });

  test('a failure inside the engine is `Other`, logged once with its error, still recorded as a join', async () => {
    const original = kit.store.commitJoin.bind(kit.store);
    kit.store.commitJoin = async () => {
      throw new Error('disk on fire');
    };
    kit.events.length = 0;
    try {
      const answer = await join(d104, 300);
      expect(answer['Result']).toEqual({ ResultCode: 'Other', Description: 'internal error in the Join Server; see its log' });
    } finally {
      kit.store.commitJoin = original;
    }
    expect(kit.events).toEqual([expect.objectContaining({ devEUI: d104.devEUI, result: 'Other', devNonce: 300, macVersion: '1.0.4' })]);
    expect(kit.logLines().filter((l) => l['msg'] === 'backend interfaces request failed')).toEqual([expect.objectContaining({ messageType: 'JoinReq', err: expect.objectContaining({ message: 'disk on fire' }) })]);
    expect((await join(d104, 300))['Result']['ResultCode']).toBe('Success');
  });
});

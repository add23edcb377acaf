import { acceptJoin, joinRequest, randomKey, rejoinRequest, type DeviceKeys } from '../../../test/src/support/lora-device';
import { BIKit, joinReqMessage, kekOf, openEnvelope, type KitPeer } from './bi-test-kit.test-helper';

/**
 * RejoinReq (LoRaWAN 1.1, types 0, 1, 2) through the Backend Interfaces handler, in process,
 * with lora-packet as the device: the MIC and counters of each type, the NetID of types 0/2, the
 * rejoin bound, and what a rejoin records.
 */
const JOIN_EUI = '70b3d57ed0000000';

let kit: BIKit;
let nsA: KitPeer;
const d11 = device('0000000000001101', '1.1');
const d10 = device('0000000000001001', '1.0.3');
/** 1.1 devices of their own: RJcount0, the NetID of a rejoin, the rejoin bound. */
const dRJ0 = device('0000000000001110', '1.1');
const dNetID = device('0000000000001120', '1.1');
const dBound = device('0000000000001130', '1.1');

function device(devEUI: string, macVersion: string): DeviceKeys {
  return { devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
}

beforeAll(async () => {
  kit = await BIKit.open();
  nsA = await kit.addNetworkServer('ns-a', { netID: '000013' });
  await kit.addDevices([d11, d10, dRJ0, dNetID, dBound], 'ns-a');
});

afterAll(() => kit.close());

const send = (messageType: 'JoinReq' | 'RejoinReq', d: DeviceKeys, phy: Buffer) => kit.send(joinReqMessage(d, phy, { senderID: '000013', messageType }), nsA);

function checkKeys(answer: Record<string, any>, keys: Record<string, string>): void {
  for (const [name, value] of Object.entries(keys)) expect({ name, key: openEnvelope(answer[name], kekOf(nsA)) }).toEqual({ name, key: value });
}

describe('bi/RejoinReq', () => {
  test('1.1/type 1: checked with JSIntKey, answered with JSEncKey and fresh keys; an old RJcount1 is refused', async () => {
    const first = await send('RejoinReq', d11, rejoinRequest(d11, 1, 5));
    expect(first['MessageType']).toBe('RejoinAns');
    expect(first['Result']).toEqual({ ResultCode: 'Success' });
    const a = acceptJoin(d11, 5, first['PHYPayload'], 1);
    expect(a.micValid).toBe(true);
    expect(a.optNeg).toBe(true);
    checkKeys(first, { FNwkSIntKey: a.keys['FNwkSIntKey']!, SNwkSIntKey: a.keys['SNwkSIntKey']!, NwkSEncKey: a.keys['NwkSEncKey']! });

    const second = await send('RejoinReq', d11, rejoinRequest(d11, 1, 6));
    const b = acceptJoin(d11, 6, second['PHYPayload'], 1);
    expect(b.micValid).toBe(true);
    expect(b.joinNonce).toBe(a.joinNonce + 1);
    expect(b.keys['FNwkSIntKey']).not.toBe(a.keys['FNwkSIntKey']);

    for (const replayed of [6, 5]) {
      const refused = await send('RejoinReq', d11, rejoinRequest(d11, 1, replayed));
      expect(refused['Result']['ResultCode']).toBe('JoinReqFailed');
      expect(refused['Result']['Description']).toMatch(/RJcount1/);
      expect(refused).not.toHaveProperty('PHYPayload');
    }
  });

  test('1.1/type 1: RJcount1 is not reset by a join-request', async () => {
    const joined = await send('JoinReq', d11, joinRequest(d11, 100));
    expect(acceptJoin(d11, 100, joined['PHYPayload']).micValid).toBe(true);
    expect((await send('RejoinReq', d11, rejoinRequest(d11, 1, 6)))['Result']['ResultCode']).toBe('JoinReqFailed');
    expect((await send('RejoinReq', d11, rejoinRequest(d11, 1, 7)))['Result']['ResultCode']).toBe('Success');
  });

  test('1.1/type 1 with a wrong MIC → MICFailed, RJcount1 not burnt', async () => {
    const forged = rejoinRequest({ ...d11, nwkKey: randomKey() }, 1, 50);
    expect((await send('RejoinReq', d11, forged))['Result']).toEqual({ ResultCode: 'MICFailed', Description: 'rejoin-request type 1 MIC does not verify' });
    expect((await send('RejoinReq', d11, rejoinRequest(d11, 1, 50)))['Result']['ResultCode']).toBe('Success');
  });

  test.each([0, 2] as const)('1.1/type %i: forwarded by the network server (which checked its MIC), answered with fresh keys; the same RJcount0 again is refused', async (type) => {
    // Type 0 and type 2 share RJcount0: each test takes counts of its own.
    const count = type * 10;
    const first = await send('RejoinReq', d11, rejoinRequest(d11, type, count, { netID: '000013' }));
    expect(first['Result']).toEqual({ ResultCode: 'Success' });
    const a = acceptJoin(d11, count, first['PHYPayload'], type);
    expect(a.micValid).toBe(true);
    checkKeys(first, { FNwkSIntKey: a.keys['FNwkSIntKey']! });
    const replayed = await send('RejoinReq', d11, rejoinRequest(d11, type, count, { netID: '000013' }));
    expect(replayed['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(new RegExp(`RJcount0 ${count} is not greater than the last RJcount0 ${count}`)) });
    expect(replayed).not.toHaveProperty('PHYPayload');
    const next = await send('RejoinReq', d11, rejoinRequest(d11, type, count + 1, { netID: '000013' }));
    expect(acceptJoin(d11, count + 1, next['PHYPayload'], type).joinNonce).toBe(a.joinNonce + 1);
  });

  test('1.1/type 0: a byte-identical rejoin-request forwarded again is refused, and costs no JoinNonce', async () => {
    const frame = rejoinRequest(dRJ0, 0, 3, { netID: '000013' });
    const first = await send('RejoinReq', dRJ0, frame);
    const a = acceptJoin(dRJ0, 3, first['PHYPayload'], 0);
    for (let i = 0; i < 3; i++) {
      const again = await send('RejoinReq', dRJ0, frame);
      expect(again['Result']['ResultCode']).toBe('JoinReqFailed');
      expect(again['Result']['Description']).toMatch(/RJcount0 3 /);
    }
    const next = await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 4, { netID: '000013' }));
    expect(acceptJoin(dRJ0, 4, next['PHYPayload'], 0).joinNonce).toBe(a.joinNonce + 1);
  });

  test('1.1/type 0: RJcount0 restarts at every join-accept (to a join-request, or to a rejoin type 1)', async () => {
    expect((await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 0, { netID: '000013' })))['Result']['ResultCode']).toBe('JoinReqFailed');
    const joined = await send('JoinReq', dRJ0, joinRequest(dRJ0, 1));
    expect(acceptJoin(dRJ0, 1, joined['PHYPayload']).micValid).toBe(true);
    const afterJoin = await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 0, 0, { netID: '000013' }));
    expect(afterJoin['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dRJ0, 0, afterJoin['PHYPayload'], 0);
    expect((await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 2, 0, { netID: '000013' })))['Result']['ResultCode']).toBe('JoinReqFailed');
    const type1 = await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 1, 1));
    acceptJoin(dRJ0, 1, type1['PHYPayload'], 1);
    const afterType1 = await send('RejoinReq', dRJ0, rejoinRequest(dRJ0, 2, 0, { netID: '000013' }));
    expect(afterType1['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dRJ0, 0, afterType1['PHYPayload'], 2);
  });

  test.each([0, 2] as const)("1.1/type %i naming another NetID than the network server's → JoinReqFailed, no JoinNonce spent", async (type) => {
    const refused = await send('RejoinReq', dNetID, rejoinRequest(dNetID, type, 40 + type, { netID: '000042' }));
    expect(refused['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(/NetID 000042, not the NetID 000013 of network server ns-a/) });
    expect(refused).not.toHaveProperty('PHYPayload');
    // The same counter with the right NetID is still accepted: the refusal wrote nothing.
    const ok = await send('RejoinReq', dNetID, rejoinRequest(dNetID, type, 40 + type, { netID: '000013' }));
    expect(ok['Result']).toEqual({ ResultCode: 'Success' });
    acceptJoin(dNetID, 40 + type, ok['PHYPayload'], type);
  });

  test('the rejoins accepted per device are bounded (default 10 an hour): the 11th gets JoinReqFailed with a Description, counted and logged; joins go on', async () => {
    for (let n = 1; n <= 10; n++) {
      const r = await send('RejoinReq', dBound, rejoinRequest(dBound, 0, n, { netID: '000013' }));
      expect({ n, result: r['Result'] }).toEqual({ n, result: { ResultCode: 'Success' } });
      acceptJoin(dBound, n, r['PHYPayload'], 0);
    }
    for (const frame of [rejoinRequest(dBound, 0, 11, { netID: '000013' }), rejoinRequest(dBound, 1, 1)]) {
      const r = await send('RejoinReq', dBound, frame);
      expect(r['Result']).toEqual({ ResultCode: 'JoinReqFailed', Description: expect.stringMatching(/10 rejoin-requests within the hour/) });
      expect(r).not.toHaveProperty('PHYPayload');
    }
    expect(await kit.metricsText()).toMatch(/^joinery_rejoins_refused_total\{peer="ns-a"\} 2$/m);
    const warned = kit.logLines().filter((l) => l['msg'] === 'rejoin-request refused: the device reached its rejoin bound (--rejoins-per-hour)');
    expect(warned).toEqual([expect.objectContaining({ devEUI: dBound.devEUI, peer: 'ns-a', level: 40 }), expect.objectContaining({ devEUI: dBound.devEUI })]);
    const joined = await send('JoinReq', dBound, joinRequest(dBound, 1));
    expect(acceptJoin(dBound, 1, joined['PHYPayload']).micValid).toBe(true);
  });

  test('1.0.x device: rejoin-requests are LoRaWAN 1.1 → JoinReqFailed', async () => {
    const pseudo: DeviceKeys = { ...d10, nwkKey: d10.appKey };
    const r = await send('RejoinReq', d10, rejoinRequest(pseudo, 1, 1));
    expect(r['Result']['ResultCode']).toBe('JoinReqFailed');
    expect(r['Result']['Description']).toMatch(/1\.1/);
  });

  test('a join-request sent as RejoinReq is malformed, not a crash', async () => {
    const r = await send('RejoinReq', d11, joinRequest(d11, 200));
    expect(['MalformedRequest', 'FrameSizeError']).toContain(r['Result']['ResultCode']);
  });

  test('each rejoin is recorded as a join event of its type, with its RJcount; one that does not decode by its type byte, without a counter', async () => {
    kit.events.length = 0;
    await send('RejoinReq', d11, rejoinRequest(d11, 1, 60));
    await send('RejoinReq', d11, rejoinRequest(d11, 2, 30, { netID: '000013' }));
    await send('RejoinReq', d11, Buffer.concat([rejoinRequest(d11, 2, 31, { netID: '000013' }), Buffer.of(0)]));
    expect(kit.events.map((e) => [e.messageType, e.joinType, e.result, e.devNonce])).toEqual([
      ['RejoinReq', 'rejoin-1', 'Success', 60],
      ['RejoinReq', 'rejoin-2', 'Success', 30],
      ['RejoinReq', 'rejoin-2', 'FrameSizeError', undefined],
    ]);
    expect(await kit.metricsText()).toMatch(/joinery_joins_total\{message_type="RejoinReq",result="Success",mac_version="1\.1",peer="ns-a"\} \d+/);
  });
});

import { randomKey, type DeviceKeys } from '../../../test/src/support/lora-device';
import { BIKit, type KitPeer } from './bi-test-kit.test-helper';

/** HomeNSReq and ErrorNotif through the Backend Interfaces handler, in process. */
const JOIN_EUI = '70b3d57ed0000000';
const NSID = '70b3d57ed0000abc';

let kit: BIKit;
let nsA: KitPeer;
let nsB: KitPeer;
let as1: KitPeer;
const d11: DeviceKeys = { devEUI: '0000000000001101', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };

beforeAll(async () => {
  kit = await BIKit.open();
  nsA = await kit.addNetworkServer('ns-a', { netID: '000013', nsID: NSID });
  nsB = await kit.addNetworkServer('ns-b', { netID: '000042', vendor: 'chirpstack' });
  as1 = await kit.addApplicationServer('as-1', 'as1');
  await kit.addDevices([d11], 'ns-a');
});

afterAll(() => kit.close());

describe('bi/HomeNSReq', () => {
  const homeNSReq = (devEUI: string, version = '1.0') => ({
    ProtocolVersion: version,
    SenderID: '000013',
    ReceiverID: JOIN_EUI,
    TransactionID: 9,
    MessageType: 'HomeNSReq',
    DevEUI: devEUI,
    ...(version === '1.1' ? { SenderNSID: NSID } : {}),
  });

  test("BI 1.0: HNetID of the device's network server; BI 1.1 adds HNSID", async () => {
    const r10 = await kit.send(homeNSReq(d11.devEUI), nsA);
    expect(r10).toMatchObject({ MessageType: 'HomeNSAns', Result: { ResultCode: 'Success' }, HNetID: '000013', TransactionID: 9 });
    expect(r10).not.toHaveProperty('HNSID');
    const r11 = await kit.send(homeNSReq(d11.devEUI, '1.1'), nsA);
    expect(r11).toMatchObject({ ProtocolVersion: '1.1', HNetID: '000013', HNSID: NSID });
  });

  test('unknown DevEUI → UnknownDevEUI; an application server may not ask', async () => {
    expect((await kit.send(homeNSReq('ffffffffffffffff'), nsA))['Result']['ResultCode']).toBe('UnknownDevEUI');
    const byAS = await kit.send({ ...homeNSReq(d11.devEUI), SenderID: 'as1' }, as1);
    expect(byAS['Result']['ResultCode']).toBe('UnknownSender');
    expect(byAS).not.toHaveProperty('HNetID');
  });

  test('another known network server may ask (roaming)', async () => {
    const r = await kit.send({ ...homeNSReq(d11.devEUI), SenderID: '000042' }, nsB);
    expect(r['HNetID']).toBe('000013');
  });

  test('a malformed DevEUI → MalformedRequest; HomeNSReq is no join (no join event)', async () => {
    kit.events.length = 0;
    expect((await kit.send(homeNSReq('xyz'), nsA))['Result']['ResultCode']).toBe('MalformedRequest');
    expect(kit.events).toEqual([]);
  });
});

describe('bi/ErrorNotif', () => {
  test('acknowledged (no answer message), logged and counted; misspelt result codes understood', async () => {
    const reply = await kit.reply({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: 77, MessageType: 'ErrorNotif', Result: { ResultCode: 'UnkownReceiver', Description: 'test' } }, nsA);
    expect(reply).toEqual({ kind: 'acknowledge' });
    expect(await kit.metricsText()).toMatch(/joinery_error_notifs_received_total\{result="UnknownReceiver",peer="ns-a"\} 1/);
    expect(kit.logLines()).toContainEqual(expect.objectContaining({ msg: 'ErrorNotif received', peer: 'ns-a', transactionID: 77, notified: 'UnknownReceiver', description: 'test' }));
    expect(kit.logLines()).toContainEqual(expect.objectContaining({ msg: 'bi request', messageType: 'ErrorNotif', result: 'Acknowledged' }));
  });
});

describe('bi/callers', () => {
  test('a certificate no peer has → UnknownSender; no credential at all → unauthenticated', async () => {
    const message = { ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: 1, MessageType: 'HomeNSReq', DevEUI: d11.devEUI };
    const unknown = await kit.handler.handle(message, { certFingerprint: 'ab'.repeat(32), pathPeer: null, authorization: undefined });
    expect(unknown.kind === 'answer' && unknown.answer['Result']['ResultCode']).toBe('UnknownSender');
    const none = await kit.handler.handle(message, { certFingerprint: null, pathPeer: null, authorization: undefined });
    expect(none.kind).toBe('unauthenticated');
  });
});

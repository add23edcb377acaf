import fc from 'fast-check';
import lora from 'lora-packet';
import { joinRequest, randomKey, rejoinRequest, type DeviceKeys } from '../support/lora-device';
import { fuzzCase, type FuzzCase, type FuzzWorld } from './arbitraries';
import { aesCmac } from './cmac';
import { defuse, joinRequestFrame, jsIntKey, rejoin02Frame, rejoin1Frame, type RealDevice } from './frames';
import { DuplicateKeys, RawJSON, toJSONText } from './json-text';
import type { Exchange } from './http';
import { classify, judge } from './oracle';

/** The fuzzer's own tools, checked against RFC 4493 and lora-packet before they judge a server. */

const d11: DeviceKeys = { devEUI: '0004a30b00fa0110', joinEUI: '70b3d57ed0000000', macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
const d10: DeviceKeys = { devEUI: '0004a30b00fa0103', joinEUI: '70b3d57ed0000000', macVersion: '1.0.3', appKey: randomKey() };

test('AES-CMAC: RFC 4493 test vectors', () => {
  const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
  const m = Buffer.from('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710', 'hex');
  expect(aesCmac(key, Buffer.alloc(0)).toString('hex')).toBe('bb1d6929e95937287fa37d129b756746');
  expect(aesCmac(key, m.subarray(0, 16)).toString('hex')).toBe('070a16b46b4d4144f79bdd9dd04a287c');
  expect(aesCmac(key, m.subarray(0, 40)).toString('hex')).toBe('dfa66747de9ae63030ca32611497c827');
  expect(aesCmac(key, m).toString('hex')).toBe('51f0bebf7e3b9d92fc49741779363cfe');
});

test('frames: join-request and rejoin type 1 as lora-packet makes them; JSIntKey as lora-packet derives it', () => {
  for (const d of [d10, d11]) expect(joinRequestFrame(d, 513).toString('hex')).toBe(joinRequest(d, 513).toString('hex'));
  expect(jsIntKey(d11).toString('hex')).toBe(lora.generateJSKeys(Buffer.from(d11.nwkKey!, 'hex'), Buffer.from(d11.devEUI, 'hex')).JSIntKey.toString('hex'));
  expect(rejoin1Frame(d11, 77).toString('hex')).toBe(rejoinRequest(d11, 1, 77).toString('hex'));
  expect(joinRequestFrame(d10, 5, 1).equals(joinRequest(d10, 5))).toBe(false);
});

test('defuse bends exactly the frames a device bound to the sender could accept', () => {
  const real = (d: DeviceKeys, counter: boolean): RealDevice => ({ ...d, ns: 'ns-a', counter, lastDevNonce: 10, usedDevNonces: [3, 10] });
  const devices = [real(d10, false), real(d11, true)];
  const fresh = joinRequestFrame(d10, 11);
  expect(defuse(fresh, 'ns-a', devices).equals(fresh)).toBe(false); // a valid join of its own device
  expect(defuse(fresh, 'ns-b', devices).equals(fresh)).toBe(true); // another peer's: refused anyway
  expect(defuse(joinRequestFrame(d10, 3), 'ns-a', devices).equals(joinRequestFrame(d10, 3))).toBe(true); // a replay
  expect(defuse(joinRequestFrame(d11, 9), 'ns-a', devices).equals(joinRequestFrame(d11, 9))).toBe(true); // counter replay
  expect(defuse(joinRequestFrame(d11, 11), 'ns-a', devices).equals(joinRequestFrame(d11, 11))).toBe(false);
  expect(defuse(rejoin1Frame(d11, 1), 'ns-a', devices).equals(rejoin1Frame(d11, 1))).toBe(false);
  const type0 = rejoin02Frame(0, Buffer.from('000013', 'hex'), d11.devEUI, 1, Buffer.alloc(4));
  const bent = defuse(type0, 'ns-a', devices);
  expect(bent.equals(type0)).toBe(false);
  expect(bent.subarray(5, 13).reverse().toString('hex')).not.toBe(d11.devEUI);
});

test('json-text: tokens JSON.stringify cannot write, duplicate keys in order', () => {
  expect(
    toJSONText(
      new DuplicateKeys([
        ['a', 1],
        ['b', new RawJSON('1e400')],
        ['a', 'x'],
      ]),
    ),
  ).toBe('{"a":1,"b":1e400,"a":"x"}');
  expect(toJSONText({ a: [null, undefined, { b: new RawJSON('-0') }] })).toBe('{"a":[null,null,{"b":-0}]}');
});

test('generators: deterministic for a seed, and their bodies are of every kind', () => {
  const world: FuzzWorld = {
    joinEUI: d10.joinEUI,
    peers: [
      { name: 'ns-a', kind: 'ns', senderID: '000013' },
      { name: 'ns-b', kind: 'ns', senderID: '000042' },
      { name: 'ns-c', kind: 'ns', senderID: '000099', nsID: '70b3d57ed000abcd' },
      { name: 'as-1', kind: 'as', senderID: 'as1.example.com' },
    ],
    devices: [
      { ...d10, ns: 'ns-a', counter: false, lastDevNonce: 10, usedDevNonces: [3, 10] },
      { ...d11, ns: 'ns-a', counter: true, lastDevNonce: 10, usedDevNonces: [10] },
    ],
    sessionKeyIDs: ['00112233445566778899aabbccddeeff'],
  };
  const a = fc.sample(fuzzCase(world), { seed: 42, numRuns: 2000 });
  const b = fc.sample(fuzzCase(world), { seed: 42, numRuns: 2000 });
  expect(a.map((c) => c.body.toString('hex'))).toEqual(b.map((c) => c.body.toString('hex')));
  const kinds = new Set(a.map((c) => (classify(c).message === undefined ? 'client-error' : 'bi-answer')));
  expect([...kinds].sort()).toEqual(['bi-answer', 'client-error']);
  const labels = new Set(a.map((c) => c.label.replace(/\+.*$/, '')));
  for (const l of [
    'JoinReq/wrong-mic',
    'RejoinReq/rejoin1-wrong-mic',
    'AppSKeyReq/unknown-session',
    'HomeNSReq/real-device',
    'ErrorNotif',
    'unhandled-MessageType',
    'raw/random-bytes',
    'raw/deep-json',
    'raw/oversized',
  ]) {
    expect({ l, seen: labels.has(l) }).toEqual({ l, seen: true });
  }
});

describe('oracle', () => {
  const bi = (message: Record<string, unknown>, extra: Partial<FuzzCase> = {}): FuzzCase => ({
    label: 't',
    peer: 'ns-a',
    method: 'POST',
    path: '/',
    contentType: 'application/json',
    headers: {},
    chunked: false,
    body: Buffer.from(JSON.stringify(message)),
    ...extra,
  });
  const answer = (status: number, body: unknown): Exchange => ({
    ok: true,
    status,
    contentType: 'application/json; charset=utf-8',
    text: body === undefined ? '' : JSON.stringify(body),
    newConnection: false,
    resumedTLS: false,
    closed: false,
  });
  const req = { ProtocolVersion: '1.1', MessageType: 'JoinReq', TransactionID: 7 };
  const ok = { ProtocolVersion: '1.1', TransactionID: 7, MessageType: 'JoinAns', SenderID: 'x', ReceiverID: 'y', Result: { ResultCode: 'MICFailed', Description: 'd' } };

  test('accepts a refusal, and a 4xx with a message for what is not a BI message', () => {
    expect(judge(bi(req), answer(200, ok))).toBeUndefined();
    expect(judge(bi({}, { body: Buffer.from('nope') }), answer(400, { message: 'not JSON' }))).toBeUndefined();
    expect(judge(bi({ ...req, MessageType: 'ErrorNotif' }), answer(200, undefined))).toBeUndefined();
  });

  test.each([
    ['a 5xx', answer(500, { message: 'x' }), /HTTP 500/],
    ['a dropped connection', { ok: false, error: 'ECONNRESET' } as Exchange, /dropped/],
    ['a Success', answer(200, { ...ok, Result: { ResultCode: 'Success' } }), /Success/],
    ['a null', answer(200, { ...ok, Lifetime: null }), /null/],
    ['another TransactionID', answer(200, { ...ok, TransactionID: 8 }), /TransactionID/],
    ['another ProtocolVersion', answer(200, { ...ok, ProtocolVersion: '1.0', Result: { ResultCode: 'MalformedRequest' } }), /asked in BI 1.1/],
    ['MalformedRequest in BI 1.1', answer(200, { ...ok, Result: { ResultCode: 'MalformedRequest' } }), /MalformedRequest in a BI 1.1/],
    ['an unknown result code', answer(200, { ...ok, Result: { ResultCode: 'Nope' } }), /not a spec result code/],
    ['a 4xx for a JSON object', answer(400, { message: 'x' }), /not 200/],
    ['an empty 200 for a JoinReq', answer(200, undefined), /empty body/],
  ])('refuses %s', (_what, x, problem) => {
    expect(judge(bi(req), x)).toMatch(problem);
  });
});

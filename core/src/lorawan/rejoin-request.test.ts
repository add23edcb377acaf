import { randomBytes } from 'node:crypto';
import { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { frameErrorOf } from './frame-error.test-helper';
import { eui64FromLE, netIDFromLE } from './identifiers';
import { devNonce } from './nonces';
import { decodeRejoinRequest, encodeRejoinRequest, rejoinRequestMICInput, type RejoinRequestFields } from './rejoin-request';

const rnd16 = (): number => randomBytes(2).readUInt16BE(0);

function randomFields(rejoinType: 0 | 1 | 2): RejoinRequestFields {
  return rejoinType === 1
    ? { rejoinType, joinEUI: eui64FromLE(randomBytes(8)), devEUI: eui64FromLE(randomBytes(8)), rjCount1: devNonce(rnd16()) }
    : { rejoinType, netID: netIDFromLE(randomBytes(3)), devEUI: eui64FromLE(randomBytes(8)), rjCount0: devNonce(rnd16()) };
}

describe('rejoin-request', () => {
  test.each([0, 1, 2] as const)('rejoin-request/type %d round trip, MIC over all but the last 4 bytes', (type) => {
    for (let i = 0; i < 10; i++) {
      const key = AES128Key.fromBytes(randomBytes(16));
      const fields = randomFields(type);
      const phy = encodeRejoinRequest(fields, key);
      expect(phy).toHaveLength(type === 1 ? 24 : 19);
      expect(phy[0]).toBe(0xc0);
      expect(phy[1]).toBe(type);
      const decoded = decodeRejoinRequest(phy);
      expect(decoded).toEqual({ ...fields, mic: phy.subarray(phy.length - 4) });
      expect(rejoinRequestMICInput(phy).equals(phy.subarray(0, phy.length - 4))).toBe(true);
      expect(aesCmac(key, rejoinRequestMICInput(phy)).subarray(0, 4).equals(decoded.mic)).toBe(true);
    }
  });

  test('rejoin-request/fields are little-endian on air', () => {
    const key = AES128Key.fromBytes(Buffer.alloc(16));
    const t0 = encodeRejoinRequest({ rejoinType: 0, netID: netIDFromLE(Buffer.from('030201', 'hex')), devEUI: eui64FromLE(Buffer.from('1817161514131211', 'hex')), rjCount0: devNonce(0x0a0b) }, key);
    expect(t0.subarray(0, 15).toString('hex')).toBe('c000' + '030201' + '1817161514131211' + '0b0a');
    const t1 = encodeRejoinRequest({ rejoinType: 1, joinEUI: eui64FromLE(Buffer.from('0807060504030201', 'hex')), devEUI: eui64FromLE(Buffer.from('1817161514131211', 'hex')), rjCount1: devNonce(0x0a0b) }, key);
    expect(t1.subarray(0, 20).toString('hex')).toBe('c001' + '0807060504030201' + '1817161514131211' + '0b0a');
    const d1 = decodeRejoinRequest(t1);
    if (d1.rejoinType !== 1) throw new Error('expected type 1');
    expect(d1.joinEUI).toBe('0102030405060708');
    expect(d1.rjCount1).toBe(0x0a0b);
  });

  test('rejoin-request/unknown rejoin type is RejoinType', () => {
    const phy = encodeRejoinRequest(randomFields(0), AES128Key.fromBytes(randomBytes(16)));
    for (const type of [3, 4, 0x80, 0xff]) {
      const bad = Buffer.from(phy);
      bad[1] = type;
      frameErrorOf(() => decodeRejoinRequest(bad), 'RejoinType');
      frameErrorOf(() => rejoinRequestMICInput(bad), 'RejoinType');
    }
  });

  test('rejoin-request/size must match the type: FrameSize', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const t0 = encodeRejoinRequest(randomFields(0), key);
    const t1 = encodeRejoinRequest(randomFields(1), key);
    frameErrorOf(() => decodeRejoinRequest(Buffer.of(0xc0)), 'FrameSize');
    frameErrorOf(() => decodeRejoinRequest(t0.subarray(0, 18)), 'FrameSize');
    frameErrorOf(() => decodeRejoinRequest(Buffer.concat([t0, Buffer.alloc(5)])), 'FrameSize'); // type 0 at type 1's size
    frameErrorOf(() => decodeRejoinRequest(t1.subarray(0, 19)), 'FrameSize'); // type 1 at type 0's size
    frameErrorOf(() => decodeRejoinRequest(Buffer.concat([t1, Buffer.of(0)])), 'FrameSize');
    frameErrorOf(() => rejoinRequestMICInput(t1.subarray(0, 23)), 'FrameSize');
    frameErrorOf(() => decodeRejoinRequest(Buffer.alloc(0)), 'FrameSize');
  });

  test('rejoin-request/wrong message type is MType, unknown major is Major', () => {
    const phy = encodeRejoinRequest(randomFields(2), AES128Key.fromBytes(randomBytes(16)));
    for (const mhdr of [0x00, 0x20, 0x40, 0xe0]) {
      const bad = Buffer.from(phy);
      bad[0] = mhdr;
      frameErrorOf(() => decodeRejoinRequest(bad), 'MType');
    }
    const bad = Buffer.from(phy);
    bad[0] = 0xc1;
    frameErrorOf(() => decodeRejoinRequest(bad), 'Major');
  });
});

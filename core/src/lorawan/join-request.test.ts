import { randomBytes } from 'node:crypto';
import { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { FrameError } from './frame-error';
import { frameErrorOf } from './frame-error.test-helper';
import { eui64FromLE } from './identifiers';
import { decodeJoinRequest, encodeJoinRequest, joinRequestMICInput } from './join-request';
import { devNonce } from './nonces';

function randomFields() {
  return {
    joinEUI: eui64FromLE(randomBytes(8)),
    devEUI: eui64FromLE(randomBytes(8)),
    devNonce: devNonce(randomBytes(2).readUInt16BE(0)),
  };
}

describe('join-request', () => {
  test('join-request/encode then decode round trip, MIC over the first 19 bytes', () => {
    for (let i = 0; i < 20; i++) {
      const key = AES128Key.fromBytes(randomBytes(16));
      const fields = randomFields();
      const phy = encodeJoinRequest(fields, key);
      expect(phy).toHaveLength(23);
      expect(phy[0]).toBe(0x00);
      const decoded = decodeJoinRequest(phy);
      expect(decoded).toEqual({ ...fields, mic: phy.subarray(19) });
      expect(joinRequestMICInput(phy).equals(phy.subarray(0, 19))).toBe(true);
      expect(aesCmac(key, joinRequestMICInput(phy)).subarray(0, 4).equals(decoded.mic)).toBe(true);
    }
  });

  test('join-request/fields are little-endian on air', () => {
    const phy = encodeJoinRequest(
      { joinEUI: eui64FromLE(Buffer.from('0807060504030201', 'hex')), devEUI: eui64FromLE(Buffer.from('1817161514131211', 'hex')), devNonce: devNonce(0x0102) },
      AES128Key.fromBytes(Buffer.alloc(16)),
    );
    expect(phy.subarray(0, 19).toString('hex')).toBe('00' + '0807060504030201' + '1817161514131211' + '0201');
    const decoded = decodeJoinRequest(phy);
    expect(decoded.joinEUI).toBe('0102030405060708');
    expect(decoded.devEUI).toBe('1112131415161718');
    expect(decoded.devNonce).toBe(0x0102);
  });

  test('join-request/wrong size is FrameSize', () => {
    const phy = encodeJoinRequest(randomFields(), AES128Key.fromBytes(randomBytes(16)));
    for (const len of [0, 1, 19, 22]) frameErrorOf(() => decodeJoinRequest(phy.subarray(0, len)), 'FrameSize');
    frameErrorOf(() => decodeJoinRequest(Buffer.concat([phy, Buffer.of(0)])), 'FrameSize');
    frameErrorOf(() => joinRequestMICInput(phy.subarray(0, 22)), 'FrameSize');
  });

  test('join-request/wrong message type is MType', () => {
    const phy = encodeJoinRequest(randomFields(), AES128Key.fromBytes(randomBytes(16)));
    for (const mhdr of [0x20, 0x40, 0x80, 0xc0, 0xe0]) {
      const bad = Buffer.from(phy);
      bad[0] = mhdr;
      frameErrorOf(() => decodeJoinRequest(bad), 'MType');
      frameErrorOf(() => joinRequestMICInput(bad), 'MType');
    }
  });

  test('join-request/unknown major version is Major', () => {
    const phy = encodeJoinRequest(randomFields(), AES128Key.fromBytes(randomBytes(16)));
    for (const mhdr of [0x01, 0x02, 0x03]) {
      const bad = Buffer.from(phy);
      bad[0] = mhdr;
      const err = frameErrorOf(() => decodeJoinRequest(bad), 'Major');
      expect(err).toBeInstanceOf(FrameError);
      expect(err.name).toBe('FrameError');
    }
  });

  test('join-request/RFU bits of the MHDR are ignored', () => {
    const phy = encodeJoinRequest(randomFields(), AES128Key.fromBytes(randomBytes(16)));
    const rfu = Buffer.from(phy);
    rfu[0] = 0x1c;
    expect(decodeJoinRequest(rfu).devEUI).toBe(decodeJoinRequest(phy).devEUI);
  });

  test('join-request/decodes a Uint8Array view and copies the MIC out of it', () => {
    const phy = encodeJoinRequest(randomFields(), AES128Key.fromBytes(randomBytes(16)));
    const backing = Buffer.concat([Buffer.alloc(5, 0xee), phy, Buffer.alloc(3, 0xee)]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, 23);
    const decoded = decodeJoinRequest(view);
    expect(decoded).toEqual(decodeJoinRequest(phy));
    const mic = Buffer.from(decoded.mic);
    backing.fill(0);
    expect(decoded.mic.equals(mic)).toBe(true);
  });
});

import { randomBytes } from 'node:crypto';
import { aesDecryptECB } from './aes';
import { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { frameErrorOf } from './frame-error.test-helper';
import { devAddrFromLE, eui64FromLE, netIDFromLE, parseDevAddr, parseEUI64, parseNetID } from './identifiers';
import {
  DL_SETTINGS_OPT_NEG,
  JOIN_ACCEPT_MHDR,
  buildJoinAccept10,
  buildJoinAccept11,
  decodeJoinAccept,
  decryptJoinAccept,
  encodeJoinAcceptPlain,
  encryptJoinAccept,
  joinAcceptMICInput11,
  verifyJoinAcceptMIC10,
  verifyJoinAcceptMIC11,
  type JoinAcceptFields,
} from './join-accept';
import { devNonce, joinNonce } from './nonces';

const newKey = (): AES128Key => AES128Key.fromBytes(randomBytes(16));

function randomFields(withCFList: boolean, optNeg = false): JoinAcceptFields {
  const dl = randomBytes(1)[0]! & 0x7f;
  return {
    joinNonce: joinNonce(randomBytes(3).readUIntBE(0, 3)),
    netID: netIDFromLE(randomBytes(3)),
    devAddr: devAddrFromLE(randomBytes(4)),
    dlSettings: optNeg ? dl | DL_SETTINGS_OPT_NEG : dl,
    rxDelay: randomBytes(1)[0]! & 0x0f,
    ...(withCFList ? { cfList: randomBytes(16) } : {}),
  };
}

describe('join-accept', () => {
  test('join-accept/constants', () => {
    expect(JOIN_ACCEPT_MHDR).toBe(0x20);
    expect(DL_SETTINGS_OPT_NEG).toBe(0x80);
  });

  test('join-accept/plain layout: MHDR | JoinNonce LE | NetID LE | DevAddr LE | DLSettings | RxDelay | CFList', () => {
    const fields = {
      joinNonce: joinNonce(0x010203),
      netID: parseNetID('040506'),
      devAddr: parseDevAddr('0708090a'),
      dlSettings: 0x8b,
      rxDelay: 0x05,
    };
    expect(encodeJoinAcceptPlain(fields).toString('hex')).toBe('20' + '030201' + '060504' + '0a090807' + '8b' + '05');
    const cfList = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
    expect(encodeJoinAcceptPlain({ ...fields, cfList }).toString('hex')).toBe('20030201060504' + '0a0908078b05' + cfList.toString('hex'));
  });

  test('join-accept/1.1 MIC input: JoinReqType | JoinEUI LE | DevNonce LE | plain', () => {
    const plain = Buffer.from('20aabbcc', 'hex');
    expect(joinAcceptMICInput11(0xff, parseEUI64('0102030405060708'), devNonce(0x0a0b), plain).toString('hex')).toBe('ff' + '0807060504030201' + '0b0a' + '20aabbcc');
  });

  test('join-accept/rejects field values that are not bytes or a 16-byte CFList', () => {
    const fields = randomFields(false);
    expect(() => encodeJoinAcceptPlain({ ...fields, dlSettings: 256 })).toThrow(RangeError);
    expect(() => encodeJoinAcceptPlain({ ...fields, rxDelay: -1 })).toThrow(RangeError);
    expect(() => encodeJoinAcceptPlain({ ...fields, rxDelay: 1.5 })).toThrow(RangeError);
    expect(() => encodeJoinAcceptPlain({ ...fields, cfList: Buffer.alloc(15) })).toThrow(RangeError);
    expect(() => joinAcceptMICInput11(0x100, parseEUI64('0102030405060708'), devNonce(1), Buffer.alloc(13))).toThrow(RangeError);
  });

  test.each([
    ['without CFList', false],
    ['with CFList', true],
  ])('join-accept/1.0/build, decrypt, verify and decode, %s', (_name, withCFList) => {
    for (let i = 0; i < 10; i++) {
      const key = newKey();
      const fields = randomFields(withCFList);
      const phy = buildJoinAccept10(key, fields);
      expect(phy).toHaveLength(withCFList ? 33 : 17);
      expect(phy[0]).toBe(JOIN_ACCEPT_MHDR);
      const plain = decryptJoinAccept(key, phy);
      const expectedPlain = encodeJoinAcceptPlain(fields);
      expect(plain.subarray(0, -4).equals(expectedPlain)).toBe(true);
      expect(plain.subarray(-4).equals(aesCmac(key, expectedPlain).subarray(0, 4))).toBe(true);
      expect(verifyJoinAcceptMIC10(key, plain)).toBe(true);
      expect(verifyJoinAcceptMIC10(newKey(), plain)).toBe(false);
      expect(decodeJoinAccept(plain)).toEqual({ ...fields, mic: plain.subarray(-4) });
    }
  });

  test.each([
    ['without CFList', false],
    ['with CFList', true],
  ])('join-accept/1.1/build, decrypt, verify and decode, %s', (_name, withCFList) => {
    const joinEUI = eui64FromLE(randomBytes(8));
    for (const joinReqType of [0xff, 0x00, 0x01, 0x02]) {
      const jsIntKey = newKey();
      const encKey = newKey();
      const dn = devNonce(randomBytes(2).readUInt16LE(0));
      const fields = randomFields(withCFList, true);
      const phy = buildJoinAccept11(jsIntKey, encKey, joinReqType, joinEUI, dn, fields);
      const plain = decryptJoinAccept(encKey, phy);
      expect(verifyJoinAcceptMIC11(jsIntKey, joinReqType, joinEUI, dn, plain)).toBe(true);
      // Each MIC input matters: key, JoinReqType, JoinEUI, DevNonce.
      expect(verifyJoinAcceptMIC11(encKey, joinReqType, joinEUI, dn, plain)).toBe(false);
      expect(verifyJoinAcceptMIC11(jsIntKey, joinReqType ^ 0x01, joinEUI, dn, plain)).toBe(false);
      expect(verifyJoinAcceptMIC11(jsIntKey, joinReqType, parseEUI64('0000000000000001'), dn, plain)).toBe(false);
      expect(verifyJoinAcceptMIC11(jsIntKey, joinReqType, joinEUI, devNonce(dn ^ 0x8000), plain)).toBe(false);
      // ... and it is not the 1.0 MIC.
      expect(verifyJoinAcceptMIC10(jsIntKey, plain)).toBe(false);
      expect(decodeJoinAccept(plain)).toEqual({ ...fields, mic: plain.subarray(-4) });
    }
  });

  test('join-accept/a changed byte fails the MIC', () => {
    const key = newKey();
    const plain = decryptJoinAccept(key, buildJoinAccept10(key, randomFields(true)));
    for (let at = 0; at < plain.length; at++) {
      const bad = Buffer.from(plain);
      bad[at]! ^= 0x10;
      expect(verifyJoinAcceptMIC10(key, bad)).toBe(false);
    }
  });

  test('join-accept/encryption keeps the MHDR and AES-decrypts the rest', () => {
    const key = newKey();
    const plainWithMIC = Buffer.concat([encodeJoinAcceptPlain(randomFields(true)), randomBytes(4)]);
    const enc = encryptJoinAccept(key, plainWithMIC);
    expect(enc[0]).toBe(plainWithMIC[0]);
    expect(enc.subarray(1).equals(aesDecryptECB(key, plainWithMIC.subarray(1)))).toBe(true);
    expect(decryptJoinAccept(key, enc).equals(plainWithMIC)).toBe(true);
  });

  test('join-accept/wrong size is FrameSize', () => {
    const key = newKey();
    const plain = decryptJoinAccept(key, buildJoinAccept10(key, randomFields(true)));
    for (const len of [0, 1, 13, 16, 18, 29, 32]) {
      frameErrorOf(() => decodeJoinAccept(plain.subarray(0, len)), 'FrameSize');
      frameErrorOf(() => verifyJoinAcceptMIC10(key, plain.subarray(0, len)), 'FrameSize');
    }
    frameErrorOf(() => decodeJoinAccept(Buffer.concat([plain, Buffer.of(0)])), 'FrameSize');
    frameErrorOf(() => decryptJoinAccept(key, Buffer.alloc(18, 0x20)), 'FrameSize');
    frameErrorOf(() => encryptJoinAccept(key, Buffer.alloc(13, 0x20)), 'FrameSize');
  });

  test('join-accept/wrong MHDR is MType or Major', () => {
    const key = newKey();
    const plain = decryptJoinAccept(key, buildJoinAccept10(key, randomFields(false)));
    for (const mhdr of [0x00, 0x40, 0xc0]) {
      const bad = Buffer.from(plain);
      bad[0] = mhdr;
      frameErrorOf(() => decodeJoinAccept(bad), 'MType');
      frameErrorOf(() => verifyJoinAcceptMIC11(key, 0xff, parseEUI64('0102030405060708'), devNonce(1), bad), 'MType');
    }
    const bad = Buffer.from(plain);
    bad[0] = 0x22;
    frameErrorOf(() => decodeJoinAccept(bad), 'Major');
  });
});

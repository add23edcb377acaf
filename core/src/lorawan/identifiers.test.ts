import { devAddrFromLE, devAddrToLE, eui64FromLE, eui64ToLE, netIDFromLE, netIDToLE, parseDevAddr, parseEUI64, parseNetID } from './identifiers';
import { MAX_DEV_NONCE, MAX_JOIN_NONCE, devNonce, devNonceToLE, joinNonce, joinNonceToLE } from './nonces';
import { ParseError } from './parse-error';

describe('identifiers', () => {
  test('identifiers/canonical form is big-endian lower-case hex', () => {
    expect(parseEUI64('0x0016C001FFFE0001')).toBe('0016c001fffe0001');
    expect(parseEUI64('00-16-c0-01-ff-fe-00-01')).toBe('0016c001fffe0001');
    expect(parseDevAddr('0X01ABCDEF')).toBe('01abcdef');
    expect(parseNetID('00003C')).toBe('00003c');
  });

  test('identifiers/wrong lengths are ParseErrors', () => {
    expect(() => parseEUI64('0016c001fffe00')).toThrow(ParseError);
    expect(() => parseDevAddr('0102030405')).toThrow(ParseError);
    expect(() => parseNetID('0102')).toThrow(ParseError);
  });

  test('identifiers/LE conversions reverse the bytes and round trip', () => {
    const eui = parseEUI64('0102030405060708');
    expect(eui64ToLE(eui).toString('hex')).toBe('0807060504030201');
    expect(eui64FromLE(eui64ToLE(eui))).toBe(eui);
    const addr = parseDevAddr('01020304');
    expect(devAddrToLE(addr).toString('hex')).toBe('04030201');
    expect(devAddrFromLE(devAddrToLE(addr))).toBe(addr);
    const net = parseNetID('010203');
    expect(netIDToLE(net).toString('hex')).toBe('030201');
    expect(netIDFromLE(netIDToLE(net))).toBe(net);
  });

  test('identifiers/nonces are range checked and little-endian on air', () => {
    expect(devNonceToLE(devNonce(0x0102)).toString('hex')).toBe('0201');
    expect(joinNonceToLE(joinNonce(0x010203)).toString('hex')).toBe('030201');
    expect(devNonce(MAX_DEV_NONCE)).toBe(0xffff);
    expect(joinNonce(MAX_JOIN_NONCE)).toBe(0xffffff);
    for (const bad of [-1, 0x10000, 1.5, Number.NaN]) expect(() => devNonce(bad)).toThrow(ParseError);
    for (const bad of [-1, 0x1000000, 0.5, Number.POSITIVE_INFINITY]) expect(() => joinNonce(bad)).toThrow(ParseError);
  });
});

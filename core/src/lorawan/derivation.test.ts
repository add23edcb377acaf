import { randomBytes } from 'node:crypto';
import { aesEncryptBlock } from './aes';
import { AES128Key } from './aes128-key';
import { deriveJSEncKey, deriveJSIntKey, deriveSessionKeys10, deriveSessionKeys11, jsKeyBlock, sessionKeyBlock10, sessionKeyBlock11 } from './derivation';
import { parseEUI64, parseNetID } from './identifiers';
import { devNonce, joinNonce } from './nonces';

/**
 * Known answers for the derivations run from the shared vectors (kat.test.ts) and against
 * lora-packet (lora-packet-interop.test.ts). Here: the block layouts, byte by byte, with
 * values chosen so that a byte-order mistake shows.
 */

const hex = (b: Buffer): string => b.toString('hex');
const n = joinNonce(0xa1b2c3);
const d = devNonce(0x0718);
const netID = parseNetID('d4e5f6');
const eui = parseEUI64('0102030405060708');

describe('derivation', () => {
  test('derivation/1.0 block: prefix | JoinNonce LE | NetID LE | DevNonce LE | zeros', () => {
    expect(hex(sessionKeyBlock10(0x01, n, netID, d))).toBe('01' + 'c3b2a1' + 'f6e5d4' + '1807' + '00'.repeat(7));
    expect(hex(sessionKeyBlock10(0x02, n, netID, d))).toBe('02' + 'c3b2a1' + 'f6e5d4' + '1807' + '00'.repeat(7));
  });

  test('derivation/1.1 block: prefix | JoinNonce LE | JoinEUI LE | DevNonce LE | zeros', () => {
    for (const prefix of [0x01, 0x02, 0x03, 0x04] as const) {
      expect(hex(sessionKeyBlock11(prefix, n, eui, d))).toBe(`0${prefix}` + 'c3b2a1' + '0807060504030201' + '1807' + '0000');
    }
  });

  test('derivation/JS key block: prefix | DevEUI LE | zeros', () => {
    expect(hex(jsKeyBlock(0x05, eui))).toBe('05' + '0807060504030201' + '00'.repeat(7));
    expect(hex(jsKeyBlock(0x06, eui))).toBe('06' + '0807060504030201' + '00'.repeat(7));
  });

  test('derivation/extreme nonce values fill their fields and nothing else', () => {
    const block = sessionKeyBlock10(0x01, joinNonce(0xffffff), parseNetID('ffffff'), devNonce(0xffff));
    expect(hex(block)).toBe('01' + 'ff'.repeat(8) + '00'.repeat(7));
  });

  test('derivation/each key is aes(root, its block)', () => {
    const appKey = AES128Key.fromBytes(randomBytes(16));
    const nwkKey = AES128Key.fromBytes(randomBytes(16));
    const k10 = deriveSessionKeys10(appKey, n, netID, d);
    expect(k10.nwkSKey.unsafeBytes().equals(aesEncryptBlock(appKey, sessionKeyBlock10(0x01, n, netID, d)))).toBe(true);
    expect(k10.appSKey.unsafeBytes().equals(aesEncryptBlock(appKey, sessionKeyBlock10(0x02, n, netID, d)))).toBe(true);
    const k11 = deriveSessionKeys11(nwkKey, appKey, n, eui, d);
    expect(k11.fNwkSIntKey.unsafeBytes().equals(aesEncryptBlock(nwkKey, sessionKeyBlock11(0x01, n, eui, d)))).toBe(true);
    expect(k11.appSKey.unsafeBytes().equals(aesEncryptBlock(appKey, sessionKeyBlock11(0x02, n, eui, d)))).toBe(true);
    expect(k11.sNwkSIntKey.unsafeBytes().equals(aesEncryptBlock(nwkKey, sessionKeyBlock11(0x03, n, eui, d)))).toBe(true);
    expect(k11.nwkSEncKey.unsafeBytes().equals(aesEncryptBlock(nwkKey, sessionKeyBlock11(0x04, n, eui, d)))).toBe(true);
    expect(
      deriveJSIntKey(nwkKey, eui)
        .unsafeBytes()
        .equals(aesEncryptBlock(nwkKey, jsKeyBlock(0x06, eui))),
    ).toBe(true);
    expect(
      deriveJSEncKey(nwkKey, eui)
        .unsafeBytes()
        .equals(aesEncryptBlock(nwkKey, jsKeyBlock(0x05, eui))),
    ).toBe(true);
  });

  test('derivation/1.1 with OptNeg: AppKey feeds AppSKey only', () => {
    const nwkKey = AES128Key.fromBytes(randomBytes(16));
    const a = deriveSessionKeys11(nwkKey, AES128Key.fromBytes(randomBytes(16)), n, eui, d);
    const b = deriveSessionKeys11(nwkKey, AES128Key.fromBytes(randomBytes(16)), n, eui, d);
    expect(a.fNwkSIntKey.equals(b.fNwkSIntKey)).toBe(true);
    expect(a.sNwkSIntKey.equals(b.sNwkSIntKey)).toBe(true);
    expect(a.nwkSEncKey.equals(b.nwkSEncKey)).toBe(true);
    expect(a.appSKey.equals(b.appSKey)).toBe(false);
  });

  test('derivation/1.1 device in 1.0 mode: deriveSessionKeys10 with NwkKey roots both keys', () => {
    // The rule of lorawan-crypto.md: OptNeg off means the 1.0 derivations (NetID, not JoinEUI)
    // with NwkKey as the root of both keys; the 1.1 AppKey plays no part.
    const nwkKey = AES128Key.fromBytes(randomBytes(16));
    const keys = deriveSessionKeys10(nwkKey, n, netID, d);
    expect(keys.nwkSKey.unsafeBytes().equals(aesEncryptBlock(nwkKey, sessionKeyBlock10(0x01, n, netID, d)))).toBe(true);
    expect(keys.appSKey.unsafeBytes().equals(aesEncryptBlock(nwkKey, sessionKeyBlock10(0x02, n, netID, d)))).toBe(true);
  });

  test('derivation/derived keys are AES128Keys and stay redacted', () => {
    const keys = deriveSessionKeys10(AES128Key.fromBytes(randomBytes(16)), n, netID, d);
    expect(keys.nwkSKey).toBeInstanceOf(AES128Key);
    expect(String(keys.nwkSKey)).not.toContain(hex(keys.nwkSKey.unsafeBytes()));
    expect(JSON.stringify(keys)).not.toContain(hex(keys.appSKey.unsafeBytes()));
  });
});

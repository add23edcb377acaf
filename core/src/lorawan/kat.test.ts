import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AES128Key } from './aes128-key';
import { aesCmac, cmacSubkeys } from './cmac';
import { deriveJSEncKey, deriveJSIntKey, deriveSessionKeys10, deriveSessionKeys11 } from './derivation';
import { toHex } from './hex';
import { parseDevAddr, parseEUI64, parseNetID } from './identifiers';
import { buildJoinAccept10, buildJoinAccept11, decodeJoinAccept, decryptJoinAccept, encodeJoinAcceptPlain, joinAcceptMICInput11, verifyJoinAcceptMIC10, verifyJoinAcceptMIC11, type JoinAcceptFields } from './join-accept';
import { decodeJoinRequest, encodeJoinRequest, joinRequestMICInput } from './join-request';
import { DEFAULT_VECTORS_PATH, isNegative, katVectorsPath, loadKATVectors, VectorReader } from './kat.test-helper';
import { KeyWrapError, aesKeyUnwrap, aesKeyWrap } from './key-wrap';
import { devNonce, joinNonce } from './nonces';
import { decodeRejoinRequest, encodeRejoinRequest, rejoinRequestMICInput } from './rejoin-request';

/**
 * Every vector of test/vectors/lorawan-kat.json, run by kind. Values are read from the
 * file at test time; each check also asserts that it read every input and expected field.
 */

const vectors = loadKATVectors();

const key = (r: VectorReader, name: string): AES128Key => AES128Key.fromHex(r.input(name), name);
const hex = (b: Uint8Array): string => toHex(b);
const mic4 = (k: AES128Key, input: Uint8Array): string => hex(aesCmac(k, input).subarray(0, 4));

function joinAcceptFields(r: VectorReader): JoinAcceptFields {
  const cfList = r.optionalInput('cfList');
  return {
    joinNonce: joinNonce(r.inputNumber('joinNonce')),
    netID: parseNetID(r.input('netID')),
    devAddr: parseDevAddr(r.input('devAddr')),
    dlSettings: r.inputNumber('dlSettings'),
    rxDelay: r.inputNumber('rxDelay'),
    ...(cfList !== undefined ? { cfList: Buffer.from(cfList, 'hex') } : {}),
  };
}

function expectDecodedJoinAccept(plainPhy: Buffer, fields: JoinAcceptFields, mic: string): void {
  const decoded = decodeJoinAccept(plainPhy);
  expect(decoded.joinNonce).toBe(fields.joinNonce);
  expect(decoded.netID).toBe(fields.netID);
  expect(decoded.devAddr).toBe(fields.devAddr);
  expect(decoded.dlSettings).toBe(fields.dlSettings);
  expect(decoded.rxDelay).toBe(fields.rxDelay);
  expect(decoded.cfList === undefined ? undefined : hex(decoded.cfList)).toBe(fields.cfList === undefined ? undefined : hex(fields.cfList));
  expect(hex(decoded.mic)).toBe(mic);
}

const handlers: Readonly<Record<string, (r: VectorReader) => void>> = {
  'aes-cmac': (r) => {
    expect(hex(aesCmac(key(r, 'key'), r.inputBytes('message')))).toBe(r.expected('cmac'));
  },

  'aes-cmac-subkeys': (r) => {
    const { k1, k2 } = cmacSubkeys(key(r, 'key'));
    expect(hex(k1)).toBe(r.expected('k1'));
    expect(hex(k2)).toBe(r.expected('k2'));
  },

  'aes-keywrap': (r) => {
    const kek = r.inputBytes('kek');
    const keyData = r.inputBytes('keyData');
    const wrapped = r.expectedBytes('wrapped');
    expect(hex(aesKeyWrap(kek, keyData))).toBe(hex(wrapped));
    expect(hex(aesKeyUnwrap(kek, wrapped))).toBe(hex(keyData));
    // Any altered bit, in the integrity block or in the key part, must fail the unwrap.
    for (const at of [0, 7, 8, wrapped.length - 1]) {
      const tampered = Buffer.from(wrapped);
      tampered[at]! ^= 0x01;
      expect(() => aesKeyUnwrap(kek, tampered)).toThrow(KeyWrapError);
    }
  },

  'join-request-mic-1.0': (r) => {
    const appKey = key(r, 'appKey');
    const fields = {
      joinEUI: parseEUI64(r.input('joinEUI')),
      devEUI: parseEUI64(r.input('devEUI')),
      devNonce: devNonce(r.inputNumber('devNonce')),
    };
    const phy = r.expectedBytes('phyPayload');
    expect(hex(encodeJoinRequest(fields, appKey))).toBe(hex(phy));
    expect(hex(joinRequestMICInput(phy))).toBe(r.input('phyPayloadWithoutMIC'));
    expect(phy[0]).toBe(r.inputNumber('mhdr'));
    const decoded = decodeJoinRequest(phy);
    expect(decoded).toEqual({ ...fields, mic: r.expectedBytes('mic') });
    expect(mic4(appKey, joinRequestMICInput(phy))).toBe(r.expected('mic'));
  },

  'join-accept-encrypt-1.0': (r) => {
    const appKey = key(r, 'appKey');
    const fields = joinAcceptFields(r);
    const plain = encodeJoinAcceptPlain(fields);
    expect(plain[0]).toBe(r.inputNumber('mhdr'));
    const mic = r.expected('mic');
    expect(mic4(appKey, plain)).toBe(mic);
    const plainWithMIC = Buffer.concat([plain, Buffer.from(mic, 'hex')]);
    const plaintextPhy = r.optionalExpected('plaintextPhyPayload');
    if (plaintextPhy !== undefined) expect(hex(plainWithMIC)).toBe(plaintextPhy);
    const phy = r.expectedBytes('phyPayload');
    expect(hex(buildJoinAccept10(appKey, fields))).toBe(hex(phy));
    const decrypted = decryptJoinAccept(appKey, phy);
    expect(hex(decrypted)).toBe(hex(plainWithMIC));
    expect(verifyJoinAcceptMIC10(appKey, decrypted)).toBe(true);
    expectDecodedJoinAccept(decrypted, fields, mic);
  },

  'join-accept-1.1-optneg': (r) => {
    // The vector's MIC key and encryption key are given inputs (the library example uses one
    // key for both); a real 1.1 JS uses JSIntKey and NwkKey. See the vector's notes.
    const jsIntKey = key(r, 'jsIntKey');
    const encKey = key(r, 'encryptionKey');
    const joinReqType = r.inputNumber('joinReqType');
    const joinEUI = parseEUI64(r.input('joinEUI'));
    const dn = devNonce(r.inputNumber('devNonce'));
    const fields = joinAcceptFields(r);
    const plain = encodeJoinAcceptPlain(fields);
    expect(plain[0]).toBe(r.inputNumber('mhdr'));
    expect(hex(plain.subarray(1))).toBe(r.expected('plaintextMacPayload'));
    const mic = r.expected('mic');
    expect(mic4(jsIntKey, joinAcceptMICInput11(joinReqType, joinEUI, dn, plain))).toBe(mic);
    const phy = r.expectedBytes('phyPayload');
    expect(hex(buildJoinAccept11(jsIntKey, encKey, joinReqType, joinEUI, dn, fields))).toBe(hex(phy));
    const decrypted = decryptJoinAccept(encKey, phy);
    expect(hex(decrypted)).toBe(hex(Buffer.concat([plain, Buffer.from(mic, 'hex')])));
    expect(verifyJoinAcceptMIC11(jsIntKey, joinReqType, joinEUI, dn, decrypted)).toBe(true);
    expectDecodedJoinAccept(decrypted, fields, mic);
  },

  'js-keys-1.1': (r) => {
    const nwkKey = key(r, 'nwkKey');
    const devEUI = parseEUI64(r.input('devEUI'));
    expect(hex(deriveJSIntKey(nwkKey, devEUI).unsafeBytes())).toBe(r.expected('jsIntKey'));
    expect(hex(deriveJSEncKey(nwkKey, devEUI).unsafeBytes())).toBe(r.expected('jsEncKey'));
  },

  'session-keys-1.0': (r) => {
    const keys = deriveSessionKeys10(key(r, 'appKey'), joinNonce(r.inputNumber('joinNonce')), parseNetID(r.input('netID')), devNonce(r.inputNumber('devNonce')));
    expect(hex(keys.nwkSKey.unsafeBytes())).toBe(r.expected('nwkSKey'));
    expect(hex(keys.appSKey.unsafeBytes())).toBe(r.expected('appSKey'));
  },

  'session-keys-1.1': (r) => {
    const keys = deriveSessionKeys11(key(r, 'nwkKey'), key(r, 'appKey'), joinNonce(r.inputNumber('joinNonce')), parseEUI64(r.input('joinEUI')), devNonce(r.inputNumber('devNonce')));
    expect(hex(keys.fNwkSIntKey.unsafeBytes())).toBe(r.expected('fNwkSIntKey'));
    expect(hex(keys.sNwkSIntKey.unsafeBytes())).toBe(r.expected('sNwkSIntKey'));
    expect(hex(keys.nwkSEncKey.unsafeBytes())).toBe(r.expected('nwkSEncKey'));
    expect(hex(keys.appSKey.unsafeBytes())).toBe(r.expected('appSKey'));
  },

  'rejoin1-mic': (r) => {
    const jsIntKey = key(r, 'jsIntKey');
    const rejoinType = r.inputNumber('rejoinType');
    if (rejoinType !== 1) throw new Error(`rejoin1-mic vector with rejoinType ${rejoinType}`);
    const fields = {
      rejoinType,
      joinEUI: parseEUI64(r.input('joinEUI')),
      devEUI: parseEUI64(r.input('devEUI')),
      rjCount1: devNonce(r.inputNumber('rjCount1')),
    } as const;
    const phy = r.expectedBytes('phyPayload');
    expect(hex(encodeRejoinRequest(fields, jsIntKey))).toBe(hex(phy));
    expect(phy[0]).toBe(r.inputNumber('mhdr'));
    expect(hex(rejoinRequestMICInput(phy))).toBe(r.input('phyPayloadWithoutMIC'));
    expect(decodeRejoinRequest(phy)).toEqual({ ...fields, mic: r.expectedBytes('mic') });
    expect(mic4(jsIntKey, rejoinRequestMICInput(phy))).toBe(r.expected('mic'));
  },

  'rejoin02-mic': (r) => {
    const sNwkSIntKey = key(r, 'sNwkSIntKey');
    const rejoinType = r.inputNumber('rejoinType');
    if (rejoinType !== 0 && rejoinType !== 2) throw new Error(`rejoin02-mic vector with rejoinType ${rejoinType}`);
    const fields = {
      rejoinType,
      netID: parseNetID(r.input('netID')),
      devEUI: parseEUI64(r.input('devEUI')),
      rjCount0: devNonce(r.inputNumber('rjCount0')),
    } as const;
    const phy = r.expectedBytes('phyPayload');
    expect(hex(encodeRejoinRequest(fields, sNwkSIntKey))).toBe(hex(phy));
    expect(phy[0]).toBe(r.inputNumber('mhdr'));
    expect(hex(rejoinRequestMICInput(phy))).toBe(r.input('phyPayloadWithoutMIC'));
    expect(decodeRejoinRequest(phy)).toEqual({ ...fields, mic: r.expectedBytes('mic') });
    expect(mic4(sNwkSIntKey, rejoinRequestMICInput(phy))).toBe(r.expected('mic'));
  },
};

const ran = new Set<string>();

describe('kat', () => {
  test('kat/vectors path: test/vectors in the repository, JOINERY_VECTORS overrides', () => {
    expect(DEFAULT_VECTORS_PATH).toBe(path.resolve(__dirname, '../../../test/vectors/lorawan-kat.json'));
    const saved = process.env['JOINERY_VECTORS'];
    try {
      process.env['JOINERY_VECTORS'] = '/elsewhere/vectors.json';
      expect(katVectorsPath()).toBe(path.resolve('/elsewhere/vectors.json'));
      delete process.env['JOINERY_VECTORS'];
      expect(katVectorsPath()).toBe(DEFAULT_VECTORS_PATH);
    } finally {
      if (saved === undefined) delete process.env['JOINERY_VECTORS'];
      else process.env['JOINERY_VECTORS'] = saved;
    }
  });

  test('kat/vectors file loads and is not empty', () => {
    expect(vectors.length).toBeGreaterThan(0);
    expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length);
  });

  test('kat/every vector kind in the file has a handler', () => {
    const unhandled = [...new Set(vectors.map((v) => v.kind))].filter((k) => handlers[k] === undefined);
    expect(unhandled).toEqual([]);
  });

  test.each(vectors.map((v) => [`${v.kind}/${v.id}`, v] as const))('kat/%s', (_name, v) => {
    const handler = handlers[v.kind];
    if (handler === undefined) throw new Error(`no handler for vector kind "${v.kind}"`);
    const r = new VectorReader(v);
    if (isNegative(v)) {
      expect(() => handler(r)).toThrow();
    } else {
      handler(r);
      expect(r.unused()).toEqual([]);
    }
    ran.add(v.id);
  });

  test('kat/the number of vectors run equals the file count', () => {
    expect(ran.size).toBe(vectors.length);
    expect([...ran].sort()).toEqual(vectors.map((v) => v.id).sort());
  });

  const readmePath = path.join(path.dirname(katVectorsPath()), 'README.md');
  // Skipped only when JOINERY_VECTORS points at a file without a README beside it.
  (existsSync(readmePath) ? test : test.skip)('kat/per-kind counts match the table in vectors/README.md', () => {
    // The README's "What is here" table is a second, human-maintained count of the same file.
    const readme = readFileSync(readmePath, 'utf8');
    const table = new Map<string, number>();
    for (const m of readme.matchAll(/^\|\s*([a-z0-9.-]+)\s*\|\s*(\d+)\s*\|\s*$/gm)) table.set(m[1]!, Number(m[2]));
    const counted = new Map<string, number>();
    for (const v of vectors) counted.set(v.kind, (counted.get(v.kind) ?? 0) + 1);
    expect(Object.fromEntries([...counted].sort())).toEqual(Object.fromEntries([...table].sort()));
  });
});

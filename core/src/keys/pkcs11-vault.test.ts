import { randomBytes } from 'node:crypto';
import { format, inspect } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { AES128Key } from '../lorawan/aes128-key';
import { jsKeyBlock, sessionKeyBlock10, sessionKeyBlock11 } from '../lorawan/derivation';
import { parseDevAddr, parseEUI64, parseNetID, type EUI64 } from '../lorawan/identifiers';
import { encodeJoinAcceptPlain, joinAcceptMICInput11, type JoinAcceptFields } from '../lorawan/join-accept';
import { isNegative, loadKATVectors, VectorReader } from '../lorawan/kat.test-helper';
import { aesKeyUnwrap, aesKeyWrap } from '../lorawan/key-wrap';
import { devNonce, joinNonce } from '../lorawan/nonces';
import type { KeyHandle, KeyVault, RootKeys } from './key-vault';
import { MasterKey } from './master-key';
import { PKCS11_BLOB_FORMAT } from './pkcs11-blob';
import { Pkcs11VaultError } from './pkcs11-error';
import { Pkcs11KeyVault } from './pkcs11-vault';
import { SealedBlobError } from './sealed-blob-error';
import { SoftwareKeyVault } from './software-vault';
import { WrappedKeyError } from './wrapped-key-error';
import { createSoftHsmToken, type SoftHsmToken } from './softhsm-token.test-helper';

/**
 * The PKCS#11 vault on a temporary SoftHSM2 token: the shared known-answer vectors through the
 * HSM, the same outputs as the software vault for every primitive, root keys that nothing can
 * read, sealed blobs bound to their device and context, and concurrent use.
 */

const vectors = loadKATVectors().filter((v) => !isNegative(v));
const devEUI = parseEUI64('0004a30b001c0530');

// Tokens first: a PKCS#11 module lists its slots when it is initialised (by the first vault).
let token: SoftHsmToken;
let otherToken: SoftHsmToken;
let vault: Pkcs11KeyVault;
let software: SoftwareKeyVault;

beforeAll(() => {
  token = createSoftHsmToken('vault-test');
  otherToken = createSoftHsmToken('vault-other');
  vault = open(token);
  software = new SoftwareKeyVault(MasterKey.generate());
});

afterAll(async () => {
  await vault?.close();
  await software?.close();
});

function open(t: SoftHsmToken, sessions?: number): Pkcs11KeyVault {
  return Pkcs11KeyVault.open({ library: t.library, tokenLabel: t.label, pin: t.pin, ...(sessions ? { sessions } : {}) });
}

const hexOf = async (v: KeyVault, k: KeyHandle): Promise<string> => (await v.exportKey(k)).unsafeBytes().toString('hex');
const aesKey = (hex: string): AES128Key => AES128Key.fromHex(hex);
const randomAES = (): AES128Key => AES128Key.fromBytes(randomBytes(16));

/** One key imported as a device's root key (the only way a key gets CMAC / decrypt / derive rights). */
async function rootKey(v: KeyVault, key: AES128Key, eui: EUI64 = devEUI): Promise<KeyHandle> {
  return (await v.openRootKeys(await v.sealRootKeys({ kind: 'legacy', appKey: key }, eui), eui)).appKey;
}

async function rejects<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error(`expected a ${type.name}`);
}

function joinAcceptFields(r: VectorReader): JoinAcceptFields {
  return {
    joinNonce: joinNonce(r.inputNumber('joinNonce')),
    netID: parseNetID(r.input('netID')),
    devAddr: parseDevAddr(r.input('devAddr')),
    dlSettings: r.inputNumber('dlSettings'),
    rxDelay: r.inputNumber('rxDelay'),
  };
}

/** Each applicable vector kind, computed with the vault's primitives only. */
const katHandlers: Readonly<Record<string, (r: VectorReader) => Promise<void>>> = {
  'aes-cmac': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('key')));
    expect((await vault.cmac(k, r.inputBytes('message'))).toString('hex')).toBe(r.expected('cmac'));
  },
  'join-request-mic-1.0': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('appKey')));
    const input = r.inputBytes('phyPayloadWithoutMIC');
    const mic = (await vault.cmac(k, input)).subarray(0, 4);
    expect(mic.toString('hex')).toBe(r.expected('mic'));
    expect(Buffer.concat([input, mic]).toString('hex')).toBe(r.expected('phyPayload'));
  },
  'join-accept-encrypt-1.0': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('appKey')));
    const plain = encodeJoinAcceptPlain(joinAcceptFields(r));
    expect(plain[0]).toBe(r.inputNumber('mhdr'));
    const mic = (await vault.cmac(k, plain)).subarray(0, 4);
    expect(mic.toString('hex')).toBe(r.expected('mic'));
    const plaintextPhy = r.optionalExpected('plaintextPhyPayload');
    if (plaintextPhy !== undefined) expect(Buffer.concat([plain, mic]).toString('hex')).toBe(plaintextPhy);
    const encrypted = await vault.decryptBlocks(k, Buffer.concat([plain.subarray(1), mic]));
    expect(Buffer.concat([plain.subarray(0, 1), encrypted]).toString('hex')).toBe(r.expected('phyPayload'));
  },
  'join-accept-1.1-optneg': async (r) => {
    const keys = await vault.openRootKeys(await vault.sealRootKeys({ kind: '1.1', appKey: aesKey(r.input('jsIntKey')), nwkKey: aesKey(r.input('encryptionKey')) }, devEUI), devEUI);
    if (keys.kind !== '1.1') throw new Error('expected 1.1 root keys');
    const plain = encodeJoinAcceptPlain(joinAcceptFields(r));
    expect(plain[0]).toBe(r.inputNumber('mhdr'));
    expect(plain.subarray(1).toString('hex')).toBe(r.expected('plaintextMacPayload'));
    const micInput = joinAcceptMICInput11(r.inputNumber('joinReqType'), parseEUI64(r.input('joinEUI')), devNonce(r.inputNumber('devNonce')), plain);
    const mic = (await vault.cmac(keys.appKey, micInput)).subarray(0, 4);
    expect(mic.toString('hex')).toBe(r.expected('mic'));
    const encrypted = await vault.decryptBlocks(keys.nwkKey, Buffer.concat([plain.subarray(1), mic]));
    expect(Buffer.concat([plain.subarray(0, 1), encrypted]).toString('hex')).toBe(r.expected('phyPayload'));
  },
  'js-keys-1.1': async (r) => {
    const eui = parseEUI64(r.input('devEUI'));
    const nwkKey = await rootKey(vault, aesKey(r.input('nwkKey')), eui);
    const jsIntKey = await vault.deriveKey(nwkKey, jsKeyBlock(0x06, eui));
    const jsEncKey = await vault.deriveKey(nwkKey, jsKeyBlock(0x05, eui));
    expect(await hexOf(vault, jsIntKey)).toBe(r.expected('jsIntKey'));
    expect(await hexOf(vault, jsEncKey)).toBe(r.expected('jsEncKey'));
    vault.release(jsIntKey, jsEncKey);
  },
  'session-keys-1.0': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('appKey')));
    const args = [joinNonce(r.inputNumber('joinNonce')), parseNetID(r.input('netID')), devNonce(r.inputNumber('devNonce'))] as const;
    const nwkSKey = await vault.deriveKey(k, sessionKeyBlock10(0x01, ...args));
    const appSKey = await vault.deriveKey(k, sessionKeyBlock10(0x02, ...args));
    expect(await hexOf(vault, nwkSKey)).toBe(r.expected('nwkSKey'));
    expect(await hexOf(vault, appSKey)).toBe(r.expected('appSKey'));
    vault.release(nwkSKey, appSKey);
  },
  'session-keys-1.1': async (r) => {
    const keys = await vault.openRootKeys(await vault.sealRootKeys({ kind: '1.1', appKey: aesKey(r.input('appKey')), nwkKey: aesKey(r.input('nwkKey')) }, devEUI), devEUI);
    if (keys.kind !== '1.1') throw new Error('expected 1.1 root keys');
    const args = [joinNonce(r.inputNumber('joinNonce')), parseEUI64(r.input('joinEUI')), devNonce(r.inputNumber('devNonce'))] as const;
    const derived = {
      fNwkSIntKey: await vault.deriveKey(keys.nwkKey, sessionKeyBlock11(0x01, ...args)),
      appSKey: await vault.deriveKey(keys.appKey, sessionKeyBlock11(0x02, ...args)),
      sNwkSIntKey: await vault.deriveKey(keys.nwkKey, sessionKeyBlock11(0x03, ...args)),
      nwkSEncKey: await vault.deriveKey(keys.nwkKey, sessionKeyBlock11(0x04, ...args)),
    };
    for (const [name, handle] of Object.entries(derived)) expect({ name, key: await hexOf(vault, handle) }).toEqual({ name, key: r.expected(name) });
    vault.release(...Object.values(derived));
  },
  'rejoin1-mic': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('jsIntKey')));
    const input = r.inputBytes('phyPayloadWithoutMIC');
    const mic = (await vault.cmac(k, input)).subarray(0, 4);
    expect(mic.toString('hex')).toBe(r.expected('mic'));
    expect(Buffer.concat([input, mic]).toString('hex')).toBe(r.expected('phyPayload'));
  },
  'rejoin02-mic': async (r) => {
    const k = await rootKey(vault, aesKey(r.input('sNwkSIntKey')));
    const input = r.inputBytes('phyPayloadWithoutMIC');
    expect((await vault.cmac(k, input)).subarray(0, 4).toString('hex')).toBe(r.expected('mic'));
  },
  'aes-keywrap': async (r) => {
    const kek = await vault.importKey(aesKey(r.input('kek')));
    const key = await vault.importKey(aesKey(r.input('keyData')));
    expect((await vault.wrapKey(key, kek)).toString('hex')).toBe(r.expected('wrapped'));
    vault.release(kek, key);
  },
};

/** AES-128 only: key-wrap vectors with a longer KEK or key, and CMAC subkeys (internal to CMAC), do not apply. */
const applicable = vectors.filter((v) => katHandlers[v.kind] !== undefined && (v.kind !== 'aes-keywrap' || ((v.inputs['kek'] ?? '').length === 32 && (v.inputs['keyData'] ?? '').length === 32)));

describe('pkcs11 key vault', () => {
  test('vectors/every applicable kind is covered', () => {
    const kinds = new Set(applicable.map((v) => v.kind));
    expect([...kinds].sort()).toEqual(Object.keys(katHandlers).sort());
    expect(applicable.length).toBeGreaterThanOrEqual(15);
  });

  test.each(applicable.map((v) => [v.kind, v.id, v] as const))('vectors/%s/%s', async (_kind, _id, v) => {
    await katHandlers[v.kind]!(new VectorReader(v));
  });

  test('same as the software vault/every primitive, same inputs, same outputs', async () => {
    const app = randomAES();
    const nwk = randomAES();
    const kekBytes = randomAES();
    const roots: RootKeys = { kind: '1.1', appKey: app, nwkKey: nwk };
    const [h, s] = [vault, software] as const;
    const hr = await h.openRootKeys(await h.sealRootKeys(roots, devEUI), devEUI);
    const sr = await s.openRootKeys(await s.sealRootKeys(roots, devEUI), devEUI);
    if (hr.kind !== '1.1' || sr.kind !== '1.1') throw new Error('expected 1.1 root keys');
    const hKEK = await h.importKey(kekBytes);
    const sKEK = await s.importKey(kekBytes);

    for (const length of [0, 1, 15, 16, 17, 23, 32, 33, 48, 100]) {
      const message = randomBytes(length);
      expect((await h.cmac(hr.nwkKey, message)).toString('hex')).toBe((await s.cmac(sr.nwkKey, message)).toString('hex'));
      expect((await h.cmac(hr.appKey, message)).toString('hex')).toBe((await s.cmac(sr.appKey, message)).toString('hex'));
    }
    for (const blocks of [1, 2, 3]) {
      const data = randomBytes(16 * blocks);
      expect((await h.decryptBlocks(hr.nwkKey, data)).toString('hex')).toBe((await s.decryptBlocks(sr.nwkKey, data)).toString('hex'));
    }
    for (let i = 0; i < 5; i++) {
      const block = randomBytes(16);
      const hd = await h.deriveKey(hr.appKey, block);
      const sd = await s.deriveKey(sr.appKey, block);
      // Derived keys work as keys too: CMAC (JSIntKey) and decryption (JSEncKey).
      const message = randomBytes(20);
      expect((await h.cmac(hd, message)).toString('hex')).toBe((await s.cmac(sd, message)).toString('hex'));
      expect((await h.decryptBlocks(hd, message.subarray(0, 16))).toString('hex')).toBe((await s.decryptBlocks(sd, message.subarray(0, 16))).toString('hex'));
      const wrapped = await h.wrapKey(hd, hKEK);
      expect(wrapped.toString('hex')).toBe((await s.wrapKey(sd, sKEK)).toString('hex'));
      expect(aesKeyUnwrap(kekBytes.unsafeBytes(), wrapped).toString('hex')).toBe(await hexOf(s, sd));
      expect(await hexOf(h, hd)).toBe(await hexOf(s, sd));
      // Sealed and opened (an AppSKey kept for AppSKeyReq), it is still the same key.
      const context = `appskey:${devEUI}:${i}`;
      const reopened = await h.openKey(await h.sealKey(hd, context), context);
      expect((await h.wrapKey(reopened, hKEK)).toString('hex')).toBe(wrapped.toString('hex'));
      h.release(hd, reopened);
    }
    // A KEK generated in the HSM, exported (the credential bundle's copy) and sealed (the store's).
    const generated = await h.generateKey();
    const exported = await h.exportKey(generated);
    const sealedKEK = await h.sealKey(generated, 'kek:peer-1');
    const openedKEK = await h.openKey(sealedKEK, 'kek:peer-1');
    const derived = await h.deriveKey(hr.nwkKey, randomBytes(16));
    expect(aesKeyUnwrap(exported.unsafeBytes(), await h.wrapKey(derived, openedKEK)).toString('hex')).toBe(await hexOf(h, derived));
    expect(await hexOf(h, openedKEK)).toBe(exported.unsafeBytes().toString('hex'));
    // ... and the software vault wraps the same way under that exported KEK.
    const sGenerated = await s.importKey(exported);
    const block = randomBytes(16);
    const hx = await h.deriveKey(hr.appKey, block);
    const sx = await s.deriveKey(sr.appKey, block);
    expect((await h.wrapKey(hx, openedKEK)).toString('hex')).toBe((await s.wrapKey(sx, sGenerated)).toString('hex'));
    h.release(hKEK, generated, openedKEK, derived, hx);
  });

  test('root keys/a small reference to the HSM objects, no key material', async () => {
    const app = randomAES();
    const nwk = randomAES();
    const legacy = await vault.sealRootKeys({ kind: 'legacy', appKey: app }, devEUI);
    const v11 = await vault.sealRootKeys({ kind: '1.1', appKey: app, nwkKey: nwk }, devEUI);
    for (const blob of [legacy, v11]) {
      expect(blob.length).toBe(19);
      expect(blob[0]).toBe(PKCS11_BLOB_FORMAT);
      expect(blob.toString('hex')).not.toContain(app.unsafeBytes().toString('hex'));
      expect(blob.toString('hex')).not.toContain(nwk.unsafeBytes().toString('hex'));
    }
    expect((await vault.openRootKeys(legacy, devEUI)).kind).toBe('legacy');
    expect((await vault.openRootKeys(v11, devEUI.toUpperCase())).kind).toBe('1.1');
  });

  test('root keys/a reference opens only for its own DevEUI, token and vault kind', async () => {
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: randomAES() }, devEUI);
    const otherEUI = parseEUI64('0004a30b001c0531');
    expect((await rejects(vault.openRootKeys(sealed, otherEUI), SealedBlobError)).message).toMatch(/0004a30b001c0531.*not in PKCS#11 token/);
    const other = open(otherToken);
    try {
      await rejects(other.openRootKeys(sealed, devEUI), SealedBlobError);
    } finally {
      await other.close();
    }
    const softwareBlob = await software.sealRootKeys({ kind: 'legacy', appKey: randomAES() }, devEUI);
    expect((await rejects(vault.openRootKeys(softwareBlob, devEUI), SealedBlobError)).message).toMatch(/software vault/);
    const truncated = sealed.subarray(0, 10);
    await rejects(vault.openRootKeys(truncated, devEUI), SealedBlobError);
  });

  test('root keys/never leave the HSM: export, wrap and sealing as a single key are refused by the HSM', async () => {
    const root = await rootKey(vault, randomAES());
    const kek = await vault.generateKey();
    const exported = await rejects(vault.exportKey(root), Pkcs11VaultError);
    expect(exported.ckr).toBe('CKR_KEY_UNEXTRACTABLE');
    expect(exported.message).toMatch(/CKR_KEY_UNEXTRACTABLE/);
    expect((await rejects(vault.wrapKey(root, kek), Pkcs11VaultError)).ckr).toBe('CKR_KEY_UNEXTRACTABLE');
    await rejects(vault.sealKey(root, 'kek:x'), Pkcs11VaultError);
    vault.release(kek);
  });

  test("root keys/reading CKA_VALUE with the raw PKCS#11 API, logged in with the PIN, fails with the HSM's error", async () => {
    const key = randomAES();
    const eui = parseEUI64('00000000000000aa');
    await vault.sealRootKeys({ kind: '1.1', appKey: key, nwkKey: randomAES() }, eui);

    // Another PKCS#11 client of the same token in this process: whatever an attacker running
    // code here could do, with the PIN.
    const raw = new pkcs11js.PKCS11();
    raw.load(token.library);
    try {
      raw.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (err) {
      expect((err as Error).message).toMatch(/CKR_CRYPTOKI_ALREADY_INITIALIZED/);
    }
    const slot = raw.C_GetSlotList(true).find((s) => raw.C_GetTokenInfo(s).label.trim() === token.label)!;
    const session = raw.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      try {
        raw.C_Login(session, pkcs11js.CKU_USER, token.pin);
      } catch (err) {
        expect((err as Error).message).toMatch(/CKR_USER_ALREADY_LOGGED_IN/);
      }
      for (const role of ['AppKey', 'NwkKey']) {
        raw.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: `joinery:${eui}:${role}` }]);
        const found = raw.C_FindObjects(session, 10);
        raw.C_FindObjectsFinal(session);
        expect(found).toHaveLength(1);
        const object = found[0]!;
        expect(() => raw.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
        const attrs = raw.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN }]);
        expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0, 1]);
        expect(() => raw.C_SetAttributeValue(session, object, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }])).toThrow(/CKR_/);
        expect(() => raw.C_SetAttributeValue(session, object, [{ type: pkcs11js.CKA_SENSITIVE, value: false }])).toThrow(/CKR_/);
        expect(() =>
          raw.C_CopyObject(session, object, [
            { type: pkcs11js.CKA_TOKEN, value: false },
            { type: pkcs11js.CKA_EXTRACTABLE, value: true },
          ]),
        ).toThrow(/CKR_/);
        const kek = raw.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_VALUE_LEN, value: 16 },
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_TOKEN, value: false },
        ]);
        expect(() => raw.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, kek, object, Buffer.alloc(24))).toThrow(/CKR_KEY_UNEXTRACTABLE/);
        raw.C_DestroyObject(session, kek);
      }
    } finally {
      raw.C_CloseSession(session); // not C_Finalize: the vault still uses the module
    }
  });

  test('transport import/root keys wrapped under a transport KEK are unwrapped inside the HSM into root key objects', async () => {
    for (const v of [vault, software] as const) {
      const kekBytes = randomAES();
      const app = randomAES();
      const nwk = randomAES();
      const eui = parseEUI64(randomBytes(8).toString('hex'));
      const kek = await v.importKey(kekBytes);
      const wrap = (k: AES128Key): Buffer => aesKeyWrap(kekBytes.unsafeBytes(), k.unsafeBytes());
      const sealed = await v.unwrapRootKeys({ kind: '1.1', wrapped: true, appKey: wrap(app), nwkKey: wrap(nwk) }, kek, eui);
      const opened = await v.openRootKeys(sealed, eui);
      if (opened.kind !== '1.1') throw new Error('expected 1.1 root keys');
      const clear = await software.openRootKeys(await software.sealRootKeys({ kind: '1.1', appKey: app, nwkKey: nwk }, eui), eui);
      if (clear.kind !== '1.1') throw new Error('expected 1.1 root keys');
      const message = randomBytes(23);
      expect((await v.cmac(opened.nwkKey, message)).toString('hex')).toBe((await software.cmac(clear.nwkKey, message)).toString('hex'));
      expect((await v.cmac(opened.appKey, message)).toString('hex')).toBe((await software.cmac(clear.appKey, message)).toString('hex'));
      if (v === vault) expect((await rejects(v.exportKey(opened.appKey), Pkcs11VaultError)).ckr).toBe('CKR_KEY_UNEXTRACTABLE');
      v.release(kek);
    }
  });

  test('transport import/a key wrapped under another KEK or altered is refused, and leaves nothing in the token', async () => {
    const kekBytes = randomAES();
    const eui = parseEUI64('00000000000000bb');
    for (const v of [vault, software] as const) {
      const kek = await v.importKey(kekBytes);
      const good = aesKeyWrap(kekBytes.unsafeBytes(), randomBytes(16));
      const foreign = aesKeyWrap(randomBytes(16), randomBytes(16));
      const altered = Buffer.from(good);
      altered[9]! ^= 0x01;
      for (const bad of [foreign, altered]) {
        const err = await rejects(v.unwrapRootKeys({ kind: '1.1', wrapped: true, appKey: good, nwkKey: bad }, kek, eui), WrappedKeyError);
        expect(err.message).toMatch(/NwkKey does not unwrap under the transport KEK/);
      }
      await rejects(v.unwrapRootKeys({ kind: 'legacy', wrapped: true, appKey: good.subarray(0, 16) }, kek, eui), WrappedKeyError);
      v.release(kek);
    }
    expect(tokenObjectsLabelled(token, `joinery:${eui}:AppKey`)).toBe(0); // the AppKey that did unwrap was destroyed again
  });

  test('transport import/discardRootKeys destroys the token objects of an import that was not stored', async () => {
    const eui = parseEUI64('00000000000000cc');
    const sealed = await vault.sealRootKeys({ kind: '1.1', appKey: randomAES(), nwkKey: randomAES() }, eui);
    expect(tokenObjectsLabelled(token, `joinery:${eui}:NwkKey`)).toBe(1);
    await vault.discardRootKeys(sealed, eui);
    expect(tokenObjectsLabelled(token, `joinery:${eui}:AppKey`) + tokenObjectsLabelled(token, `joinery:${eui}:NwkKey`)).toBe(0);
    await rejects(vault.openRootKeys(sealed, eui), SealedBlobError);
  });

  test("single keys/sealed under the vault's own sealing key, bound to their context", async () => {
    const kek = await vault.generateKey();
    const sealed = await vault.sealKey(kek, 'kek:ns-a');
    expect(sealed.length).toBe(59);
    expect(sealed[0]).toBe(PKCS11_BLOB_FORMAT);
    expect(sealed.toString('hex')).not.toContain((await vault.exportKey(kek)).unsafeBytes().toString('hex'));
    expect((await rejects(vault.openKey(sealed, 'kek:ns-b'), SealedBlobError)).message).toMatch(/kek:ns-b/);
    for (const at of [0, 1, 2, 18, 19, 42, 43, 58]) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 0x01;
      await rejects(vault.openKey(tampered, 'kek:ns-a'), SealedBlobError);
    }
    // Another vault on the same token (the CLI next to the server) opens it; one on another token does not.
    const again = open(token);
    const other = open(otherToken);
    try {
      const opened = await again.openKey(sealed, 'kek:ns-a');
      expect(await hexOf(again, opened)).toBe(await hexOf(vault, kek));
      await rejects(other.openKey(sealed, 'kek:ns-a'), SealedBlobError);
    } finally {
      await again.close();
      await other.close();
    }
    const softwareBlob = await software.sealKey(await software.generateKey(), 'kek:ns-a');
    await rejects(vault.openKey(softwareBlob, 'kek:ns-a'), SealedBlobError);
    vault.release(kek);
  });

  test('handles/foreign, released and closed-vault handles are refused; everything prints as a marker', async () => {
    const sKey = await software.generateKey();
    await expect(vault.cmac(sKey, Buffer.alloc(1))).rejects.toThrow(TypeError);
    const root = await rootKey(vault, randomAES());
    const derived = await vault.deriveKey(root, randomBytes(16));
    vault.release(derived);
    vault.release(derived); // twice is harmless
    await expect(vault.cmac(derived, Buffer.alloc(1))).rejects.toThrow(/released/);
    vault.release(root); // root keys are token objects: release leaves them alone
    await expect(vault.cmac(root, Buffer.alloc(1))).resolves.toHaveLength(16);
    const other = open(token);
    await expect(other.cmac(root, Buffer.alloc(1))).rejects.toThrow(/another key vault/);
    await other.close();
    await expect(other.generateKey()).rejects.toThrow(/closed/);

    const key = randomAES();
    const imported = await vault.importKey(key);
    const printed = [format('%s %o %j', imported, imported, imported), inspect(root), String(root), JSON.stringify({ root }), inspect(vault), format('%o', vault)].join('\n');
    expect(printed).not.toContain(key.unsafeBytes().toString('hex'));
    expect(printed).not.toContain(token.pin);
    expect(printed).toContain('[KeyHandle pkcs11');
    vault.release(imported);
  });

  test("handles/release destroys the session objects (none left behind by a join's worth of work)", async () => {
    const count = (): number => sessionObjectCount(token);
    const keys = await vault.openRootKeys(await vault.sealRootKeys({ kind: '1.1', appKey: randomAES(), nwkKey: randomAES() }, devEUI), devEUI);
    if (keys.kind !== '1.1') throw new Error('expected 1.1 root keys');
    const generated = await vault.generateKey();
    const sealedKEK = await vault.sealKey(generated, 'kek:x');
    vault.release(generated);
    const kek = await vault.openKey(sealedKEK, 'kek:x');
    // Open root keys (session copies) and opened KEKs stay open for the next join.
    const before = count();
    expect(await vault.openKey(sealedKEK, 'kek:x')).toBe(kek);
    const temporaries: KeyHandle[] = [kek];
    for (let i = 0; i < 6; i++) temporaries.push(await vault.deriveKey(i % 2 ? keys.appKey : keys.nwkKey, randomBytes(16)));
    for (const t of temporaries.slice(1)) await vault.wrapKey(t, kek);
    await vault.exportKey(temporaries[1]!); // its ephemeral wrapping key is gone at once
    expect(count()).toBe(before + 6);
    vault.release(...temporaries);
    expect(count()).toBe(before);
    await expect(vault.wrapKey(await vault.deriveKey(keys.appKey, randomBytes(16)), kek)).resolves.toHaveLength(24); // the KEK is still open
  });

  test('handles/evicted root keys and KEKs keep working for a grace period, then their objects are destroyed', async () => {
    const tiny = Pkcs11KeyVault.open({ library: token.library, tokenLabel: token.label, pin: token.pin, cacheSize: 2, evictionGraceMs: 300 });
    try {
      const before = sessionObjectCount(token);
      const eui = (i: number): EUI64 => parseEUI64(`00000000000001${i.toString(16).padStart(2, '0')}`);
      const sealed = await Promise.all([0, 1, 2, 3].map((i) => tiny.sealRootKeys({ kind: 'legacy', appKey: randomAES() }, eui(i))));
      const first = (await tiny.openRootKeys(sealed[0]!, eui(0))).appKey;
      for (let i = 1; i < 4; i++) await tiny.openRootKeys(sealed[i]!, eui(i)); // pushes the first one out
      await expect(tiny.cmac(first, Buffer.alloc(16))).resolves.toHaveLength(16);
      const again = (await tiny.openRootKeys(sealed[0]!, eui(0))).appKey;
      expect(again).not.toBe(first);
      await expect(tiny.cmac(again, Buffer.alloc(16))).resolves.toHaveLength(16);
      expect(sessionObjectCount(token)).toBeGreaterThanOrEqual(before + 4); // 2 cached + evicted ones not yet destroyed
      await new Promise((r) => setTimeout(r, 600));
      expect(sessionObjectCount(token)).toBe(before + 2); // at most 2 devices stay open
      await expect(tiny.cmac(again, Buffer.alloc(16))).resolves.toHaveLength(16);
    } finally {
      await tiny.close();
    }
  });

  test('concurrency/many parallel CMACs, derivations and wraps on a small pool give the right answers', async () => {
    const small = open(token, 3);
    try {
      const app = randomAES();
      const sealed = await small.sealRootKeys({ kind: 'legacy', appKey: app }, devEUI);
      const hRoot = (await small.openRootKeys(sealed, devEUI)).appKey;
      const sRoot = await rootKey(software, app);
      const kekBytes = randomAES();
      const hKEK = await small.importKey(kekBytes);
      const jobs = Array.from({ length: 300 }, async (_, i) => {
        const data = randomBytes(16 + (i % 17));
        if (i % 3 === 0) return (await small.cmac(hRoot, data)).equals(await software.cmac(sRoot, data));
        if (i % 3 === 1) return (await small.decryptBlocks(hRoot, data.subarray(0, 16))).equals(await software.decryptBlocks(sRoot, data.subarray(0, 16)));
        const d = await small.deriveKey(hRoot, data.subarray(0, 16));
        try {
          const wrapped = await small.wrapKey(d, hKEK);
          return wrapped.equals(aesKeyWrap(kekBytes.unsafeBytes(), (await software.exportKey(await software.deriveKey(sRoot, data.subarray(0, 16)))).unsafeBytes()));
        } finally {
          small.release(d);
        }
      });
      expect((await Promise.all(jobs)).every(Boolean)).toBe(true);
      expect(small.openSessions).toBeLessThanOrEqual(4); // 3 + the anchor
      small.release(hKEK);
    } finally {
      await small.close();
    }
  });

  test('concurrency/an operation the HSM refuses retires its session; the others go on', async () => {
    const small = open(token, 2);
    try {
      const root = (await small.openRootKeys(await small.sealRootKeys({ kind: 'legacy', appKey: randomAES() }, devEUI), devEUI)).appKey;
      const kek = await small.generateKey(); // a KEK may wrap, not sign: C_SignInit fails
      const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => (i % 4 === 0 ? small.cmac(kek, Buffer.alloc(16)) : small.cmac(root, Buffer.alloc(16)))));
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed).toHaveLength(15);
      for (const f of failed) expect((f as PromiseRejectedResult).reason).toBeInstanceOf(Pkcs11VaultError);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(45);
      // The retired session that created the KEK stays open until the KEK is released.
      expect(small.openSessions).toBeLessThanOrEqual(2 + 1 + 1);
      small.release(kek);
      expect(small.openSessions).toBeLessThanOrEqual(2 + 1);
      await expect(small.cmac(root, Buffer.alloc(3))).resolves.toHaveLength(16);
    } finally {
      await small.close();
    }
  });

  test('open/clear errors for a wrong token label, a wrong PIN and a missing module, never echoing the PIN', async () => {
    expect(() => Pkcs11KeyVault.open({ library: token.library, tokenLabel: 'no-such-token', pin: token.pin })).toThrow(/"no-such-token" not found .*tokens present:/);
    // No vault of this process has a session on `otherToken` now, so the PIN is really checked.
    const wrongPin = `x${otherToken.pin}`;
    let err: unknown;
    try {
      Pkcs11KeyVault.open({ library: token.library, tokenLabel: otherToken.label, pin: wrongPin });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Pkcs11VaultError);
    expect((err as Pkcs11VaultError).ckr).toBe('CKR_PIN_INCORRECT');
    expect((err as Error).message).toMatch(/C_Login to token .*wrong PIN/);
    expect((err as Error).message).not.toContain(wrongPin);
    expect(() => Pkcs11KeyVault.open({ library: '/nonexistent/libpkcs11.so', tokenLabel: token.label, pin: token.pin })).toThrow(/does not exist/);
    expect(() => Pkcs11KeyVault.open({ library: token.library, tokenLabel: token.label, pin: '' })).toThrow(/empty/);
  });

  test('bad input/wrong sizes are refused before the HSM sees them', async () => {
    const root = await rootKey(vault, randomAES());
    await expect(vault.deriveKey(root, Buffer.alloc(15))).rejects.toThrow(RangeError);
    await expect(vault.decryptBlocks(root, Buffer.alloc(17))).rejects.toThrow(RangeError);
    await expect(vault.decryptBlocks(root, Buffer.alloc(0))).rejects.toThrow(RangeError);
    await expect(vault.sealKey(await vault.generateKey(), '')).rejects.toThrow(/context/);
    await expect(vault.sealRootKeys({ kind: 'legacy', appKey: randomAES() }, 'not-an-eui')).rejects.toThrow(/devEUI/);
  });
});

/** Token objects with this label. */
function tokenObjectsLabelled(t: SoftHsmToken, label: string): number {
  return withRawSession(t, (raw, session) => {
    raw.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    const found = raw.C_FindObjects(session, 100);
    raw.C_FindObjectsFinal(session);
    return found.length;
  });
}

function withRawSession<T>(t: SoftHsmToken, fn: (raw: pkcs11js.PKCS11, session: Buffer) => T): T {
  const raw = new pkcs11js.PKCS11();
  raw.load(t.library);
  try {
    raw.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch {
    // already initialised by the vault
  }
  const slot = raw.C_GetSlotList(true).find((s) => raw.C_GetTokenInfo(s).label.trim() === t.label)!;
  const session = raw.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    return fn(raw, session);
  } finally {
    raw.C_CloseSession(session);
  }
}

/** Session objects visible on the token (all of this process's sessions share them). */
function sessionObjectCount(t: SoftHsmToken): number {
  const raw = new pkcs11js.PKCS11();
  raw.load(t.library);
  try {
    raw.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch {
    // already initialised by the vault
  }
  const slot = raw.C_GetSlotList(true).find((s) => raw.C_GetTokenInfo(s).label.trim() === t.label)!;
  const session = raw.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    raw.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_TOKEN, value: false }]);
    const found = raw.C_FindObjects(session, 10_000);
    raw.C_FindObjectsFinal(session);
    return found.length;
  } finally {
    raw.C_CloseSession(session);
  }
}

import nodeCrypto = require('node:crypto');
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, inspect } from 'node:util';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64 } from '../lorawan/identifiers';
import type { KeyHandle, RootKeys } from './key-vault';
import { MasterKey, readMasterKeyRing, writeMasterKeyRing } from './master-key';
import { SEALED_BLOB_VERSION } from './sealed-blob';
import { SealedBlobError } from './sealed-blob-error';
import { SoftwareKeyVault } from './software-vault';

const devEUI = parseEUI64('0004a30b001c0530');
const otherDevEUI = parseEUI64('0004a30b001c0531');

function newVault(options?: ConstructorParameters<typeof SoftwareKeyVault>[1]): SoftwareKeyVault {
  return new SoftwareKeyVault(MasterKey.generate(), options);
}

function randomKey(): { key: AES128Key; hex: string } {
  const bytes = randomBytes(16);
  return { key: AES128Key.fromBytes(bytes), hex: bytes.toString('hex') };
}

async function hexOf(vault: SoftwareKeyVault, handle: KeyHandle): Promise<string> {
  return (await vault.exportKey(handle)).unsafeBytes().toString('hex');
}

async function sealedError(p: Promise<unknown>): Promise<SealedBlobError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SealedBlobError);
    return err as SealedBlobError;
  }
  throw new Error('expected a SealedBlobError');
}

/** The shared known-answer vectors (values stay in the file). */
interface Vector {
  id: string;
  inputs: Record<string, string>;
  expected: Record<string, string>;
}
const vectors = JSON.parse(readFileSync(path.resolve(__dirname, '../../../test/vectors/lorawan-kat.json'), 'utf8')) as Vector[];
function vector(id: string): Vector {
  const v = vectors.find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}
const hex = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'hex');
const le = (s: string | undefined): Buffer => hex(s).reverse();

describe('software key vault', () => {
  test('root keys/1.0.x round trip', async () => {
    const vault = newVault();
    const app = randomKey();
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
    expect(sealed[0]).toBe(SEALED_BLOB_VERSION);
    expect(sealed[1]).toBe(0); // master key id
    expect(sealed.length).toBe(2 + 12 + 16 + 17);
    expect(sealed.toString('hex')).not.toContain(app.hex);
    const opened = await vault.openRootKeys(sealed, devEUI);
    expect(opened.kind).toBe('legacy');
    expect(await hexOf(vault, opened.appKey)).toBe(app.hex);
  });

  test('root keys/1.1 round trip', async () => {
    const vault = newVault();
    const app = randomKey();
    const nwk = randomKey();
    const sealed = await vault.sealRootKeys({ kind: '1.1', appKey: app.key, nwkKey: nwk.key }, devEUI);
    expect(sealed.length).toBe(2 + 12 + 16 + 33);
    const opened = await vault.openRootKeys(sealed, devEUI);
    if (opened.kind !== '1.1') throw new Error('expected 1.1 root keys');
    expect(await hexOf(vault, opened.appKey)).toBe(app.hex);
    expect(await hexOf(vault, opened.nwkKey)).toBe(nwk.hex);
  });

  test('root keys/DevEUI in any spelling opens', async () => {
    const vault = newVault();
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    await expect(vault.openRootKeys(sealed, devEUI.toUpperCase())).resolves.toMatchObject({ kind: 'legacy' });
  });

  test('root keys/a fresh IV every time', async () => {
    const vault = newVault();
    const keys: RootKeys = { kind: 'legacy', appKey: randomKey().key };
    const a = await vault.sealRootKeys(keys, devEUI);
    const b = await vault.sealRootKeys(keys, devEUI);
    expect(a.equals(b)).toBe(false);
  });

  test('root keys/sealed for another device does not open', async () => {
    for (const cacheSize of [0, 100]) {
      const vault = newVault({ cacheSize });
      const app = randomKey();
      const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
      await vault.openRootKeys(sealed, devEUI); // now cached: the cache must not leak it to another DevEUI
      const err = await sealedError(vault.openRootKeys(sealed, otherDevEUI));
      expect(err.message).toContain(otherDevEUI);
      expect(err.message).not.toContain(app.hex);
    }
  });

  test('root keys/another master key does not open', async () => {
    const sealed = await newVault().sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    await sealedError(newVault().openRootKeys(sealed, devEUI));
  });

  test('root keys/every tampered byte is detected', async () => {
    const vault = newVault({ cacheSize: 0 });
    const app = randomKey();
    const nwk = randomKey();
    const sealed = await vault.sealRootKeys({ kind: '1.1', appKey: app.key, nwkKey: nwk.key }, devEUI);
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x01;
      const err = await sealedError(vault.openRootKeys(tampered, devEUI));
      expect(err.message).not.toContain(app.hex);
      expect(err.message).not.toContain(nwk.hex);
    }
    await sealedError(vault.openRootKeys(sealed.subarray(0, sealed.length - 1), devEUI));
    await sealedError(vault.openRootKeys(sealed.subarray(0, 30), devEUI));
    await sealedError(vault.openRootKeys(Buffer.alloc(0), devEUI));
  });

  test('root keys/a tampered blob is not served from the cache', async () => {
    const vault = newVault();
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    await vault.openRootKeys(sealed, devEUI);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 0x80;
    await sealedError(vault.openRootKeys(tampered, devEUI));
  });

  test('root keys/the cache keeps its own copy of the blob: a buffer changed in place after its open is not served from it', async () => {
    const vault = newVault();
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    const buffer = Buffer.from(sealed);
    await vault.openRootKeys(buffer, devEUI);
    buffer[buffer.length - 1]! ^= 0x80;
    await sealedError(vault.openRootKeys(buffer, devEUI));
    // The blob as sealed is still served, from the cache; a key's blob too.
    const first = await vault.openRootKeys(sealed, devEUI);
    expect(await vault.openRootKeys(Buffer.from(sealed), devEUI)).toBe(first);
    const kek = await vault.sealKey(await vault.generateKey(), 'kek:ns');
    const kekBuffer = Buffer.from(kek);
    await vault.openKey(kekBuffer, 'kek:ns');
    kekBuffer[20]! ^= 0x01;
    await sealedError(vault.openKey(kekBuffer, 'kek:ns'));
  });

  test('root keys/a new blob for the same device replaces the cached one: both open to their own keys', async () => {
    const vault = newVault();
    const [a, b] = [randomKey(), randomKey()];
    const sealedA = await vault.sealRootKeys({ kind: 'legacy', appKey: a.key }, devEUI);
    const sealedB = await vault.sealRootKeys({ kind: 'legacy', appKey: b.key }, devEUI);
    expect(await hexOf(vault, (await vault.openRootKeys(sealedA, devEUI)).appKey)).toBe(a.hex);
    expect(await hexOf(vault, (await vault.openRootKeys(sealedB, devEUI)).appKey)).toBe(b.hex);
    expect(vault.cachedKeys).toBe(1);
    expect(await hexOf(vault, (await vault.openRootKeys(sealedA, devEUI)).appKey)).toBe(a.hex);
  });

  test('root keys/master key id is recorded and checked', async () => {
    const master = MasterKey.generate();
    const rotated = new SoftwareKeyVault(master, { masterKeyId: 7 });
    const sealed = await rotated.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    expect(sealed[1]).toBe(7);
    await expect(rotated.openRootKeys(sealed, devEUI)).resolves.toMatchObject({ kind: 'legacy' });
    const err = await sealedError(new SoftwareKeyVault(master).openRootKeys(sealed, devEUI));
    expect(err.message).toContain('master key id 7');
  });

  test('keys/seal and open under a context', async () => {
    const vault = newVault();
    const kek = randomKey();
    const handle = await vault.importKey(kek.key);
    const sealed = await vault.sealKey(handle, 'kek:chirpstack-eu');
    expect(sealed.length).toBe(2 + 12 + 16 + 16);
    expect(await hexOf(vault, await vault.openKey(sealed, 'kek:chirpstack-eu'))).toBe(kek.hex);
  });

  test('keys/another instance with the same master key opens what this one sealed', async () => {
    const master = MasterKey.generate();
    const app = randomKey();
    const sealed = await new SoftwareKeyVault(master).sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
    const reopened = new SoftwareKeyVault(master);
    const opened = await reopened.openRootKeys(sealed, devEUI);
    expect(await hexOf(reopened, opened.appKey)).toBe(app.hex);
  });

  test('keys/wrong context does not open', async () => {
    const vault = newVault();
    const kek = randomKey();
    const sealed = await vault.sealKey(await vault.importKey(kek.key), 'kek:chirpstack-eu');
    const err = await sealedError(vault.openKey(sealed, 'kek:tts-eu'));
    expect(err.message).not.toContain(kek.hex);
    await sealedError(vault.openKey(sealed, `appskey:${devEUI}:00112233445566778899aabbccddeeff`));
  });

  test('keys/root keys and single keys cannot stand in for each other', async () => {
    const vault = newVault();
    const app = randomKey();
    const rootSealed = await vault.sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
    await sealedError(vault.openKey(rootSealed, `rootkeys:${devEUI}`));
    const keySealed = await vault.sealKey(await vault.importKey(app.key), `rootkeys:${devEUI}`);
    await sealedError(vault.openRootKeys(keySealed, devEUI));
  });

  test('handles/another vault instance or a forged object is refused', async () => {
    const a = newVault();
    const b = newVault();
    const handle = await a.generateKey();
    await expect(b.cmac(handle, Buffer.alloc(4))).rejects.toThrow(/another key vault/);
    await expect(b.exportKey(handle)).rejects.toThrow(TypeError);
    await expect(b.wrapKey(await b.generateKey(), handle)).rejects.toThrow(TypeError);
    const forged = [{}, Object.create(Object.getPrototypeOf(handle) as object), { appKey: handle }, null];
    for (const f of forged) {
      await expect(a.cmac(f as KeyHandle, Buffer.alloc(4))).rejects.toThrow(/not a key handle/);
      await expect(a.sealKey(f as KeyHandle, 'kek:x')).rejects.toThrow(TypeError);
    }
  });

  test("handles/importKey copies: changing the caller's bytes later changes nothing", async () => {
    const vault = newVault();
    const k = randomKey();
    const handle = await vault.importKey(k.key);
    k.key.unsafeBytes().fill(0);
    expect(await hexOf(vault, handle)).toBe(k.hex);
    const exported = await vault.exportKey(handle);
    exported.unsafeBytes().fill(0);
    expect(await hexOf(vault, handle)).toBe(k.hex);
  });

  test('handles/generateKey gives fresh keys', async () => {
    const vault = newVault();
    const a = await hexOf(vault, await vault.generateKey());
    const b = await hexOf(vault, await vault.generateKey());
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  test('printing/handles, opened root keys and the vault never show a key', async () => {
    const bytes = randomBytes(32);
    const vault = new SoftwareKeyVault(MasterKey.fromBytes(bytes));
    const app = randomKey();
    const nwk = randomKey();
    const opened = await vault.openRootKeys(await vault.sealRootKeys({ kind: '1.1', appKey: app.key, nwkKey: nwk.key }, devEUI), devEUI);
    if (opened.kind !== '1.1') throw new Error('expected 1.1');
    const printed = [
      String(opened.appKey),
      `${opened.nwkKey}`,
      JSON.stringify(opened),
      inspect(opened, { showHidden: true, depth: Infinity }),
      format('%s %o %O %j', opened.appKey, opened, opened.nwkKey, opened),
      JSON.stringify(vault),
      inspect(vault, { showHidden: true, depth: Infinity }),
      format('%o', vault),
    ];
    for (const p of printed) {
      for (const secret of [app.hex, nwk.hex, bytes.toString('hex')]) {
        expect(p).not.toContain(secret);
        expect(p).not.toContain(secret.slice(0, 8));
      }
    }
    expect(String(opened.appKey)).toBe('[KeyHandle software]');
  });

  test('primitives/cmac (RFC 4493 example 2)', async () => {
    const v = vector('cmac-rfc4493-ex2');
    const vault = newVault();
    const key = await vault.importKey(AES128Key.fromBytes(hex(v.inputs['key'])));
    expect((await vault.cmac(key, hex(v.inputs['message']))).toString('hex')).toBe(v.expected['cmac']);
  });

  test('primitives/deriveKey (1.0 session keys, through sealed root keys)', async () => {
    const v = vector('sk10-brocaar-chirpstack');
    const vault = newVault();
    const sealed = await vault.sealRootKeys({ kind: 'legacy', appKey: AES128Key.fromBytes(hex(v.inputs['appKey'])) }, devEUI);
    const { appKey } = await vault.openRootKeys(sealed, devEUI);
    const block = (prefix: number): Buffer => Buffer.concat([Buffer.from([prefix]), le(v.inputs['joinNonce']), le(v.inputs['netID']), le(v.inputs['devNonce']), Buffer.alloc(7)]);
    expect(await hexOf(vault, await vault.deriveKey(appKey, block(0x01)))).toBe(v.expected['nwkSKey']);
    expect(await hexOf(vault, await vault.deriveKey(appKey, block(0x02)))).toBe(v.expected['appSKey']);
    await expect(vault.deriveKey(appKey, Buffer.alloc(15))).rejects.toThrow(RangeError);
  });

  test('primitives/decryptBlocks (1.0 join-accept encryption)', async () => {
    const v = vector('ja10-brocaar-lorars');
    const vault = newVault();
    const key = await vault.importKey(AES128Key.fromBytes(hex(v.inputs['appKey'])));
    const plaintext = hex(v.expected['plaintextPhyPayload']);
    const encrypted = await vault.decryptBlocks(key, plaintext.subarray(1));
    expect(Buffer.concat([plaintext.subarray(0, 1), encrypted]).toString('hex')).toBe(v.expected['phyPayload']);
  });

  test('primitives/wrapKey (RFC 3394 under a KEK handle)', async () => {
    const v = vector('kw-keyenvelope-brocaar-chirpstack');
    const vault = newVault();
    const kek = await vault.importKey(AES128Key.fromBytes(hex(v.inputs['kek'])));
    const key = await vault.importKey(AES128Key.fromBytes(hex(v.inputs['keyData'])));
    expect((await vault.wrapKey(key, kek)).toString('hex')).toBe(v.expected['wrapped']);
  });

  test('cache/an opened blob is served from memory until closed', async () => {
    const vault = newVault({ cacheSize: 2 });
    const devEUIs = ['0004a30b001c0001', '0004a30b001c0002', '0004a30b001c0003'].map((e) => parseEUI64(e));
    const [a, b, c] = await Promise.all(devEUIs.map((d) => vault.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, d)));
    const first = await vault.openRootKeys(a!, devEUIs[0]!);
    expect(await vault.openRootKeys(a!, devEUIs[0]!)).toBe(first);
    await vault.openRootKeys(b!, devEUIs[1]!);
    await vault.openRootKeys(c!, devEUIs[2]!); // evicts a
    expect(vault.cachedKeys).toBe(2);
    expect(await vault.openRootKeys(a!, devEUIs[0]!)).not.toBe(first);

    const uncached = newVault({ cacheSize: 0 });
    const sealed = await uncached.sealRootKeys({ kind: 'legacy', appKey: randomKey().key }, devEUI);
    expect(await uncached.openRootKeys(sealed, devEUI)).not.toBe(await uncached.openRootKeys(sealed, devEUI));

    await vault.close();
    expect(vault.cachedKeys).toBe(0);
    await expect(vault.openRootKeys(a!, devEUIs[0]!)).rejects.toThrow(/closed/);
  });

  /** Every AES-ECB context the AES primitives make while `body` runs, and whether each has been ended. */
  async function watchingECBContexts(body: (contexts: { made: () => number; ended: () => number }) => Promise<void>): Promise<void> {
    const made: Array<{ update(data: Buffer): Buffer }> = [];
    const realCipher = nodeCrypto.createCipheriv;
    const realDecipher = nodeCrypto.createDecipheriv;
    const track = <T extends { update(data: Buffer): Buffer }>(algorithm: string, context: T): T => {
      if (algorithm === 'aes-128-ecb') made.push(context);
      return context;
    };
    const cipher = jest.spyOn(nodeCrypto, 'createCipheriv').mockImplementation(((algorithm: string, key: Buffer, iv: null) => track(algorithm, realCipher(algorithm, key, iv))) as typeof realCipher);
    const decipher = jest.spyOn(nodeCrypto, 'createDecipheriv').mockImplementation(((algorithm: string, key: Buffer, iv: null) => track(algorithm, realDecipher(algorithm, key, iv))) as typeof realDecipher);
    // An ended context refuses more input.
    const isEnded = (c: { update(data: Buffer): Buffer }): boolean => {
      try {
        c.update(Buffer.alloc(16));
        return false;
      } catch {
        return true;
      }
    };
    try {
      await body({ made: () => made.length, ended: () => made.filter(isEnded).length });
    } finally {
      cipher.mockRestore();
      decipher.mockRestore();
    }
  }

  test('cache/an evicted key frees its OpenSSL contexts at once, and a join still holding it goes on with the same answers', async () => {
    const vault = newVault({ cacheSize: 2 });
    const keys = [randomKey(), randomKey(), randomKey()];
    const devEUIs = ['0004a30b001c0001', '0004a30b001c0002', '0004a30b001c0003'].map((e) => parseEUI64(e));
    const sealed = await Promise.all(keys.map(({ key }, i) => vault.sealRootKeys({ kind: '1.1', appKey: key, nwkKey: randomKey().key }, devEUIs[i]!)));
    const held = await vault.openRootKeys(sealed[0]!, devEUIs[0]!);
    if (held.kind !== '1.1') throw new Error('expected 1.1 root keys');
    const message = randomBytes(23);
    const block = randomBytes(16);
    let tag: Buffer = Buffer.alloc(0);
    let decrypted: Buffer = Buffer.alloc(0);
    await watchingECBContexts(async (contexts) => {
      tag = await vault.cmac(held.appKey, message);
      decrypted = await vault.decryptBlocks(held.appKey, block);
      await vault.cmac(held.nwkKey, message);
      // AppKey: an encrypting and a decrypting context; NwkKey, only CMACs so far: an encrypting one.
      expect([contexts.made(), contexts.ended()]).toEqual([3, 0]);

      await vault.openRootKeys(sealed[1]!, devEUIs[1]!);
      expect(contexts.ended()).toBe(0);
      await vault.openRootKeys(sealed[2]!, devEUIs[2]!); // evicts the first device's keys
      expect([contexts.made(), contexts.ended()]).toEqual([3, 3]);
    });
    // The join that opened them before the eviction still has working keys.
    expect((await vault.cmac(held.appKey, message)).equals(tag)).toBe(true);
    expect((await vault.decryptBlocks(held.appKey, block)).equals(decrypted)).toBe(true);
    expect(await hexOf(vault, held.appKey)).toBe(keys[0]!.hex);
  });

  test("release/a join's temporary keys free their contexts; using one again still works", async () => {
    const vault = newVault();
    const root = await vault.importKey(randomKey().key);
    const message = randomBytes(16);
    await watchingECBContexts(async (contexts) => {
      const derived = await vault.deriveKey(root, randomBytes(16));
      const tag = await vault.cmac(derived, message);
      // The root key's encrypting context (the derivation), the derived key's (its CMAC): no decrypting one.
      expect([contexts.made(), contexts.ended()]).toEqual([2, 0]);
      vault.release(derived);
      expect([contexts.made(), contexts.ended()]).toEqual([2, 1]);
      vault.release(derived);
      expect((await vault.cmac(derived, message)).equals(tag)).toBe(true);
      expect([contexts.made(), contexts.ended()]).toEqual([3, 1]);
    });
  });

  test('key ring/every key opens what it sealed, the current one seals; reseal moves a blob to the current key', async () => {
    const k0 = MasterKey.generate();
    const k1 = MasterKey.generate();
    const before = new SoftwareKeyVault(k0);
    const app = randomKey();
    const old = await before.sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
    const ring = new SoftwareKeyVault({
      current: 1,
      keys: new Map([
        [0, k0],
        [1, k1],
      ]),
    });
    expect(ring.currentMasterKeyId).toBe(1);
    expect(ring.masterKeyIds).toEqual([0, 1]);
    expect(await hexOf(ring, (await ring.openRootKeys(old, devEUI)).appKey)).toBe(app.hex);
    const fresh = await ring.sealRootKeys({ kind: 'legacy', appKey: app.key }, devEUI);
    expect(fresh[1]).toBe(1);
    const moved = (await ring.reseal(old, 'rootkeys', `rootkeys:${devEUI}`))!;
    expect(moved[1]).toBe(1);
    expect(await ring.reseal(moved, 'rootkeys', `rootkeys:${devEUI}`)).toBeNull();
    const onlyNew = new SoftwareKeyVault(k1, { masterKeyId: 1 });
    expect(await hexOf(onlyNew, (await onlyNew.openRootKeys(moved, devEUI)).appKey)).toBe(app.hex);
    await sealedError(ring.reseal(old, 'rootkeys', `rootkeys:${otherDevEUI}`)); // the context still binds
  });

  test('key ring/the key file is looked at once per event-loop turn: a burst of seals shares one look, the next turn sees a rotation', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-ring-'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object itself, to spy on
    const stat = jest.spyOn(require('node:fs') as typeof import('node:fs'), 'statSync');
    try {
      const file = path.join(dir, 'master.key');
      const k0 = MasterKey.generate();
      await writeMasterKeyRing(file, { current: 0, keys: new Map([[0, k0]]) });
      const vault = new SoftwareKeyVault((await readMasterKeyRing(file))!, { keyFile: file });
      const keys: RootKeys = { kind: 'legacy', appKey: AES128Key.fromBytes(randomBytes(16)) };
      await vault.sealRootKeys(keys, devEUI); // the first look reads the file (I/O: a new turn)
      await new Promise((resolve) => setImmediate(resolve));
      stat.mockClear();
      for (let i = 0; i < 50; i++) expect((await vault.sealRootKeys(keys, devEUI))[1]).toBe(0);
      expect(stat.mock.calls.filter(([f]) => f === file)).toHaveLength(1);

      await writeMasterKeyRing(file, {
        current: 1,
        keys: new Map([
          [0, k0],
          [1, MasterKey.generate()],
        ]),
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect((await vault.sealRootKeys(keys, devEUI))[1]).toBe(1);
    } finally {
      stat.mockRestore();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('key ring/a vault with a key file follows a rotation: seals with the new key, opens blobs of keys it did not have', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-ring-'));
    try {
      const file = path.join(dir, 'master.key');
      const k0 = MasterKey.generate();
      await writeMasterKeyRing(file, { current: 0, keys: new Map([[0, k0]]) });
      const server = new SoftwareKeyVault((await readMasterKeyRing(file))!, { keyFile: file });
      const kek = await server.generateKey();
      expect((await server.sealKey(kek, 'kek:a'))[1]).toBe(0);

      const k1 = MasterKey.generate();
      await writeMasterKeyRing(file, {
        current: 1,
        keys: new Map([
          [0, k0],
          [1, k1],
        ]),
      });
      const cli = new SoftwareKeyVault((await readMasterKeyRing(file))!, { keyFile: file });
      const byCLI = await cli.sealKey(await cli.importKey(await server.exportKey(kek)), 'kek:b');
      expect(byCLI[1]).toBe(1);
      expect(await hexOf(server, await server.openKey(byCLI, 'kek:b'))).toBe(await hexOf(server, kek)); // re-read the file for key 1
      expect((await server.sealKey(kek, 'kek:a'))[1]).toBe(1); // and seals with it
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

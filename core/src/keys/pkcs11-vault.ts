import { randomBytes, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { aesKeyUnwrap } from '../lorawan/key-wrap';
import { DEFAULT_KEY_CACHE_SIZE, type KeyHandle, type KeyVault, type RootKeyHandles, type RootKeys, type WrappedRootKeys } from './key-vault';
import { LRUCache } from './lru-cache';
import {
  decodeRootKeysReference,
  decodeSealedKey,
  encodeRootKeysReference,
  encodeSealedKey,
  macInput,
  NONCE_LENGTH,
  rootKeyObjectId,
  rootKeyObjectLabel,
  SEALING_KEY_ID_LENGTH,
  sealedKeyHeader,
  type RootKeyRole,
} from './pkcs11-blob';
import { Pkcs11VaultError } from './pkcs11-error';
import { Pkcs11KeyHandle, type Pkcs11KeyState } from './pkcs11-key-handle';
import { findTokenSlot, loadPkcs11Library, type Pkcs11Library } from './pkcs11-module';
import { Pkcs11SessionPool, type Pkcs11Session } from './pkcs11-session-pool';
import { ephemeralWrapTemplate, internalKeySearch, internalKeyTemplate, rootKeySearch, rootKeyTemplate, sessionKeyTemplate, type KeyClass } from './pkcs11-templates';
import { SealedBlobError } from './sealed-blob-error';
import { WrappedKeyError } from './wrapped-key-error';

export interface Pkcs11KeyVaultOptions {
  /** Path of the PKCS#11 module (the HSM vendor's shared library). */
  readonly library: string;
  /** Label of the token holding Joinery's keys (found by label: slot ids move). */
  readonly tokenLabel: string;
  /** The token's user PIN. */
  readonly pin: string;
  /** Sessions for concurrent operations (default 8). */
  readonly sessions?: number;
  /**
   * Devices whose root keys stay open (as session copies of their token objects) after a join,
   * and sealed single keys (KEKs, AppSKeys) that stay unwrapped; each is least recently used
   * first out (default 10,000 of each). 0 opens everything afresh every time.
   */
  readonly cacheSize?: number;
  /** How long a key evicted from a cache stays usable for an operation already holding it (default 30 s). */
  readonly evictionGraceMs?: number;
}

/** Labels of the vault's own sealing keys (token objects, created on first use). */
export const SEAL_WRAP_LABEL = 'joinery:seal-wrap';
export const SEAL_MAC_LABEL = 'joinery:seal-mac';

const ZERO_IV = Buffer.alloc(16);
const HANDLE_GONE = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID']);
const UNWRAP_REFUSED = new Set(['CKR_WRAPPED_KEY_INVALID', 'CKR_WRAPPED_KEY_LEN_RANGE', 'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR']);

interface OpenRootKeys {
  readonly handles: RootKeyHandles;
  /** The session copies behind the handles (destroyed when evicted). */
  readonly copies: readonly Buffer[];
}

interface OpenKey {
  readonly handle: KeyHandle;
  readonly object: Buffer;
}

interface SealingPair {
  readonly id: Buffer;
  readonly wrap: Buffer;
  readonly mac: Buffer;
}

/**
 * The PKCS#11 key vault: every key lives inside an HSM as a key object, and every operation on a
 * key (CMAC, derivation, decryption, wrapping) is the HSM's. Tested on SoftHSM2.
 *
 * - Root keys are imported as token objects with `CKA_SENSITIVE=true, CKA_EXTRACTABLE=false`:
 *   nothing, this vault included, can read, wrap or export them. What the store keeps for them
 *   is a reference to the objects (pkcs11-blob.ts), not key material. Opened, a device's root
 *   keys are copied into session objects (as protected as the originals) that stay open for
 *   later joins, least recently used first out.
 * - CMAC is `CKM_AES_CMAC` (the full 16 bytes); derivations are `CKM_AES_CBC_ENCRYPT_DATA` with a
 *   zero IV over the one 16-byte block (= AES-128-encrypt(key, block), the LoRaWAN derivation),
 *   giving session objects that are sensitive and extractable only by wrapping; the join-accept
 *   "encryption" is `CKM_AES_ECB` decryption; key wrap is `CKM_AES_KEY_WRAP` (RFC 3394).
 * - Single keys (KEKs, AppSKeys kept for AppSKeyReq) are sealed by wrapping them under the
 *   vault's own sealing key, a non-extractable token object, and authenticating the wrapped key
 *   with its context by CMAC under a twin MAC key (so a blob opens only for the context it was
 *   sealed for, as with the software vault). Opening unwraps them into session objects, kept
 *   open for later use like the software vault's cache (release() leaves them alone; eviction
 *   destroys them after a grace period, for operations still holding them). Sealed
 *   blobs name their sealing key by id, so several processes creating one at the same first
 *   moment, or a future rotation, keep every blob openable.
 * - exportKey, for the one peer that gets a clear key by design (ChirpStack's AppSKey without an
 *   application server) and for a new peer's KEK written into its credential bundle: the key is
 *   wrapped inside the HSM under an ephemeral wrapping key this process made, which is then
 *   destroyed, and unwrapped here. It works only for keys the HSM lets be wrapped; a root key is
 *   refused by the HSM (`CKR_KEY_UNEXTRACTABLE`).
 * - release() destroys the session objects of derived, unwrapped, generated and imported keys.
 */
export class Pkcs11KeyVault implements KeyVault {
  readonly kind = 'pkcs11';
  readonly tokenLabel: string;
  readonly #library: Pkcs11Library;
  readonly #module: pkcs11js.PKCS11;
  readonly #pool: Pkcs11SessionPool;
  readonly #roots: LRUCache<string, OpenRootKeys>;
  readonly #keys: LRUCache<string, OpenKey>;
  readonly #pairs = new Map<string, SealingPair>();
  #currentPair: SealingPair | null = null;
  /** Session objects evicted from a cache, destroyed once no operation can still be using them. */
  #graveyard: { readonly objects: readonly Buffer[]; readonly due: number }[] = [];
  readonly #sweeper: NodeJS.Timeout;
  readonly #graceMs: number;
  #closed = false;

  private constructor(library: Pkcs11Library, pool: Pkcs11SessionPool, tokenLabel: string, cacheSize: number, graceMs: number) {
    this.#library = library;
    this.#module = library.module;
    this.#pool = pool;
    this.tokenLabel = tokenLabel;
    this.#roots = new LRUCache(cacheSize, (_k, open) => this.#bury(open.copies));
    this.#keys = new LRUCache(cacheSize, (_k, open) => this.#bury([open.object]));
    this.#graceMs = graceMs;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, graceMs / 3));
    this.#sweeper.unref();
  }

  /** Loads the module, finds the token by label and logs in. */
  static open(options: Pkcs11KeyVaultOptions): Pkcs11KeyVault {
    if (options.pin === '') throw new Pkcs11VaultError('the PKCS#11 user PIN is empty');
    const library = loadPkcs11Library(options.library);
    try {
      const slot = findTokenSlot(library.module, options.tokenLabel);
      const pool = Pkcs11SessionPool.open(library.module, slot, options.tokenLabel, options.pin, options.sessions ?? 8);
      return new Pkcs11KeyVault(library, pool, options.tokenLabel, options.cacheSize ?? DEFAULT_KEY_CACHE_SIZE, options.evictionGraceMs ?? 30_000);
    } catch (err) {
      library.release();
      throw err;
    }
  }

  // ---- root keys ----------------------------------------------------------------------------

  async sealRootKeys(keys: RootKeys, devEUI: string): Promise<Buffer> {
    const eui = parseEUI64(devEUI, 'devEUI');
    const nonce = randomBytes(NONCE_LENGTH);
    const created: Buffer[] = [];
    try {
      created.push(this.#createRootKey(eui, nonce, 'AppKey', keys.appKey));
      if (keys.kind === '1.1') created.push(this.#createRootKey(eui, nonce, 'NwkKey', keys.nwkKey));
      else if (keys.kind !== 'legacy') throw new TypeError(`unknown root key kind ${String((keys as { kind?: unknown }).kind)}`);
    } catch (err) {
      for (const object of created) this.#destroyQuietly(object);
      throw err;
    }
    return encodeRootKeysReference({ kind: keys.kind, nonce });
  }

  async openRootKeys(sealed: Buffer, devEUI: string): Promise<RootKeyHandles> {
    const eui = parseEUI64(devEUI, 'devEUI');
    const context = `rootkeys:${eui}`;
    const ref = decodeRootKeysReference(sealed, context);
    const cacheKey = `${eui}:${ref.nonce.toString('hex')}:${ref.kind}`;
    const cached = this.#roots.get(cacheKey);
    if (cached) return cached.handles;

    const copies: Buffer[] = [];
    const appKey = this.#rootHandle(this.#findRootKey(eui, ref.nonce, 'AppKey'), copies);
    const handles: RootKeyHandles =
      ref.kind === 'legacy' ? Object.freeze({ kind: 'legacy', appKey }) : Object.freeze({ kind: '1.1', appKey, nwkKey: this.#rootHandle(this.#findRootKey(eui, ref.nonce, 'NwkKey'), copies) });
    this.#roots.set(cacheKey, { handles, copies });
    return handles;
  }

  /**
   * Root keys that arrive wrapped (RFC 3394) under a transport KEK are unwrapped by the HSM
   * (`C_UnwrapKey`) straight into root key objects: never in clear in this process.
   */
  async unwrapRootKeys(keys: WrappedRootKeys, transportKEK: KeyHandle, devEUI: string): Promise<Buffer> {
    const eui = parseEUI64(devEUI, 'devEUI');
    const kek = this.#state(transportKEK);
    const nonce = randomBytes(NONCE_LENGTH);
    const created: Buffer[] = [];
    const unwrapOne = async (role: RootKeyRole, wrapped: Buffer): Promise<Buffer> => {
      try {
        return await this.#use(`C_UnwrapKey (${role} of ${eui})`, (s) =>
          this.#module.C_UnwrapKeyAsync(s.handle, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, kek.object, wrapped, rootKeyTemplate(rootKeyObjectId(eui, nonce, role), rootKeyObjectLabel(eui, role))),
        );
      } catch (err) {
        // SoftHSM2 answers a failed RFC 3394 integrity check with CKR_GENERAL_ERROR.
        if (err instanceof Pkcs11VaultError && err.ckr !== undefined && UNWRAP_REFUSED.has(err.ckr)) {
          throw new WrappedKeyError(`${role} does not unwrap under the transport KEK (another KEK, or altered: ${err.ckr})`);
        }
        throw err;
      }
    };
    try {
      created.push(await unwrapOne('AppKey', keys.appKey));
      if (keys.kind === '1.1') created.push(await unwrapOne('NwkKey', keys.nwkKey));
    } catch (err) {
      for (const object of created) this.#destroyQuietly(object);
      throw err;
    }
    return encodeRootKeysReference({ kind: keys.kind, nonce });
  }

  async discardRootKeys(sealed: Buffer, devEUI: string): Promise<void> {
    await this.destroyRootKeys(sealed, devEUI);
  }

  /**
   * Destroys the token objects a root key reference points to (a device deleted, or an import
   * that was not committed). Missing objects are not an error.
   */
  async destroyRootKeys(sealed: Buffer, devEUI: string): Promise<void> {
    const eui = parseEUI64(devEUI, 'devEUI');
    const ref = decodeRootKeysReference(sealed, `rootkeys:${eui}`);
    this.#roots.delete(`${eui}:${ref.nonce.toString('hex')}:${ref.kind}`);
    for (const role of ref.kind === 'legacy' ? (['AppKey'] as const) : (['AppKey', 'NwkKey'] as const)) {
      for (const object of this.#find(rootKeySearch(rootKeyObjectId(eui, ref.nonce, role)), 4)) this.#destroyQuietly(object);
    }
  }

  // ---- single keys --------------------------------------------------------------------------

  async sealKey(key: KeyHandle, context: string): Promise<Buffer> {
    checkContext(context);
    const state = this.#state(key);
    if (state.keyClass === 'root') throw new Pkcs11VaultError('root keys are sealed with sealRootKeys, never as single keys');
    const pair = this.#sealingPair();
    const wrapped = await this.#wrap(state.object, pair.wrap, 'C_WrapKey (sealing)');
    const header = sealedKeyHeader(pair.id, state.keyClass, wrapped);
    const tag = await this.#cmacObject(pair.mac, macInput(header, context));
    return encodeSealedKey(header, tag);
  }

  async openKey(sealed: Buffer, context: string): Promise<KeyHandle> {
    checkContext(context);
    const cacheKey = `${sealed.toString('hex')}:${context}`;
    const cached = this.#keys.get(cacheKey);
    if (cached) return cached.handle;
    const blob = decodeSealedKey(sealed, context);
    const pair = this.#pairById(blob.sealingKeyId, context);
    const tag = await this.#cmacObject(pair.mac, macInput(blob.authenticated, context));
    if (!timingSafeEqual(tag, blob.tag)) {
      throw new SealedBlobError(`sealed key does not open for "${context}": it was sealed for another purpose, or altered`);
    }
    const keyClass = blob.keyClass;
    const object = await this.#use('C_UnwrapKey (opening a sealed key)', (s) => this.#module.C_UnwrapKeyAsync(s.handle, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, pair.wrap, blob.wrapped, sessionKeyTemplate(keyClass)));
    // Owned by the vault, not by the caller: release() leaves it; eviction destroys it (later).
    const handle = Pkcs11KeyHandle.create({ object, keyClass, session: null }, this);
    this.#keys.set(cacheKey, { handle, object });
    return handle;
  }

  async importKey(key: AES128Key): Promise<KeyHandle> {
    const value = Buffer.from(key.unsafeBytes());
    try {
      const object = this.#pool.sync('C_CreateObject (importing a key)', (s) => this.#module.C_CreateObject(s.handle, sessionKeyTemplate('kek', { value })));
      return this.#anchorHandle(object, 'kek');
    } finally {
      value.fill(0);
    }
  }

  async generateKey(): Promise<KeyHandle> {
    return this.#use('C_GenerateKey (AES-128)', async (s) => {
      const object = await this.#module.C_GenerateKeyAsync(s.handle, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, sessionKeyTemplate('kek', { withLength: true }));
      return this.#sessionHandle(object, 'kek', s);
    });
  }

  // ---- primitives ---------------------------------------------------------------------------

  async cmac(key: KeyHandle, message: Uint8Array): Promise<Buffer> {
    const { object } = this.#state(key);
    return this.#cmacObject(object, Buffer.from(message));
  }

  async deriveKey(key: KeyHandle, block: Uint8Array): Promise<KeyHandle> {
    const { object } = this.#state(key);
    if (block.length !== 16) throw new RangeError(`deriveKey: expected a 16-byte block, got ${block.length} bytes`);
    const data = Buffer.from(block);
    return this.#use('C_DeriveKey (AES-CBC-ENCRYPT-DATA)', async (s) => {
      const mechanism = { mechanism: pkcs11js.CKM_AES_CBC_ENCRYPT_DATA, parameter: { type: pkcs11js.CK_PARAMS_AES_CBC, iv: ZERO_IV, data } };
      const derived = await this.#module.C_DeriveKeyAsync(s.handle, mechanism, object, sessionKeyTemplate('session', { withLength: true }));
      return this.#sessionHandle(derived, 'session', s);
    });
  }

  async decryptBlocks(key: KeyHandle, data: Uint8Array): Promise<Buffer> {
    const { object } = this.#state(key);
    if (data.length === 0 || data.length % 16 !== 0) throw new RangeError(`decryptBlocks: expected whole 16-byte blocks, got ${data.length} bytes`);
    const input = Buffer.from(data);
    return this.#use('C_Decrypt (AES-ECB)', async (s) => {
      this.#module.C_DecryptInit(s.handle, { mechanism: pkcs11js.CKM_AES_ECB }, object);
      const out = await this.#module.C_DecryptAsync(s.handle, input, Buffer.alloc(input.length));
      if (out.length !== input.length) throw new Pkcs11VaultError(`C_Decrypt gave ${out.length} bytes for ${input.length}`);
      return out;
    });
  }

  async wrapKey(key: KeyHandle, kek: KeyHandle): Promise<Buffer> {
    return this.#wrap(this.#state(key).object, this.#state(kek).object, 'C_WrapKey (AES-KEY-WRAP)');
  }

  async exportKey(key: KeyHandle): Promise<AES128Key> {
    const { object } = this.#state(key);
    // An ephemeral wrapping key: made here, put into the HSM, used for this one wrap, destroyed.
    const ephemeral = randomBytes(16);
    try {
      const wrapper = this.#pool.sync('C_CreateObject (ephemeral wrapping key)', (s) => this.#module.C_CreateObject(s.handle, ephemeralWrapTemplate(ephemeral)));
      let wrapped: Buffer;
      try {
        wrapped = await this.#wrap(object, wrapper, 'C_WrapKey (exporting a key)');
      } finally {
        this.#destroyQuietly(wrapper);
      }
      const clear = aesKeyUnwrap(ephemeral, wrapped);
      try {
        return AES128Key.fromBytes(clear);
      } finally {
        clear.fill(0);
      }
    } finally {
      ephemeral.fill(0);
    }
  }

  release(...keys: KeyHandle[]): void {
    for (const key of keys) {
      const state = Pkcs11KeyHandle.take(key, this);
      if (!state || !state.session) continue;
      if (!state.session.closed && !this.#closed) this.#destroyQuietly(state.object);
      this.#pool.objectDestroyed(state.session);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    // Closing the sessions destroys every session object: nothing to bury or sweep.
    this.#graveyard = [];
    try {
      await this.#pool.close();
    } finally {
      this.#library.release();
    }
  }

  /** Sessions open now (the anchor included): for tests and metrics. */
  /** Opened keys currently cached: a device's root keys (session copies on the HSM) count once, as does each single key. */
  get cachedKeys(): number {
    return this.#roots.size + this.#keys.size;
  }

  get openSessions(): number {
    return this.#pool.openSessions;
  }

  toString(): string {
    return `[Pkcs11KeyVault token "${this.tokenLabel}"]`;
  }
  [inspect.custom](): string {
    return this.toString();
  }

  // ---- internals ----------------------------------------------------------------------------

  #state(handle: KeyHandle): Pkcs11KeyState {
    if (this.#closed) throw new Pkcs11VaultError('the PKCS#11 key vault is closed');
    return Pkcs11KeyHandle.stateOf(handle, this);
  }

  /**
   * A handle for a root key: a session copy of its token object when the HSM allows it (SoftHSM2
   * works several times faster on session objects than on token objects, which it checks
   * against their files on every use), else the token object itself. A copy is as protected as
   * the original: PKCS#11 never lets a copy become less sensitive or more extractable.
   */
  #rootHandle(tokenObject: Buffer, copies: Buffer[]): KeyHandle {
    const copy = this.#sessionCopy(tokenObject);
    if (copy) copies.push(copy);
    return Pkcs11KeyHandle.create({ object: copy ?? tokenObject, keyClass: 'root', session: null }, this);
  }

  #sessionCopy(tokenObject: Buffer): Buffer | null {
    if (this.#closed) return null;
    try {
      return this.#module.C_CopyObject(this.#pool.anchor.handle, tokenObject, [{ type: pkcs11js.CKA_TOKEN, value: false }]);
    } catch {
      return null; // not copyable on this HSM: use the token object
    }
  }

  #bury(objects: readonly Buffer[]): void {
    if (objects.length > 0 && !this.#closed) this.#graveyard.push({ objects, due: Date.now() + this.#graceMs });
  }

  #sweep(): void {
    const now = Date.now();
    while (this.#graveyard.length > 0 && this.#graveyard[0]!.due <= now) {
      for (const object of this.#graveyard.shift()!.objects) this.#destroyQuietly(object);
    }
  }

  /** A session object made in pool session `s`: counted there, so `s` outlives it. */
  #sessionHandle(object: Buffer, keyClass: KeyClass, s: Pkcs11Session): KeyHandle {
    this.#pool.objectCreated(s);
    return Pkcs11KeyHandle.create({ object, keyClass, session: s }, this);
  }

  /** A session object made on the anchor session (which lives as long as the vault). */
  #anchorHandle(object: Buffer, keyClass: KeyClass): KeyHandle {
    const anchor = this.#pool.anchor;
    this.#pool.objectCreated(anchor);
    return Pkcs11KeyHandle.create({ object, keyClass, session: anchor }, this);
  }

  #createRootKey(eui: EUI64, nonce: Buffer, role: RootKeyRole, key: AES128Key): Buffer {
    const value = Buffer.from(key.unsafeBytes());
    try {
      return this.#pool.sync(`C_CreateObject (${role} of ${eui})`, (s) => this.#module.C_CreateObject(s.handle, rootKeyTemplate(rootKeyObjectId(eui, nonce, role), rootKeyObjectLabel(eui, role), value)));
    } finally {
      value.fill(0);
    }
  }

  #findRootKey(eui: EUI64, nonce: Buffer, role: RootKeyRole): Buffer {
    const found = this.#find(rootKeySearch(rootKeyObjectId(eui, nonce, role)), 2);
    if (found.length === 0) {
      throw new SealedBlobError(`the ${role} of device ${eui} is not in PKCS#11 token "${this.tokenLabel}": its reference points to an object that does not exist (another token, or deleted)`);
    }
    if (found.length > 1) throw new SealedBlobError(`the ${role} of device ${eui} is in PKCS#11 token "${this.tokenLabel}" more than once`);
    return found[0]!;
  }

  #find(template: pkcs11js.Template, max: number): Buffer[] {
    return this.#pool.sync('C_FindObjects', (s) => {
      this.#module.C_FindObjectsInit(s.handle, template);
      try {
        return this.#module.C_FindObjects(s.handle, max);
      } finally {
        this.#module.C_FindObjectsFinal(s.handle);
      }
    });
  }

  /** The sealing key pair new blobs are sealed with: the one with the lowest id, created if none. */
  #sealingPair(): SealingPair {
    if (this.#currentPair) return this.#currentPair;
    let pairs = this.#listPairs();
    if (pairs.length === 0) {
      const id = randomBytes(SEALING_KEY_ID_LENGTH);
      const mech = { mechanism: pkcs11js.CKM_AES_KEY_GEN };
      this.#pool.sync('C_GenerateKey (sealing keys)', (s) => {
        const mac = this.#module.C_GenerateKey(s.handle, mech, internalKeyTemplate('mac', id, SEAL_MAC_LABEL));
        try {
          this.#module.C_GenerateKey(s.handle, mech, internalKeyTemplate('wrap', id, SEAL_WRAP_LABEL));
        } catch (err) {
          this.#destroyQuietly(mac);
          throw err;
        }
      });
      // Another process may have created a pair at the same moment: everyone picks the lowest id.
      pairs = this.#listPairs();
    }
    pairs.sort((a, b) => Buffer.compare(a.id, b.id));
    const chosen = pairs[0];
    if (!chosen) throw new Pkcs11VaultError(`cannot create the vault's sealing keys in PKCS#11 token "${this.tokenLabel}"`);
    this.#currentPair = chosen;
    return chosen;
  }

  #listPairs(): SealingPair[] {
    const pairs: SealingPair[] = [];
    for (const wrap of this.#find(internalKeySearch(SEAL_WRAP_LABEL), 64)) {
      const id = this.#pool.sync('C_GetAttributeValue (CKA_ID)', (s) => this.#module.C_GetAttributeValue(s.handle, wrap, [{ type: pkcs11js.CKA_ID }]))[0]?.value;
      if (!id || id.length !== SEALING_KEY_ID_LENGTH) continue;
      const mac = this.#find(internalKeySearch(SEAL_MAC_LABEL, id), 2);
      if (mac.length !== 1) continue;
      const pair = this.#openPair(Buffer.from(id), wrap, mac[0]!);
      pairs.push(pair);
    }
    return pairs;
  }

  #pairById(id: Buffer, context: string): SealingPair {
    const cached = this.#pairs.get(id.toString('hex'));
    if (cached) return cached;
    const wrap = this.#find(internalKeySearch(SEAL_WRAP_LABEL, id), 2);
    const mac = this.#find(internalKeySearch(SEAL_MAC_LABEL, id), 2);
    if (wrap.length !== 1 || mac.length !== 1) {
      throw new SealedBlobError(`sealed key of "${context}" was sealed by a sealing key that is not in PKCS#11 token "${this.tokenLabel}" (another token?)`);
    }
    return this.#openPair(id, wrap[0]!, mac[0]!);
  }

  /** A sealing key pair, as session copies when the HSM allows (kept for the vault's lifetime). */
  #openPair(id: Buffer, wrap: Buffer, mac: Buffer): SealingPair {
    const known = this.#pairs.get(id.toString('hex'));
    if (known) return known;
    const pair = { id, wrap: this.#sessionCopy(wrap) ?? wrap, mac: this.#sessionCopy(mac) ?? mac };
    this.#pairs.set(id.toString('hex'), pair);
    return pair;
  }

  #cmacObject(object: Buffer, message: Buffer): Promise<Buffer> {
    return this.#use('C_Sign (AES-CMAC)', async (s) => {
      this.#module.C_SignInit(s.handle, { mechanism: pkcs11js.CKM_AES_CMAC }, object);
      // An empty message goes through C_SignFinal: a zero-length C_Sign reaches the module as a
      // NULL pointer, which SoftHSM2 refuses (CKR_ARGUMENTS_BAD).
      const tag = message.length === 0 ? await this.#module.C_SignFinalAsync(s.handle, Buffer.alloc(16)) : await this.#module.C_SignAsync(s.handle, message, Buffer.alloc(16));
      if (tag.length !== 16) throw new Pkcs11VaultError(`C_Sign (AES-CMAC) gave ${tag.length} bytes, expected the full 16-byte tag`);
      return tag;
    });
  }

  #wrap(key: Buffer, kek: Buffer, operation: string): Promise<Buffer> {
    return this.#use(operation, async (s) => {
      const wrapped = await this.#module.C_WrapKeyAsync(s.handle, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, kek, key, Buffer.alloc(24));
      if (wrapped.length !== 24) throw new Pkcs11VaultError(`${operation} gave ${wrapped.length} bytes, expected 24`);
      return wrapped;
    });
  }

  /**
   * Runs an operation on a pool session. When an object handle turned out stale (an object
   * deleted by another process), every cached handle is forgotten so the next use looks again.
   */
  async #use<T>(operation: string, fn: (s: Pkcs11Session) => Promise<T> | T): Promise<T> {
    try {
      return await this.#pool.use(operation, fn);
    } catch (err) {
      if (err instanceof Pkcs11VaultError && err.ckr !== undefined && HANDLE_GONE.has(err.ckr)) {
        this.#roots.clear();
        this.#keys.clear();
        for (const pair of this.#pairs.values()) this.#bury([pair.wrap, pair.mac]);
        this.#pairs.clear();
        this.#currentPair = null;
      }
      throw err;
    }
  }

  #destroyQuietly(object: Buffer): void {
    try {
      this.#pool.sync('C_DestroyObject', (s) => this.#module.C_DestroyObject(s.handle, object));
    } catch {
      // already gone (its session closed), or the vault is closing
    }
  }
}

function checkContext(context: string): void {
  if (typeof context !== 'string' || context.length === 0) throw new TypeError('a sealing context is required');
}

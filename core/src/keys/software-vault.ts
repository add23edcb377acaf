import { createSecretKey, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { inspect } from 'node:util';
import { AES128Key } from '../lorawan/aes128-key';
import { aesDecryptECB, aesEncryptBlock } from '../lorawan/aes';
import { aesCmac } from '../lorawan/cmac';
import { parseEUI64 } from '../lorawan/identifiers';
import { aesKeyUnwrap, aesKeyWrap, KeyWrapError } from '../lorawan/key-wrap';
import { DEFAULT_KEY_CACHE_SIZE, type KeyHandle, type KeyVault, type RootKeyHandles, type RootKeys, type WrappedRootKeys } from './key-vault';
import { LRUCache } from './lru-cache';
import { MasterKey, readMasterKeyRing, type MasterKeyRing } from './master-key';
import { openBlob, sealBlob, sealedBlobKeyId, SealPurpose, type SealingKey } from './sealed-blob';
import { SealedBlobError } from './sealed-blob-error';
import { WrappedKeyError } from './wrapped-key-error';

export interface SoftwareKeyVaultOptions {
  /**
   * Opened keys kept in memory, each serving only the exact sealed blob (and context) it was
   * opened from, so the join hot path does not run AES-GCM for every join of the same device
   * (or every use of the same KEK). Least recently used first out. Default 10,000; 0 disables the cache.
   */
  readonly cacheSize?: number;
  /** With a single master key: the id written into every blob (0..255). Default 0. */
  readonly masterKeyId?: number;
  /**
   * The master key file the keys came from. The vault re-reads it when it changed before
   * sealing, and when a blob names a key id it does not hold, so a running server follows a
   * `joinery keys rotate-master` at once, with no restart.
   */
  readonly keyFile?: string;
}

const ROOT_KEYS_LEGACY = 0x01;
const ROOT_KEYS_1_1 = 0x02;

/**
 * The software key vault: keys live in this process's memory as AES128Key objects behind
 * opaque handles, and at rest sealed with AES-256-GCM under the master key (format in
 * sealed-blob.ts). The default vault; an HSM-backed vault implements the same port.
 */
export class SoftwareKeyVault implements KeyVault {
  readonly kind = 'software';
  #keys = new Map<number, SealingKey>();
  #sealing!: SealingKey;
  readonly #keyFile: string | undefined;
  #keyFileStamp = '';
  #checkedThisTurn = false;
  readonly #cache: LRUCache<string, OpenedBlob>;
  #closed = false;

  /** One master key, or a key ring (every key opens what it sealed, `current` seals). */
  constructor(master: MasterKey | MasterKeyRing, options: SoftwareKeyVaultOptions = {}) {
    const keyId = options.masterKeyId ?? 0;
    if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw new RangeError('masterKeyId must be an integer 0..255');
    this.#useRing(master instanceof MasterKey ? { current: keyId, keys: new Map([[keyId, master]]) } : master);
    this.#keyFile = options.keyFile;
    // A key the cache lets go of frees its AES state at once (see AES128Key.releasePrimitives):
    // at a million devices every join evicts one, and OpenSSL's memory would otherwise wait for
    // a full garbage collection. Keys still in use by a join in flight stay usable.
    this.#cache = new LRUCache(options.cacheSize ?? DEFAULT_KEY_CACHE_SIZE, (_cacheKey, entry) => this.#releaseOpened(entry.opened));
  }

  /** The id of the master key that seals. */
  get currentMasterKeyId(): number {
    return this.#sealing.keyId;
  }

  /** The ids of every master key held (each opens what it sealed). */
  get masterKeyIds(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  /**
   * Master-key rotation: a blob sealed under an older master key, opened and sealed again
   * under the current one (same purpose and context), never leaving this process in clear.
   * Null when it already is under the current key.
   */
  async reseal(sealed: Buffer, purpose: 'rootkeys' | 'key', context: string): Promise<Buffer | null> {
    this.#open();
    await this.#refresh();
    if (sealedBlobKeyId(sealed) === this.#sealing.keyId) return null;
    const p = purpose === 'rootkeys' ? SealPurpose.rootKeys : SealPurpose.key;
    const plaintext = await this.#openBlob(p, context, sealed);
    try {
      return sealBlob(this.#sealing, p, context, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  async sealRootKeys(keys: RootKeys, devEUI: string): Promise<Buffer> {
    this.#open();
    const plaintext =
      keys.kind === 'legacy'
        ? Buffer.concat([Buffer.from([ROOT_KEYS_LEGACY]), keys.appKey.unsafeBytes()])
        : keys.kind === '1.1'
          ? Buffer.concat([Buffer.from([ROOT_KEYS_1_1]), keys.appKey.unsafeBytes(), keys.nwkKey.unsafeBytes()])
          : unknownRootKeyKind(keys);
    try {
      await this.#refresh();
      return sealBlob(this.#sealing, SealPurpose.rootKeys, rootKeysContext(devEUI), plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  async openRootKeys(sealed: Buffer, devEUI: string): Promise<RootKeyHandles> {
    this.#open();
    const context = rootKeysContext(devEUI);
    const cacheKey = `R${context}`;
    const cached = this.#cached(cacheKey, sealed);
    if (cached) return cached as RootKeyHandles;

    const plaintext = await this.#openBlob(SealPurpose.rootKeys, context, sealed);
    try {
      let handles: RootKeyHandles;
      if (plaintext.length === 17 && plaintext[0] === ROOT_KEYS_LEGACY) {
        handles = Object.freeze({ kind: 'legacy', appKey: this.#handle(AES128Key.fromBytes(plaintext.subarray(1, 17))) });
      } else if (plaintext.length === 33 && plaintext[0] === ROOT_KEYS_1_1) {
        handles = Object.freeze({
          kind: '1.1',
          appKey: this.#handle(AES128Key.fromBytes(plaintext.subarray(1, 17))),
          nwkKey: this.#handle(AES128Key.fromBytes(plaintext.subarray(17, 33))),
        });
      } else {
        throw new SealedBlobError(`sealed root keys of ${context} have an unknown layout`);
      }
      this.#remember(cacheKey, sealed, handles);
      return handles;
    } finally {
      plaintext.fill(0);
    }
  }

  async unwrapRootKeys(keys: WrappedRootKeys, transportKEK: KeyHandle, devEUI: string): Promise<Buffer> {
    this.#open();
    const kek = this.#keyOf(transportKEK).unsafeBytes();
    const unwrap = (wrapped: Buffer, name: string): AES128Key => {
      let clear: Buffer;
      try {
        clear = aesKeyUnwrap(kek, wrapped);
      } catch (err) {
        if (err instanceof KeyWrapError) throw new WrappedKeyError(`${name} does not unwrap under the transport KEK (${err.code === 'Integrity' ? 'another KEK, or altered' : 'not a wrapped AES-128 key'})`);
        throw err;
      }
      try {
        if (clear.length !== 16) throw new WrappedKeyError(`${name} unwraps to ${clear.length} bytes, not an AES-128 key`);
        return AES128Key.fromBytes(clear);
      } finally {
        clear.fill(0);
      }
    };
    const appKey = unwrap(keys.appKey, 'AppKey');
    const clear: RootKeys = keys.kind === '1.1' ? { kind: '1.1', appKey, nwkKey: unwrap(keys.nwkKey, 'NwkKey') } : { kind: 'legacy', appKey };
    try {
      return await this.sealRootKeys(clear, devEUI);
    } finally {
      clear.appKey.unsafeBytes().fill(0);
      if (clear.kind === '1.1') clear.nwkKey.unsafeBytes().fill(0);
    }
  }

  async discardRootKeys(_sealed: Buffer, _devEUI: string): Promise<void> {
    // Nothing outside the blob: a software blob that is not stored is gone.
  }

  async sealKey(key: KeyHandle, context: string): Promise<Buffer> {
    this.#open();
    checkContext(context);
    await this.#refresh();
    return sealBlob(this.#sealing, SealPurpose.key, context, this.#keyOf(key).unsafeBytes());
  }

  async openKey(sealed: Buffer, context: string): Promise<KeyHandle> {
    this.#open();
    checkContext(context);
    const cacheKey = `K${context}`;
    const cached = this.#cached(cacheKey, sealed);
    if (cached) return cached as KeyHandle;

    const plaintext = await this.#openBlob(SealPurpose.key, context, sealed);
    try {
      if (plaintext.length !== 16) throw new SealedBlobError(`sealed key of "${context}" is not a 16-byte key`);
      const handle = this.#handle(AES128Key.fromBytes(plaintext));
      this.#remember(cacheKey, sealed, handle);
      return handle;
    } finally {
      plaintext.fill(0);
    }
  }

  async importKey(key: AES128Key): Promise<KeyHandle> {
    this.#open();
    return this.#handle(AES128Key.fromBytes(key.unsafeBytes()));
  }

  async generateKey(): Promise<KeyHandle> {
    this.#open();
    const bytes = randomBytes(16);
    try {
      return this.#handle(AES128Key.fromBytes(bytes));
    } finally {
      bytes.fill(0);
    }
  }

  async cmac(key: KeyHandle, message: Uint8Array): Promise<Buffer> {
    this.#open();
    return aesCmac(this.#keyOf(key), message);
  }

  async deriveKey(key: KeyHandle, block: Uint8Array): Promise<KeyHandle> {
    this.#open();
    if (block.length !== 16) throw new RangeError(`deriveKey: expected a 16-byte block, got ${block.length} bytes`);
    const derived = aesEncryptBlock(this.#keyOf(key), block);
    try {
      return this.#handle(AES128Key.fromBytes(derived));
    } finally {
      derived.fill(0);
    }
  }

  async decryptBlocks(key: KeyHandle, data: Uint8Array): Promise<Buffer> {
    this.#open();
    return aesDecryptECB(this.#keyOf(key), data);
  }

  async wrapKey(key: KeyHandle, kek: KeyHandle): Promise<Buffer> {
    this.#open();
    return aesKeyWrap(this.#keyOf(kek).unsafeBytes(), this.#keyOf(key).unsafeBytes());
  }

  async exportKey(key: KeyHandle): Promise<AES128Key> {
    this.#open();
    // A copy: the caller may do what it likes with its bytes without touching the handle.
    return AES128Key.fromBytes(this.#keyOf(key).unsafeBytes());
  }

  /** Frees the AES state (OpenSSL contexts, CMAC subkeys) of a join's temporary keys now. */
  release(...keys: KeyHandle[]): void {
    for (const key of keys) this.#keyOf(key).releasePrimitives();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cache.clear();
  }

  /** Opened keys currently cached: a device's root keys count once (for metrics and tests). */
  get cachedKeys(): number {
    return this.#cache.size;
  }

  #open(): void {
    if (this.#closed) throw new Error('the software key vault is closed');
  }

  #useRing(ring: MasterKeyRing): void {
    const keys = new Map<number, SealingKey>();
    for (const [id, key] of ring.keys) keys.set(id, { key: createSecretKey(key.unsafeBytes()), keyId: id });
    const current = keys.get(ring.current);
    if (!current) throw new RangeError(`the master key ring has no key with its current id ${ring.current}`);
    this.#keys = keys;
    this.#sealing = current;
  }

  /** Opens a blob with the master key it names; a key id not held sends the vault to re-read its key file once. */
  async #openBlob(purpose: SealPurpose, context: string, sealed: Buffer): Promise<Buffer> {
    const id = sealedBlobKeyId(sealed);
    if (id !== undefined && !this.#keys.has(id) && this.#keyFile) await this.#refresh(true);
    return openBlob((keyId) => this.#keys.get(keyId), purpose, context, sealed);
  }

  /**
   * Re-reads the key file when it changed (or always, with `force`). Looked at once per turn of
   * the event loop at most: work that runs without yielding to I/O (the seals of a bulk import)
   * sees one state of the file, as it would if it had been quicker, and a stat per seal was a
   * fifth of an import's time. The next turn (the next request, the next command) looks again.
   */
  async #refresh(force = false): Promise<void> {
    if (!this.#keyFile) return;
    if (!force && this.#checkedThisTurn) return;
    this.#checkedThisTurn = true;
    setImmediate(() => {
      this.#checkedThisTurn = false;
    }).unref();
    let stamp: string;
    try {
      // statSync: a few microseconds on a local file, where an asynchronous stat costs a round
      // trip through the thread pool for every seal (it made bulk imports wait, not work).
      const st = statSync(this.#keyFile);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return; // gone for a moment (an editor's rename): keep the keys we have
    }
    if (!force && stamp === this.#keyFileStamp) return;
    const ring = await readMasterKeyRing(this.#keyFile);
    if (ring) this.#useRing(ring);
    this.#keyFileStamp = stamp;
  }

  /**
   * The cache is keyed by the blob's purpose and context (its device, its peer), and an entry
   * serves only the exact blob it was opened from (compared byte for byte): looking up the
   * blob's hex as a key cost a join about 18 µs in string building and hashing (profiled). A
   * different blob for the same context (resealed, re-imported, tampered with) is opened again.
   */
  #cached(cacheKey: string, sealed: Buffer): KeyHandle | RootKeyHandles | undefined {
    const entry = this.#cache.get(cacheKey);
    return entry !== undefined && entry.sealed.equals(sealed) ? entry.opened : undefined;
  }

  #remember(cacheKey: string, sealed: Buffer, opened: KeyHandle | RootKeyHandles): void {
    const replaced = this.#cache.get(cacheKey);
    // A copy of its own, outside Node's shared pool of small buffers (a pooled copy would keep
    // a whole 8 KB slab alive for as long as the entry lives): the caller's buffer may change.
    const copy = Buffer.allocUnsafeSlow(sealed.length);
    sealed.copy(copy);
    this.#cache.set(cacheKey, { sealed: copy, opened });
    if (replaced !== undefined) this.#releaseOpened(replaced.opened);
  }

  #releaseOpened(opened: KeyHandle | RootKeyHandles): void {
    // The cache holds a device's root keys (a frozen record) or one opened key (a handle).
    if (!('appKey' in opened)) this.release(opened);
    else if (opened.kind === '1.1') this.release(opened.appKey, opened.nwkKey);
    else this.release(opened.appKey);
  }

  #handle(key: AES128Key): KeyHandle {
    return new SoftwareKeyHandle(key, this) as unknown as KeyHandle;
  }

  #keyOf(handle: KeyHandle): AES128Key {
    return SoftwareKeyHandle.keyOf(handle, this);
  }
}

/** A cache entry: what a blob opened to, and the blob (only that blob is served from it). */
interface OpenedBlob {
  readonly sealed: Buffer;
  readonly opened: KeyHandle | RootKeyHandles;
}

/**
 * What a KeyHandle of the software vault is. Not exported: only the vault creates them, only
 * the vault that created one accepts it, and it prints as a marker, never as the key.
 */
class SoftwareKeyHandle {
  readonly #key: AES128Key;
  readonly #owner: SoftwareKeyVault;

  constructor(key: AES128Key, owner: SoftwareKeyVault) {
    this.#key = key;
    this.#owner = owner;
    Object.freeze(this);
  }

  static keyOf(handle: KeyHandle, owner: SoftwareKeyVault): AES128Key {
    const candidate: unknown = handle;
    if (typeof candidate !== 'object' || candidate === null || !(#key in candidate)) {
      throw new TypeError('not a key handle of the software key vault');
    }
    const own = candidate as SoftwareKeyHandle;
    if (own.#owner !== owner) throw new TypeError('key handle belongs to another key vault instance');
    return own.#key;
  }

  toString(): string {
    return '[KeyHandle software]';
  }
  toJSON(): string {
    return '[KeyHandle software]';
  }
  [inspect.custom](): string {
    return '[KeyHandle software]';
  }
}

function rootKeysContext(devEUI: string): string {
  return `rootkeys:${parseEUI64(devEUI, 'devEUI')}`;
}

function checkContext(context: string): void {
  if (typeof context !== 'string' || context.length === 0) throw new TypeError('a sealing context is required');
}

function unknownRootKeyKind(keys: never): never {
  throw new TypeError(`unknown root key kind ${String((keys as { kind?: unknown }).kind)}`);
}

import type { AES128Key } from '../lorawan/aes128-key';

declare const keyHandleBrand: unique symbol;

/**
 * A key held by a vault. Opaque: the join engine can ask the vault to use it (CMAC, derive,
 * decrypt, wrap) but cannot read it. A software vault keeps an AES128Key behind it; a PKCS#11
 * vault an object handle inside the HSM.
 */
export interface KeyHandle {
  readonly [keyHandleBrand]: true;
}

/**
 * A device's root keys as they are imported. A 1.0.x device has one root key (AppKey in the
 * 1.0 specifications; some network servers call it NwkKey): it is stored once, as `appKey`.
 * A 1.1 device has two.
 */
export type RootKeys = { readonly kind: 'legacy'; readonly appKey: AES128Key } | { readonly kind: '1.1'; readonly appKey: AES128Key; readonly nwkKey: AES128Key };

/**
 * A device's root keys as a manufacturer sends them: each RFC 3394-wrapped (24 bytes) under a
 * transport KEK agreed with Joinery's operator, so they are never in clear outside the vault.
 */
export type WrappedRootKeys = { readonly kind: 'legacy'; readonly wrapped: true; readonly appKey: Buffer } | { readonly kind: '1.1'; readonly wrapped: true; readonly appKey: Buffer; readonly nwkKey: Buffer };

/** Root keys opened for one operation: handles, never bytes. */
export type RootKeyHandles = { readonly kind: 'legacy'; readonly appKey: KeyHandle } | { readonly kind: '1.1'; readonly appKey: KeyHandle; readonly nwkKey: KeyHandle };

/** Opened root keys a vault keeps by default (`--key-cache-size`): about 4 KB each in the software vault. */
export const DEFAULT_KEY_CACHE_SIZE = 10_000;

/**
 * The only component that touches root keys. Everything the join engine does with a root key
 * (MIC check, derivations, join-accept encryption) goes through these primitives, so that a
 * vault can keep the key material where it lives (encrypted at rest, or inside an HSM).
 *
 * Sealed blobs (`Buffer`) are what the store keeps: opaque, vault-specific, useless without
 * the vault (software vault: AES-256-GCM under the master key).
 */
export interface KeyVault {
  /** `software` or `pkcs11`: recorded in sealed blobs so a store is never opened with the wrong vault. */
  readonly kind: string;
  /** Opened keys the vault keeps in memory now (a device's root keys count once): the `--key-cache-size` cache. */
  readonly cachedKeys: number;

  /** Seals a device's root keys for storage (device import). */
  sealRootKeys(keys: RootKeys, devEUI: string): Promise<Buffer>;
  /** Opens sealed root keys; `devEUI` must be the one they were sealed for. */
  openRootKeys(sealed: Buffer, devEUI: string): Promise<RootKeyHandles>;
  /**
   * Seals root keys that arrive wrapped under a transport KEK (a handle from importKey). The
   * PKCS#11 vault unwraps them inside the HSM (`C_UnwrapKey`), so they are never in clear in
   * this process; the software vault unwraps them only to seal them. A key that does not unwrap
   * (another KEK, altered) throws WrappedKeyError.
   */
  unwrapRootKeys(keys: WrappedRootKeys, transportKEK: KeyHandle, devEUI: string): Promise<Buffer>;
  /**
   * Forgets sealed root keys that will not be stored after all (an import refused after
   * sealing): the PKCS#11 vault destroys their token objects; a no-op for the software vault.
   */
  discardRootKeys(sealed: Buffer, devEUI: string): Promise<void>;

  /** Seals a single key (a KEK, an AppSKey kept for AppSKeyReq); `context` binds it to its owner. */
  sealKey(key: KeyHandle, context: string): Promise<Buffer>;
  openKey(sealed: Buffer, context: string): Promise<KeyHandle>;
  /** Brings a clear key (a KEK generated or given by an operator) under the vault's control. */
  importKey(key: AES128Key): Promise<KeyHandle>;
  /** A fresh random AES-128 key, generated inside the vault. */
  generateKey(): Promise<KeyHandle>;

  /** AES-CMAC (RFC 4493), the full 16-byte tag. */
  cmac(key: KeyHandle, message: Uint8Array): Promise<Buffer>;
  /** A new key = AES-128-encrypt(key, block): every LoRaWAN key derivation is one of these. */
  deriveKey(key: KeyHandle, block: Uint8Array): Promise<KeyHandle>;
  /** AES-128-ECB decryption of whole blocks: the join-accept "encryption". */
  decryptBlocks(key: KeyHandle, data: Uint8Array): Promise<Buffer>;
  /** RFC 3394 key wrap of `key` under `kek`. */
  wrapKey(key: KeyHandle, kek: KeyHandle): Promise<Buffer>;
  /** The key in clear: only for a peer configured to receive clear keys (or a dialect that needs it). */
  exportKey(key: KeyHandle): Promise<AES128Key>;

  /** Frees temporary key objects (an HSM's session objects); a no-op for the software vault. */
  release(...keys: KeyHandle[]): void;
  close(): Promise<void>;
}

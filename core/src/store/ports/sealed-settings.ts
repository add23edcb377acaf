import type { EUI64 } from '../../lorawan/identifiers';
import type { SealedCanary } from '../sealed-canary';
import type { StoreSettingName } from '../store-setting';

/** Whose sealed blob it is (what the vault's sealing context is built from). */
export type SealedBlobOwner = { readonly kind: 'device'; readonly devEUI: EUI64 } | { readonly kind: 'peer'; readonly name: string } | { readonly kind: 'session'; readonly devEUI: EUI64; readonly sessionKeyID: string };

/** Gives a sealed blob's replacement, or null to leave it as it is. */
export type Resealer = (sealed: Buffer, owner: SealedBlobOwner) => Promise<Buffer | null>;

/** The store-wide settings and the sealed blobs as a whole (the master key: its check, its canary, its rotation). */
export interface SealedSettings {
  /** A store-wide setting, or null when it was never written. */
  getSetting(name: StoreSettingName): Promise<string | null>;
  /** Writes a store-wide setting (its value replaced), committed when the promise resolves. */
  putSetting(name: StoreSettingName, value: string): Promise<void>;
  /** Writes a store-wide setting unless it has a value already; returns the value it has now (of whichever writer came first). */
  putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string>;
  /**
   * One sealed blob for a vault of kind `vaultKind` to open (the root keys of a device that
   * vault sealed, else a peer's KEK), or null when the store holds none.
   */
  sealedCanary(vaultKind: string): Promise<SealedCanary | null>;
  /**
   * Master-key rotation: hands every sealed blob (devices' root keys, peers' KEKs, sessions'
   * AppSKeys) to `reseal`, a batch at a time, and stores what it returns in place of the blob,
   * only if the blob is still the one handed over (a session pruned meanwhile is skipped).
   * Returns how many blobs were replaced.
   */
  resealAll(reseal: Resealer): Promise<number>;
}

import * as path from 'node:path';
import { loadMasterKey, loadOrCreateMasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE, MasterKeyError, type LoadedMasterKey, type MasterKey } from '../keys/master-key';
import { masterKeyCheckValue, ringHoldsCheckedKey } from '../keys/master-key-check';
import { SEALED_BLOB_VERSION } from '../keys/sealed-blob';
import { SoftwareKeyVault } from '../keys/software-vault';
import type { SealedSettings } from '../store/ports/sealed-settings';
import type { StoreSettingName } from '../store/store-setting';
import { openSealedCanary } from './vault-canary';

const CHECK: StoreSettingName = 'master-key-check';

/**
 * The software vault's master key for `store`, refused unless it is the one the store's data is
 * sealed under:
 *
 * - the store keeps the check value of the sealing key; a key ring without that key is refused;
 * - a store from before check values: when it holds sealed data, one blob (a device's root keys,
 *   else a peer's KEK) must open under the ring before its check value is recorded;
 * - no key at all: a new one is made only for a store that holds nothing sealed and no check
 *   value; otherwise the missing file is named and nothing is created.
 *
 * Every refusal is a MasterKeyError of one line naming the key's file (or JOINERY_MASTER_KEY).
 */
export async function openMasterKey(opts: { readonly dataDir: string; readonly env?: NodeJS.ProcessEnv; readonly store: SealedSettings }): Promise<LoadedMasterKey> {
  const file = path.join(opts.dataDir, MASTER_KEY_FILE);
  const stored = await opts.store.getSetting(CHECK);
  let loaded = await loadMasterKey(opts);
  if (loaded === null) {
    if (stored !== null || (await softwareCanary(opts.store)) !== null) {
      throw new MasterKeyError(`${file}: no master key file, but the store holds keys sealed under one; put the master key file back (or set ${MASTER_KEY_ENV}): a new key would not open them`);
    }
    loaded = await loadOrCreateMasterKey(opts);
  }
  const source = loaded.file ?? MASTER_KEY_ENV;
  const refused = (): MasterKeyError => new MasterKeyError(`${source}: this master key is not the one the store's keys are sealed under; use the right master key file (or ${MASTER_KEY_ENV})`);
  if (stored !== null) {
    if (!ringHoldsCheckedKey(loaded.ring, stored)) throw refused();
    return loaded;
  }
  const canary = await softwareCanary(opts.store);
  if (canary !== null) {
    const vault = new SoftwareKeyVault(loaded.ring, { cacheSize: 0 });
    try {
      await openSealedCanary(vault, canary);
    } catch {
      throw refused();
    } finally {
      await vault.close();
    }
  }
  // Whoever records first wins: two processes that each made a key for an empty store do not
  // both go on sealing under their own.
  if (!ringHoldsCheckedKey(loaded.ring, await opts.store.putSettingIfAbsent(CHECK, masterKeyCheckValue(loaded.key)))) throw refused();
  return loaded;
}

/** Records the check value of the ring's sealing key (a rotation's new key). */
export async function recordMasterKeyCheck(store: SealedSettings, key: MasterKey): Promise<void> {
  await store.putSetting(CHECK, masterKeyCheckValue(key));
}

/** A blob the software vault sealed, if the store holds one. */
async function softwareCanary(store: SealedSettings): ReturnType<SealedSettings['sealedCanary']> {
  const canary = await store.sealedCanary('software');
  return canary !== null && canary.sealed[0] === SEALED_BLOB_VERSION ? canary : null;
}

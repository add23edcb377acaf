import { kekContext } from '../join/vault-contexts';
import type { KeyVault } from '../keys/key-vault';
import type { SealedCanary } from '../store/sealed-canary';

/**
 * Opens one sealed blob of the store with `vault` and lets go of it at once: resolves when the
 * vault holds the key the store's data is sealed under, rejects (the vault's own error, which
 * never carries key material) when it does not.
 */
export async function openSealedCanary(vault: KeyVault, canary: SealedCanary): Promise<void> {
  if (canary.kind === 'device') {
    const keys = await vault.openRootKeys(canary.sealed, canary.devEUI);
    if (keys.kind === '1.1') vault.release(keys.appKey, keys.nwkKey);
    else vault.release(keys.appKey);
    return;
  }
  vault.release(await vault.openKey(canary.sealed, kekContext(canary.name)));
}

import type { KeyVault } from '../keys/key-vault';
import { loadOrCreateMasterKey } from '../keys/master-key';
import { openPkcs11Vault } from '../keys/open-pkcs11-vault';
import { SoftwareKeyVault } from '../keys/software-vault';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { Store } from '../store/store';
import type { BackendSettings } from './backend-settings';

/** A store and key vault selected by the backend settings, opened together and closed together. */
export interface Backends {
  readonly settings: BackendSettings;
  readonly store: Store;
  readonly vault: KeyVault;
  /** What first use created (the master key), for the caller to tell the operator. */
  readonly created: readonly string[];
  close(): Promise<void>;
}

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

export async function openBackends(settings: BackendSettings, env: NodeJS.ProcessEnv = process.env): Promise<Backends> {
  const created: string[] = [];
  let vault: KeyVault;
  switch (settings.vault.kind) {
    case 'software': {
      const master = await loadOrCreateMasterKey({ dataDir: settings.dataDir, env });
      if (master.created) created.push(`master key ${settings.dataDir}/master.key (mode 0600): back it up, every root key is sealed under it`);
      vault = new SoftwareKeyVault(master.key);
      break;
    }
    case 'pkcs11':
      vault = await openPkcs11Vault(settings.vault, env);
      break;
  }
  let store: Store;
  switch (settings.store.kind) {
    case 'sqlite':
      store = SqliteStore.open(settings.store.path);
      break;
    case 'postgres':
      await vault.close();
      throw new BackendUnavailableError('the PostgreSQL store is not available in this release; use the embedded SQLite store (--store sqlite:<path>)');
  }
  return {
    settings,
    store,
    vault,
    created,
    async close() {
      await store.close();
      await vault.close();
    },
  };
}

import type { KeyVault } from '../keys/key-vault';
import { openPkcs11Vault } from '../keys/open-pkcs11-vault';
import { SoftwareKeyVault } from '../keys/software-vault';
import { PostgresStore } from '../store/postgres/postgres-store';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { Store } from '../store/store';
import type { BackendSettings } from './backend-settings';
import { giveToDataDirOwner } from './data-dir-owner';
import { requireExistingData } from './existing-data';
import { openMasterKey } from './open-master-key';

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

export interface OpenBackendsOptions {
  /**
   * Opened keys the vault keeps in memory (root keys of devices, peers' KEKs), least recently
   * used out; 0 keeps none. Default: the vault's own (10,000). A server that joins more devices
   * than it keeps opens every join's root keys again (AES-GCM in the software vault, a lookup
   * on the HSM).
   */
  readonly keyCacheSize?: number;
  /** A read-only command's: the data must exist already (nothing is created; see requireExistingData). */
  readonly existing?: boolean;
}

export async function openBackends(settings: BackendSettings, env: NodeJS.ProcessEnv = process.env, options: OpenBackendsOptions = {}): Promise<Backends> {
  const cache = options.keyCacheSize !== undefined ? { cacheSize: options.keyCacheSize } : {};
  // The PKCS#11 vault is opened first: a wrong module, token or PIN creates nothing.
  const hsm = settings.vault.kind === 'pkcs11' ? await openPkcs11Vault(settings.vault, env, cache) : null;
  // A PostgreSQL store is opened (connected, migrated) first: a wrong URL or an unreachable
  // server creates nothing in the data directory.
  let postgres: PostgresStore | null;
  try {
    postgres = settings.store.kind === 'postgres' ? await PostgresStore.open(settings.store.url) : null;
  } catch (err) {
    await hsm?.close();
    throw err;
  }
  let store: Store;
  try {
    // After the store and vault that name their own problem (an unreachable server, a missing
    // module), before anything is created in the data directory.
    if (options.existing) await requireExistingData(settings, env);
    store = settings.store.kind === 'sqlite' ? SqliteStore.open(settings.store.path) : postgres!;
  } catch (err) {
    await postgres?.close();
    await hsm?.close();
    throw err;
  }
  const created: string[] = [];
  let vault: KeyVault;
  try {
    if (hsm) {
      vault = hsm;
    } else {
      // Checked against the store: a missing or wrong key is refused, never replaced.
      const master = await openMasterKey({ dataDir: settings.dataDir, env, store });
      if (master.created) created.push(`master key ${settings.dataDir}/master.key (mode 0600): back it up, every root key is sealed under it`);
      // Every key of the key file, and the file itself: the vault follows a rotation live.
      vault = new SoftwareKeyVault(master.ring, { ...cache, ...(master.file !== undefined ? { keyFile: master.file } : {}) });
    }
    // Run as root on a service's data directory: what was just created stays the service's.
    await giveToDataDirOwner(settings.dataDir);
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    settings,
    store,
    vault,
    created,
    async close() {
      await store.close();
      await vault.close();
      await giveToDataDirOwner(settings.dataDir);
    },
  };
}

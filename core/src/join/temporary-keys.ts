import type { KeyHandle, KeyVault, RootKeyHandles } from '../keys/key-vault';
import type { KeyDerivation, RootKeyName } from './session-key-plan';

/**
 * The keys one join derives or opens (session keys, JS keys, KEKs): released together when the
 * join is answered (an HSM frees their session objects; the software vault has nothing to free).
 */
export class TemporaryKeys {
  private readonly handles: KeyHandle[] = [];

  constructor(
    private readonly vault: KeyVault,
    private readonly root: RootKeyHandles,
  ) {}

  /** `legacy`: a 1.0.x device's one root key; `1.1`: AppKey and NwkKey. */
  get rootKind(): 'legacy' | '1.1' {
    return this.root.kind;
  }

  /** A root key by name; a 1.0.x device has only `appKey`. */
  rootKey(name: RootKeyName): KeyHandle {
    if (this.root.kind === '1.1') return this.root[name];
    if (name === 'nwkKey') throw new Error('a LoRaWAN 1.0.x device has no NwkKey');
    return this.root.appKey;
  }

  async derive(derivation: KeyDerivation): Promise<KeyHandle> {
    return this.keep(await this.vault.deriveKey(this.rootKey(derivation.from), derivation.block));
  }

  keep(handle: KeyHandle): KeyHandle {
    this.handles.push(handle);
    return handle;
  }

  release(): void {
    this.vault.release(...this.handles);
  }
}

import { appSKeyContext, kekContext } from '../join/vault-contexts';
import { MASTER_KEY_ENV, MasterKey, MasterKeyError, readMasterKeyRing, writeMasterKeyRing, type MasterKeyRing } from '../keys/master-key';
import { SEALED_BLOB_VERSION } from '../keys/sealed-blob';
import { SoftwareKeyVault } from '../keys/software-vault';
import type { SealedBlobOwner, SealedSettings } from '../store/ports/sealed-settings';
import { recordMasterKeyCheck } from './open-master-key';

export interface MasterKeyRotation {
  /** The key id that sealed before. */
  readonly previous: number;
  /** The new key's id: it seals from now on. */
  readonly current: number;
  /** Blobs re-sealed under the new key (devices' root keys, peers' KEKs, sessions' AppSKeys). */
  readonly resealed: number;
  /** Older key ids removed from the key file (with `retireOld`). */
  readonly retired: readonly number[];
  /** Older key ids still in the key file. */
  readonly kept: readonly number[];
}

/**
 * `joinery keys rotate-master`: a new master key, and every sealed blob re-sealed under it,
 * with no downtime and no key in clear on disk (each blob is opened and sealed again in this
 * process's memory).
 *
 * 1. The new key is added to the key file (atomically) as the current one, and its check value
 *    recorded in the store. From then on every
 *    software vault with that file (servers and CLIs on this data directory) seals with it (a
 *    vault looks at the file before each seal) and opens with any key it holds (re-reading the
 *    file when a blob names a key it lacks).
 * 2. Every blob still under an older key is re-sealed under the new one, each replaced only if
 *    unchanged meanwhile.
 * 3. With `retireOld`, a second pass re-seals what instances sealed with an older key while the
 *    first ran, and once a pass finds nothing left, the older keys leave the file.
 */
export async function rotateMasterKey(deps: { readonly store: SealedSettings; readonly keyFile: string; readonly env?: NodeJS.ProcessEnv }, options: { readonly retireOld?: boolean } = {}): Promise<MasterKeyRotation> {
  const env = deps.env ?? process.env;
  if (env[MASTER_KEY_ENV] !== undefined) {
    throw new MasterKeyError(`the master key comes from ${MASTER_KEY_ENV}: rotation works on the key file (${deps.keyFile}); unset ${MASTER_KEY_ENV} to use the file`);
  }
  const old = await readMasterKeyRing(deps.keyFile);
  if (!old) throw new MasterKeyError(`${deps.keyFile}: no master key file to rotate (it is created on first use)`);
  const id = nextKeyId(old);
  const keys = new Map(old.keys);
  const key = MasterKey.generate();
  keys.set(id, key);
  const ring: MasterKeyRing = { current: id, keys };
  await writeMasterKeyRing(deps.keyFile, ring);
  // The store's check value follows at once: from here on, a ring without the new key is
  // refused (it could not open what is sealed from now on). Until then the old check value
  // still names a key of the new ring.
  await recordMasterKeyCheck(deps.store, key);

  const vault = new SoftwareKeyVault(ring, { keyFile: deps.keyFile, cacheSize: 0 });
  try {
    const pass = (): Promise<number> => deps.store.resealAll((sealed, owner) => reseal(vault, sealed, owner));
    let resealed = await pass();
    const retired: number[] = [];
    if (options.retireOld) {
      for (;;) {
        const stragglers = await pass();
        resealed += stragglers;
        if (stragglers === 0) break;
      }
      for (const k of old.keys.keys()) retired.push(k);
      await writeMasterKeyRing(deps.keyFile, { current: id, keys: new Map([[id, keys.get(id)!]]) });
    }
    const kept = [...old.keys.keys()].filter((k) => !retired.includes(k)).sort((a, b) => a - b);
    return { previous: old.current, current: id, resealed, retired: retired.sort((a, b) => a - b), kept };
  } finally {
    await vault.close();
  }
}

function reseal(vault: SoftwareKeyVault, sealed: Buffer, owner: SealedBlobOwner): Promise<Buffer | null> {
  // Not a software vault blob (a PKCS#11 vault's reference, in a store used with both): not ours to touch.
  if (sealed[0] !== SEALED_BLOB_VERSION) return Promise.resolve(null);
  switch (owner.kind) {
    case 'device':
      return vault.reseal(sealed, 'rootkeys', `rootkeys:${owner.devEUI}`);
    case 'peer':
      return vault.reseal(sealed, 'key', kekContext(owner.name));
    case 'session':
      return vault.reseal(sealed, 'key', appSKeyContext(owner.devEUI, owner.sessionKeyID));
  }
}

/** The first id after the current one (wrapping at 255) that the ring does not hold. */
function nextKeyId(ring: MasterKeyRing): number {
  for (let step = 1; step < 256; step++) {
    const id = (ring.current + step) % 256;
    if (!ring.keys.has(id)) return id;
  }
  throw new MasterKeyError('all 256 master key ids are in use: retire older keys first (joinery keys rotate-master --retire-old)');
}

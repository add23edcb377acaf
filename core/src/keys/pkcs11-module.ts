import { existsSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { ckrOf, pkcs11Failure, Pkcs11VaultError } from './pkcs11-error';

/**
 * A PKCS#11 module (the vendor's shared library) loaded and initialised once per process and
 * library path, shared by every vault that uses it, finalised when the last one is done.
 *
 * Initialised with `CKF_OS_LOCKING_OK`: the vault runs operations on several sessions from
 * libuv's thread pool at once, and a module initialised without locking (SoftHSM2 included)
 * crashes under concurrent use.
 */
export interface Pkcs11Library {
  readonly path: string;
  readonly module: pkcs11js.PKCS11;
  /** Done with the module: the last user finalises and unloads it. */
  release(): void;
}

interface Loaded {
  readonly module: pkcs11js.PKCS11;
  refs: number;
  /** False when the module was already initialised in this process by someone else: then we never finalise it. */
  readonly ownsInitialization: boolean;
}

const loaded = new Map<string, Loaded>();

export function loadPkcs11Library(libraryPath: string): Pkcs11Library {
  let entry = loaded.get(libraryPath);
  if (!entry) {
    if (!existsSync(libraryPath)) {
      throw new Pkcs11VaultError(`PKCS#11 module ${libraryPath} does not exist (set --pkcs11-lib to the HSM vendor's library, e.g. /usr/lib/softhsm/libsofthsm2.so)`);
    }
    const module = new pkcs11js.PKCS11();
    try {
      module.load(libraryPath);
    } catch (err) {
      throw new Pkcs11VaultError(`cannot load PKCS#11 module ${libraryPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    let ownsInitialization = true;
    try {
      module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (err) {
      if (ckrOf(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        closeQuietly(module);
        throw pkcs11Failure(`C_Initialize of ${libraryPath}`, err);
      }
      ownsInitialization = false;
    }
    entry = { module, refs: 0, ownsInitialization };
    loaded.set(libraryPath, entry);
  }
  entry.refs++;
  const own = entry;
  let released = false;
  return {
    path: libraryPath,
    module: own.module,
    release() {
      if (released) return;
      released = true;
      own.refs--;
      if (own.refs > 0) return;
      loaded.delete(libraryPath);
      if (own.ownsInitialization) {
        try {
          own.module.C_Finalize();
        } catch {
          // finalising is best effort: the process is letting go of the module anyway
        }
      }
      closeQuietly(own.module);
    },
  };
}

/**
 * The slot holding the token labelled `label`. Looked up by label every time, never by slot id:
 * slot ids are the module's business (SoftHSM2 gives a token a new slot id when it is
 * initialised). Two tokens with the same label are refused rather than guessed between.
 */
export function findTokenSlot(module: pkcs11js.PKCS11, label: string): Buffer {
  let slots: Buffer[];
  try {
    slots = module.C_GetSlotList(true);
  } catch (err) {
    throw pkcs11Failure('C_GetSlotList', err);
  }
  const matches: Buffer[] = [];
  const seen: string[] = [];
  for (const slot of slots) {
    let info: pkcs11js.TokenInfo;
    try {
      info = module.C_GetTokenInfo(slot);
    } catch {
      continue; // a slot whose token went away between the two calls
    }
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) continue;
    const tokenLabel = info.label.replace(/[\s\0]+$/, '');
    seen.push(tokenLabel);
    if (tokenLabel === label) {
      if ((info.flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0) {
        throw new Pkcs11VaultError(`PKCS#11 token "${label}": the user PIN is locked (too many wrong attempts); the security officer must reset it`, 'CKR_PIN_LOCKED');
      }
      matches.push(slot);
    }
  }
  if (matches.length === 0) {
    const known = seen.length > 0 ? `tokens present: ${seen.map((l) => `"${l}"`).join(', ')}` : 'no initialised token is present';
    throw new Pkcs11VaultError(`PKCS#11 token "${label}" not found (${known}); check --pkcs11-token`);
  }
  if (matches.length > 1) {
    throw new Pkcs11VaultError(`${matches.length} PKCS#11 tokens are labelled "${label}": give each token a unique label`);
  }
  return matches[0]!;
}

function closeQuietly(module: pkcs11js.PKCS11): void {
  try {
    module.close();
  } catch {
    // already closed or never loaded
  }
}

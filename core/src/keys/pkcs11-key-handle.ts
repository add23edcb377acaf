import { inspect } from 'node:util';
import type { KeyHandle } from './key-vault';
import type { Pkcs11Session } from './pkcs11-session-pool';
import type { KeyClass } from './pkcs11-templates';

/** What the vault knows about one of its key handles. */
export interface Pkcs11KeyState {
  /** The PKCS#11 object handle. */
  readonly object: Buffer;
  readonly keyClass: KeyClass;
  /** The session that created this session object (it dies with it); null for a token object. */
  readonly session: Pkcs11Session | null;
}

/**
 * A KeyHandle of the PKCS#11 vault: an object handle inside the HSM, never a value. Only the
 * vault that made it accepts it; it prints as a marker; once released (its session object
 * destroyed) it is refused.
 */
export class Pkcs11KeyHandle {
  readonly #state: Pkcs11KeyState;
  readonly #owner: object;
  #released = false;

  private constructor(state: Pkcs11KeyState, owner: object) {
    this.#state = state;
    this.#owner = owner;
  }

  static create(state: Pkcs11KeyState, owner: object): KeyHandle {
    return new Pkcs11KeyHandle(state, owner) as unknown as KeyHandle;
  }

  /** The state behind a handle of `owner`, or a TypeError for anything else. */
  static stateOf(handle: KeyHandle, owner: object): Pkcs11KeyState {
    const own = Pkcs11KeyHandle.#own(handle, owner);
    if (own.#released) throw new TypeError('key handle was released: its HSM object no longer exists');
    return own.#state;
  }

  /**
   * Marks a handle released and gives its state, or null when there is nothing to destroy:
   * already released, or a token object (root keys stay in the token).
   */
  static take(handle: KeyHandle, owner: object): Pkcs11KeyState | null {
    const own = Pkcs11KeyHandle.#own(handle, owner);
    if (own.#released || own.#state.session === null) return null;
    own.#released = true;
    return own.#state;
  }

  static #own(handle: KeyHandle, owner: object): Pkcs11KeyHandle {
    const candidate: unknown = handle;
    if (typeof candidate !== 'object' || candidate === null || !(#state in candidate)) {
      throw new TypeError('not a key handle of the PKCS#11 key vault');
    }
    const own = candidate as Pkcs11KeyHandle;
    if (own.#owner !== owner) throw new TypeError('key handle belongs to another key vault instance');
    return own;
  }

  toString(): string {
    return `[KeyHandle pkcs11 ${this.#state.keyClass}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

import * as pkcs11js from 'pkcs11js';

/**
 * What each kind of key object may do inside the HSM. Every key is an AES-128 secret key object,
 * private (readable only after login) and sensitive (`CKA_VALUE` can never be read).
 *
 * - `root`: a device's AppKey / NwkKey. A token object (persists), never extractable (no wrap,
 *   no export, ever: PKCS#11 lets neither CKA_SENSITIVE go back to false nor CKA_EXTRACTABLE
 *   to true, on the object or on any copy of it). It stays CKA_MODIFIABLE: SoftHSM2 refuses
 *   C_CopyObject with a template on an unmodifiable object, and the vault works on a session
 *   copy of each root key (see Pkcs11KeyVault). Allowed: CMAC (`CKA_SIGN`, the join-request and 1.0 join-accept MICs), ECB
 *   decryption (`CKA_DECRYPT`, the join-accept "encryption") and derivation (`CKA_DERIVE`,
 *   every session key and JSIntKey / JSEncKey).
 * - `session`: a key derived from a root key (NwkSKey, AppSKey, the 1.1 network keys,
 *   JSIntKey, JSEncKey). A session object (gone when released, or with the session), extractable
 *   only by wrapping: it leaves under a peer's KEK. CMAC and decryption for JSIntKey / JSEncKey.
 * - `kek`: a key-encryption key (a peer's KEK, a transport KEK), generated in the HSM or
 *   imported. A session object allowed to wrap and unwrap; extractable by wrapping (the
 *   credential bundle carries the peer's copy, and the vault seals it for the store).
 * - `internal`: the vault's own sealing keys (wrapping and MAC of sealed single keys). Token
 *   objects, never extractable.
 */
export type KeyClass = 'root' | 'session' | 'kek';

type Template = pkcs11js.Template;

function aesSecretKey(token: boolean): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: token },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
  ];
}

const USES: Record<KeyClass, Template> = {
  root: [
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_DERIVE, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
  ],
  session: [
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_DERIVE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
  ],
  kek: [
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ],
};

/** A device's root key as a token object, with its value (import) or without (unwrap). */
export function rootKeyTemplate(id: Buffer, label: string, value?: Buffer): Template {
  return [...aesSecretKey(true), ...USES.root, { type: pkcs11js.CKA_ID, value: id }, { type: pkcs11js.CKA_LABEL, value: label }, ...(value ? [{ type: pkcs11js.CKA_VALUE, value }] : [])];
}

/** What a root key object found by id must be: the vault never uses an object that is not. */
export function rootKeySearch(id: Buffer): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  ];
}

/** A session object of class `session` or `kek`: derived, unwrapped, generated or imported. */
export function sessionKeyTemplate(keyClass: Exclude<KeyClass, 'root'>, options: { value?: Buffer; withLength?: boolean } = {}): Template {
  return [...aesSecretKey(false), ...USES[keyClass], ...(options.withLength ? [{ type: pkcs11js.CKA_VALUE_LEN, value: 16 }] : []), ...(options.value ? [{ type: pkcs11js.CKA_VALUE, value: options.value }] : [])];
}

/** The vault's own sealing keys: token objects that wrap (`wrap`) or MAC (`mac`), never extractable. */
export function internalKeyTemplate(role: 'wrap' | 'mac', id: Buffer, label: string): Template {
  return [
    ...aesSecretKey(true),
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_VALUE_LEN, value: 16 },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_WRAP, value: role === 'wrap' },
    { type: pkcs11js.CKA_UNWRAP, value: role === 'wrap' },
    { type: pkcs11js.CKA_SIGN, value: role === 'mac' },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
}

/** Search for the vault's sealing keys: every one (no id) or the pair with `id`. */
export function internalKeySearch(label: string, id?: Buffer): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ...(id ? [{ type: pkcs11js.CKA_ID, value: id }] : []),
  ];
}

/** A short-lived wrapping key that exportKey wraps a key under and then throws away. */
export function ephemeralWrapTemplate(value: Buffer): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}

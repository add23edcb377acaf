/**
 * The PKCS#11 key vault cannot do what was asked: the module does not load, the token is not
 * there, the login fails, or the HSM refused an operation. The message names the operation and
 * the HSM's return value (`CKR_...`, also in `ckr`); it never contains a PIN or key material.
 */
export class Pkcs11VaultError extends Error {
  override readonly name = 'Pkcs11VaultError';
  /** The PKCS#11 return value's name (`CKR_KEY_UNEXTRACTABLE`...) when the HSM refused. */
  readonly ckr: string | undefined;

  constructor(message: string, ckr?: string) {
    super(message);
    this.ckr = ckr;
  }
}

/**
 * The `CKR_...` name of an error thrown by pkcs11js, or undefined for anything else. pkcs11js
 * puts the return value's name at the start of the message (`CKR_PIN_INCORRECT`, or
 * `CKR_PIN_INCORRECT:160` before its own parsing).
 */
export function ckrOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const m = /^(CKR_[A-Z0-9_]+)/.exec(err.message);
  return m ? m[1] : undefined;
}

/**
 * Turns whatever a PKCS#11 call threw into a Pkcs11VaultError naming the operation. Only the
 * return value's name is kept: pkcs11js messages carry nothing else of use, and nothing the
 * caller passed (data, templates, PINs) is ever copied into the message.
 */
export function pkcs11Failure(operation: string, err: unknown): Pkcs11VaultError {
  if (err instanceof Pkcs11VaultError) return err;
  const ckr = ckrOf(err);
  if (ckr) return new Pkcs11VaultError(`PKCS#11 ${operation} failed: ${ckr}${explain(ckr)}`, ckr);
  const what = err instanceof Error ? `${err.name}` : typeof err;
  return new Pkcs11VaultError(`PKCS#11 ${operation} failed (${what})`);
}

function explain(ckr: string): string {
  switch (ckr) {
    case 'CKR_KEY_UNEXTRACTABLE':
      return ' (the key is not extractable: root keys never leave the HSM)';
    case 'CKR_ATTRIBUTE_SENSITIVE':
      return ' (the key is sensitive: its value cannot be read)';
    case 'CKR_PIN_INCORRECT':
      return ' (wrong PIN)';
    case 'CKR_PIN_LOCKED':
      return ' (the PIN is locked: too many wrong attempts; the security officer must reset it)';
    case 'CKR_OBJECT_HANDLE_INVALID':
    case 'CKR_KEY_HANDLE_INVALID':
      return ' (the key object no longer exists in the token)';
    case 'CKR_MECHANISM_INVALID':
      return ' (the HSM does not support a mechanism Joinery needs)';
    case 'CKR_KEY_FUNCTION_NOT_PERMITTED':
      return ' (the key object does not allow this use)';
    default:
      return '';
  }
}

/**
 * A sealed blob does not open: it was sealed for another device or purpose (its context does
 * not match), under another master key, it was altered, or it is not a blob of this vault.
 * The message says which check failed; it never contains key material.
 */
export class SealedBlobError extends Error {
  override readonly name = 'SealedBlobError';
}

/**
 * A wrapped key does not unwrap under the KEK it was given: it was wrapped under another KEK,
 * altered, or is not an RFC 3394-wrapped AES-128 key. The message never contains key material.
 */
export class WrappedKeyError extends Error {
  override readonly name = 'WrappedKeyError';
}

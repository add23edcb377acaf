import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * Secret bytes that cannot be printed: `toString`, `toJSON` and `util.inspect` (so
 * `console.log`, pino, JSON.stringify, template literals and error messages) all give a
 * redaction marker. The bytes are reachable only through `unsafeBytes()`, whose name makes each
 * use visible in review: for crypto primitives and wrapping, never for output.
 */
export abstract class RedactedSecret {
  readonly #bytes: Buffer;

  protected constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** What the marker calls the secret: `[<kind> redacted]`. */
  protected abstract readonly kind: string;

  unsafeBytes(): Buffer {
    return this.#bytes;
  }

  /** Constant-time comparison with a secret of the same kind. */
  protected sameBytes(other: RedactedSecret): boolean {
    return this.#bytes.length === other.#bytes.length && timingSafeEqual(this.#bytes, other.#bytes);
  }

  toString(): string {
    return `[${this.kind} redacted]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

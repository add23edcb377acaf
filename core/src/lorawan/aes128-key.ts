import { inspect } from 'node:util';
import { parseHex } from './hex';
import { ParseError } from './parse-error';

const REDACTED = '[AES128Key redacted]';

/**
 * A 128-bit AES key in memory. It cannot be printed: `toString`, `toJSON` and `util.inspect`
 * (so `console.log`, pino, JSON.stringify and error messages) all give a redaction marker.
 * The bytes are reachable only through `unsafeBytes()`, whose name makes each use visible in
 * review; it is for crypto primitives and for wrapping, never for output.
 */
export class AES128Key {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  static fromBytes(bytes: Uint8Array, field = 'key'): AES128Key {
    if (bytes.length !== 16) throw new ParseError(field, `expected 16 bytes, got ${bytes.length}`);
    return new AES128Key(Buffer.from(bytes));
  }

  /** Parses 32 hex digits (tolerant: case, `0x`); the error message never echoes the input. */
  static fromHex(value: unknown, field = 'key'): AES128Key {
    return new AES128Key(parseHex(value, field, 16));
  }

  unsafeBytes(): Buffer {
    return this.#bytes;
  }

  equals(other: AES128Key): boolean {
    return this.#bytes.equals(other.#bytes);
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

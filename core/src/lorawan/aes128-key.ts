import { parseHex } from './hex';
import { ParseError } from './parse-error';
import { RedactedSecret } from './redacted-secret';

/**
 * A 128-bit AES key in memory. It cannot be printed (see RedactedSecret): every way of printing
 * it gives `[AES128Key redacted]`; the bytes are reachable only through `unsafeBytes()`.
 */
export class AES128Key extends RedactedSecret {
  protected readonly kind = 'AES128Key';

  private constructor(bytes: Buffer) {
    super(bytes);
  }

  static fromBytes(bytes: Uint8Array, field = 'key'): AES128Key {
    if (bytes.length !== 16) throw new ParseError(field, `expected 16 bytes, got ${bytes.length}`);
    return new AES128Key(Buffer.from(bytes));
  }

  /** Parses 32 hex digits (tolerant: case, `0x`); the error message never echoes the input. */
  static fromHex(value: unknown, field = 'key'): AES128Key {
    return new AES128Key(parseHex(value, field, 16));
  }

  equals(other: AES128Key): boolean {
    return this.sameBytes(other);
  }
}

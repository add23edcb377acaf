import { parseHex } from './hex';
import { ParseError } from './parse-error';
import { RedactedSecret } from './redacted-secret';

/**
 * A 128-bit AES key in memory. It cannot be printed (see RedactedSecret): every way of printing
 * it gives `[AES128Key redacted]`; the bytes are reachable only through `unsafeBytes()`.
 */
export class AES128Key extends RedactedSecret {
  protected readonly kind = 'AES128Key';
  /** See primitiveState. */
  #primitives: Record<symbol, unknown> | undefined;

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

  /**
   * What an AES primitive keeps for this key (lorawan/aes.ts its OpenSSL contexts, cmac.ts its
   * CMAC subkeys), each under a symbol of its own: made by `make` on first use, held by the key
   * and collected with it. Not a WeakMap keyed by the key: with keys coming and going by the
   * thousand (every join of a million-device registry opens its device's keys) the garbage
   * collector's work on those maps cost a join about 15% of its main-thread CPU (measured in
   * process, 1,000,000 devices). A private field: nothing outside the key can reach it.
   */
  primitiveState<T>(slot: symbol, make: () => T): T {
    const state = (this.#primitives ??= {});
    if (!(slot in state)) state[slot] = make();
    return state[slot] as T;
  }
}

import { parseHex } from './hex';
import { ParseError } from './parse-error';
import { RedactedSecret } from './redacted-secret';

/**
 * A 128-bit AES key in memory. It cannot be printed (see RedactedSecret): every way of printing
 * it gives `[AES128Key redacted]`; the bytes are reachable only through `unsafeBytes()`.
 */
export class AES128Key extends RedactedSecret {
  protected readonly kind = 'AES128Key';
  /** See primitiveState: slot, state, slot, state... (two slots in practice: a linear scan is the fastest lookup). */
  #primitives: unknown[] | undefined;

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
   * CMAC subkeys), one state per slot: made by `slot.make` on first use, held by the key and
   * collected with it. Not a WeakMap keyed by the key: with keys coming and going by the
   * thousand (every join of a million-device registry opens its device's keys) the garbage
   * collector's work on those maps cost a join about 15% of its main-thread CPU (measured in
   * process, 1,000,000 devices). A private field: nothing outside the key can reach it.
   */
  primitiveState<T>(slot: PrimitiveSlot<T>): T {
    const held = (this.#primitives ??= []);
    for (let i = 0; i < held.length; i += 2) if (held[i] === slot) return held[i + 1] as T;
    const state = slot.make(this);
    held.push(slot, state);
    return state;
  }

  /**
   * Lets go of every primitive's state now, each freed by its slot's `dispose` (OpenSSL
   * contexts ended, subkeys zeroed), instead of whenever the garbage collector next runs a full
   * collection: the memory OpenSSL holds is invisible to V8, so it does not hurry that
   * collection, and a million-device registry opens a new key at every join. The key stays
   * usable: a later use makes its state again (an in-flight join whose key a cache let go of
   * meanwhile pays that, no more).
   */
  releasePrimitives(): void {
    const held = this.#primitives;
    if (held === undefined) return;
    this.#primitives = undefined;
    for (let i = 0; i < held.length; i += 2) (held[i] as PrimitiveSlot<unknown>).dispose(held[i + 1]);
  }
}

/** A kind of state an AES primitive keeps per key (see AES128Key.primitiveState). */
export interface PrimitiveSlot<T> {
  readonly make: (key: AES128Key) => T;
  /** Frees what `make` made, once the key has let go of it (nothing else holds it). */
  readonly dispose: (state: T) => void;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key, in memory: each holds up to `burst` tokens and gets one back every
 * `refillMs`. At most `maxEntries` keys are kept, the least recently used dropped first (a
 * dropped bucket is a full bucket again).
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly maxEntries: number,
  ) {}

  #current(key: string, now: number): Bucket {
    const b = this.#buckets.get(key);
    if (!b) return { tokens: this.burst, at: now };
    const refilled = Math.min(this.burst, b.tokens + (now - b.at) / this.refillMs);
    return { tokens: refilled, at: now };
  }

  /** Milliseconds until one token is there (0: there is one now). */
  waitMs(key: string, now: number): number {
    const b = this.#current(key, now);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) * this.refillMs);
  }

  take(key: string, now: number): void {
    const b = this.#current(key, now);
    b.tokens = Math.max(0, b.tokens - 1);
    this.#buckets.delete(key);
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.maxEntries) this.#buckets.delete(this.#buckets.keys().next().value!);
  }
}

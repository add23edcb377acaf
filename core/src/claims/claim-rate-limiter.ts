/**
 * Token buckets that bound wrong owner tokens: per DevEUI (nobody can try many tokens on one
 * device) and per tenant (nobody can try one token on many devices). Every wrong token takes
 * one from both buckets; a bucket refills at a fixed rate. While either bucket of a claim is
 * empty, the claim is refused before its token is even compared (HTTP 429, Retry-After).
 *
 * In memory, per instance: each Joinery instance sharing a database keeps its own buckets, so
 * N instances allow N times the rate; put the claim API of a many-instance deployment behind
 * one instance, or a proxy that pins a client to one. The buckets are kept for at most
 * `maxEntries` keys (the oldest dropped first: a dropped bucket is a full bucket again).
 */
export interface ClaimRateLimits {
  /** Wrong tokens a device allows in a burst (default 5), and then one per `deviceRefillMs` (default 60 s). */
  readonly deviceBurst?: number;
  readonly deviceRefillMs?: number;
  /** Wrong tokens a tenant allows in a burst (default 20), then one per `tenantRefillMs` (default 10 s). */
  readonly tenantBurst?: number;
  readonly tenantRefillMs?: number;
  readonly maxEntries?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

class Buckets {
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

export class ClaimRateLimiter {
  readonly #devices: Buckets;
  readonly #tenants: Buckets;
  readonly #now: () => number;

  constructor(limits: ClaimRateLimits = {}) {
    const max = limits.maxEntries ?? 100_000;
    this.#devices = new Buckets(limits.deviceBurst ?? 5, limits.deviceRefillMs ?? 60_000, max);
    this.#tenants = new Buckets(limits.tenantBurst ?? 20, limits.tenantRefillMs ?? 10_000, max);
    this.#now = limits.now ?? Date.now;
  }

  /** Seconds to wait before a claim of this device by this tenant is heard; 0 = now. */
  retryAfterSeconds(devEUI: string, tenantID: string): number {
    const now = this.#now();
    return Math.ceil(Math.max(this.#devices.waitMs(devEUI, now), this.#tenants.waitMs(tenantID, now)) / 1000);
  }

  /** A wrong token was presented. */
  recordFailure(devEUI: string, tenantID: string): void {
    const now = this.#now();
    this.#devices.take(devEUI, now);
    this.#tenants.take(tenantID, now);
  }
}

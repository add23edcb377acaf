import { TokenBuckets } from '../rate-limit/token-buckets';

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

export class ClaimRateLimiter {
  readonly #devices: TokenBuckets;
  readonly #tenants: TokenBuckets;
  readonly #now: () => number;

  constructor(limits: ClaimRateLimits = {}) {
    const max = limits.maxEntries ?? 100_000;
    this.#devices = new TokenBuckets(limits.deviceBurst ?? 5, limits.deviceRefillMs ?? 60_000, max);
    this.#tenants = new TokenBuckets(limits.tenantBurst ?? 20, limits.tenantRefillMs ?? 10_000, max);
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

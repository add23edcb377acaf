import { performance } from 'node:perf_hooks';
import { ParseError } from '../lorawan/parse-error';
import { sleep } from '../retry/backoff';

/**
 * How fast an adapter may call its network server's API: at most `requestsPerSecond` requests
 * started per second (evenly spaced) and `maxConcurrent` in flight. null = no bound.
 */
export interface RateLimit {
  readonly requestsPerSecond: number | null;
  readonly maxConcurrent: number | null;
}

export const NO_RATE_LIMIT: RateLimit = { requestsPerSecond: null, maxConcurrent: null };

/** The adapter option keys of a rate limit (`ns add --rate-limit`, `--max-concurrency`). */
export const RATE_LIMIT_OPTION_HELP: Readonly<Record<string, string>> = {
  rateLimit: 'at most this many API requests per second (a positive number; 0 = no limit)',
  maxConcurrency: 'at most this many API requests in flight (a positive integer; 0 = no limit)',
};

/** Reads `rateLimit` and `maxConcurrency` from adapter options; absent keys take `defaults`. */
export function parseRateLimitOptions(options: Readonly<Record<string, string>>, defaults: RateLimit = NO_RATE_LIMIT): RateLimit {
  const rps = options['rateLimit'];
  const conc = options['maxConcurrency'];
  let requestsPerSecond = defaults.requestsPerSecond;
  let maxConcurrent = defaults.maxConcurrent;
  if (rps !== undefined) {
    const n = Number(rps);
    if (rps.trim() === '' || !Number.isFinite(n) || n < 0 || n > 10_000) throw new ParseError('--rate-limit', `expected requests per second, a number from 0 (no limit) to 10000, not "${rps}"`);
    requestsPerSecond = n === 0 ? null : n;
  }
  if (conc !== undefined) {
    const n = Number(conc);
    if (!/^\d+$/.test(conc.trim()) || n > 1000) throw new ParseError('--max-concurrency', `expected an integer from 0 (no limit) to 1000, not "${conc}"`);
    maxConcurrent = n === 0 ? null : n;
  }
  return { requestsPerSecond, maxConcurrent };
}

/** Runs calls within a RateLimit. */
export interface RateLimiter {
  readonly limit: RateLimit;
  schedule<T>(call: () => Promise<T>): Promise<T>;
  /**
   * The API said "slow down" (a 429): the next free start moves to `ms` from now at the
   * earliest. Calls scheduled from now on, and those waiting for a place in flight, wait; none
   * fails; afterwards they start spaced as before (no burst). A call already given an earlier
   * start keeps it.
   */
  pause(ms: number): void;
  /** Drops what is still queued (those calls reject) and releases the limiter's timers. */
  stop(): Promise<void>;
}

/**
 * Starts are evenly spaced: each call takes the next free start time (1/requestsPerSecond after
 * the one before), so a steady demand runs at exactly the rate, with no bursts, and a pause moves
 * the next free start later. At most `maxConcurrent` are in flight; a call that ends hands its
 * place straight to the next one waiting. Adapters schedule each HTTP/gRPC attempt (not each
 * operation), so retries count against the limit too; a fleet migration schedules each adapter
 * operation through one limiter per vendor.
 */
export function rateLimiter(limit: RateLimit): RateLimiter {
  return new PacedLimiter(limit);
}

/** What a call still queued when its limiter stops rejects with. */
export class RateLimiterStoppedError extends Error {
  constructor() {
    super('the rate limiter was stopped');
    this.name = 'RateLimiterStoppedError';
  }
}

class PacedLimiter implements RateLimiter {
  /** performance.now() of the next free start. */
  #nextStart = 0;
  #inFlight = 0;
  readonly #waiting: Array<{ readonly go: () => void; readonly drop: (err: Error) => void }> = [];
  readonly #intervalMs: number;
  readonly #stopped = new AbortController();

  constructor(readonly limit: RateLimit) {
    this.#intervalMs = limit.requestsPerSecond === null ? 0 : 1000 / limit.requestsPerSecond;
  }

  async schedule<T>(call: () => Promise<T>): Promise<T> {
    await this.#enter();
    try {
      const now = performance.now();
      const start = Math.max(now, this.#nextStart);
      this.#nextStart = start + this.#intervalMs;
      if (start - now >= 1) await sleep(start - now, this.#stopped.signal);
      if (this.#stopped.signal.aborted) throw new RateLimiterStoppedError();
      return await call();
    } finally {
      this.#leave();
    }
  }

  pause(ms: number): void {
    this.#nextStart = Math.max(this.#nextStart, performance.now() + ms);
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    for (const w of this.#waiting.splice(0)) w.drop(new RateLimiterStoppedError());
  }

  #enter(): Promise<void> {
    if (this.#stopped.signal.aborted) return Promise.reject(new RateLimiterStoppedError());
    const max = this.limit.maxConcurrent;
    if (max === null || this.#inFlight < max) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((go, drop) => this.#waiting.push({ go, drop }));
  }

  #leave(): void {
    const next = this.#waiting.shift();
    if (next)
      next.go(); // the place passes straight to the next call
    else this.#inFlight--;
  }
}

import Bottleneck from 'bottleneck';
import { ParseError } from '../lorawan/parse-error';

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
  /** Drops what is still queued (those calls reject) and releases the limiter's timers. */
  stop(): Promise<void>;
}

/**
 * A RateLimiter over bottleneck: `minTime` spaces request starts by 1/requestsPerSecond,
 * `maxConcurrent` bounds those in flight. Adapters schedule each HTTP/gRPC attempt (not each
 * operation), so retries count against the limit too.
 */
export function rateLimiter(limit: RateLimit): RateLimiter {
  if (limit.requestsPerSecond === null && limit.maxConcurrent === null) {
    return { limit, schedule: (call) => call(), stop: async () => undefined };
  }
  const bottleneck = new Bottleneck({
    maxConcurrent: limit.maxConcurrent,
    minTime: limit.requestsPerSecond === null ? 0 : Math.ceil(1000 / limit.requestsPerSecond),
  });
  return {
    limit,
    schedule: (call) => bottleneck.schedule(call),
    stop: async () => {
      await bottleneck.stop({ dropWaitingJobs: true });
    },
  };
}

import Bottleneck from 'bottleneck';
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
   * No call starts in the next `ms` milliseconds (the API said "slow down": a 429 without
   * Retry-After, or with one); calls already started go on, the others wait, none fails, and
   * afterwards they start spaced as before (no burst).
   */
  pause(ms: number): void;
  /** Drops what is still queued (those calls reject) and releases the limiter's timers. */
  stop(): Promise<void>;
}

/**
 * A RateLimiter over bottleneck: `minTime` spaces request starts by 1/requestsPerSecond,
 * `maxConcurrent` bounds those in flight, a pause empties its reservoir until it ends. Adapters
 * schedule each HTTP/gRPC attempt (not each operation), so retries count against the limit too;
 * a fleet migration schedules each adapter operation through one per vendor.
 */
export function rateLimiter(limit: RateLimit): RateLimiter {
  if (limit.requestsPerSecond === null && limit.maxConcurrent === null) {
    let resumeAt = 0;
    return {
      limit,
      schedule: async (call) => {
        await sleep(resumeAt - Date.now());
        return call();
      },
      pause: (ms) => void (resumeAt = Math.max(resumeAt, Date.now() + ms)),
      stop: async () => undefined,
    };
  }
  const bottleneck = new Bottleneck({
    maxConcurrent: limit.maxConcurrent,
    minTime: limit.requestsPerSecond === null ? 0 : Math.ceil(1000 / limit.requestsPerSecond),
  });
  let resumeAt = 0;
  let resume: NodeJS.Timeout | undefined;
  return {
    limit,
    schedule: (call) => bottleneck.schedule(call),
    pause: (ms) => {
      const until = Date.now() + ms;
      if (!(ms > 0) || until <= resumeAt) return;
      resumeAt = until;
      void bottleneck.updateSettings({ reservoir: 0 });
      clearTimeout(resume);
      resume = setTimeout(() => void bottleneck.updateSettings({ reservoir: null }), ms);
    },
    stop: async () => {
      clearTimeout(resume);
      await bottleneck.stop({ dropWaitingJobs: true });
    },
  };
}

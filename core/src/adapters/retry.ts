import { backoffDelay, sleep } from '../retry/backoff';
import { AdapterError, type AdapterOperation } from './adapter-error';

/** How adapters retry and time out calls to a network server's API. */
export interface RetryPolicy {
  /** Total attempts, the first included (>= 1). */
  readonly attempts: number;
  /** Delay before the first retry; doubled for each further retry (plus up to 25 % jitter). */
  readonly baseDelayMs: number;
  /** No delay (computed or `Retry-After`) exceeds this. */
  readonly maxDelayMs: number;
  /** Every single attempt is abandoned after this long (and counts as retryable). */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, timeoutMs: 15_000 };

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(p.attempts) || p.attempts < 1) throw new RangeError('retry policy: attempts must be an integer >= 1');
  if (!(p.timeoutMs > 0)) throw new RangeError('retry policy: timeoutMs must be > 0');
  if (p.baseDelayMs < 0 || p.maxDelayMs < 0) throw new RangeError('retry policy: delays must be >= 0');
  return p;
}

/** The delay before retry number `retry` (1-based), honouring the server's Retry-After. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, policy.maxDelayMs);
  return backoffDelay(retry, { initialMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 0.25 });
}

/**
 * Runs `call` until it succeeds, fails with a non-retryable error, or the attempts run out.
 * Each attempt gets an AbortSignal that fires after `timeoutMs`; an attempt that does not
 * settle by then fails with a retryable AdapterError (status null). Errors that are not
 * AdapterErrors are not retried (they are bugs, not the network server's answer).
 */
export async function withRetry<T>(policy: RetryPolicy, what: { readonly vendor: string; readonly operation: AdapterOperation }, call: (signal: AbortSignal, attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(policy.timeoutMs, what, (signal) => call(signal, attempt));
    } catch (err) {
      if (!(err instanceof AdapterError) || !err.retryable || attempt >= policy.attempts) throw err;
      await sleep(retryDelay(policy, attempt, err.retryAfterMs));
    }
  }
}

async function withTimeout<T>(timeoutMs: number, what: { vendor: string; operation: AdapterOperation }, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AdapterError({ ...what, status: null, retryable: true, message: `no answer within ${timeoutMs} ms` }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

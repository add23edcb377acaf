/** How long to wait before each retry of something that failed: doubling, capped, optionally spread. */
export interface Backoff {
  /** The wait before the first retry (>= 0). */
  readonly initialMs: number;
  /** No wait exceeds this, jitter included (>= 0). */
  readonly maxMs: number;
  /**
   * Spread, as a fraction of the wait: retry n waits a random time between
   * initialMs·2^(n−1) and that times (1 + jitter), so callers that failed together do not
   * retry together. Never shorter than the doubling says. Default 0 (none).
   */
  readonly jitter?: number;
}

/** The wait before retry number `attempt` (1-based): initialMs, doubled each retry, up to maxMs. */
export function backoffDelay(attempt: number, backoff: Backoff): number {
  const exp = backoff.initialMs * 2 ** (Math.max(1, attempt) - 1);
  const jitter = backoff.jitter ?? 0;
  return Math.min(jitter > 0 ? exp + Math.random() * exp * jitter : exp, backoff.maxMs);
}

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects: whoever
 * waits looks at the signal itself). No timer is left behind either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

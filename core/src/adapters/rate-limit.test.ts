import { parseRateLimitOptions, rateLimiter } from './rate-limit';

describe('adapters/rate limit', () => {
  it('spaces request starts by 1/requestsPerSecond', async () => {
    const limiter = rateLimiter({ requestsPerSecond: 20, maxConcurrent: null });
    const starts: number[] = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => limiter.schedule(async () => starts.push(Date.now() - t0))));
    await limiter.stop();
    // 6 starts at 50 ms intervals: the last one no earlier than 5 × 50 ms (timer slack aside).
    expect(starts.at(-1)!).toBeGreaterThanOrEqual(240);
  });

  it('bounds the calls in flight', async () => {
    const limiter = rateLimiter({ requestsPerSecond: null, maxConcurrent: 2 });
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        limiter.schedule(async () => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
        }),
      ),
    );
    await limiter.stop();
    expect(most).toBe(2);
  });

  it('options: defaults, 0 = no limit, bad values name their flag', () => {
    expect(parseRateLimitOptions({})).toEqual({ requestsPerSecond: null, maxConcurrent: null });
    expect(parseRateLimitOptions({}, { requestsPerSecond: 5, maxConcurrent: 2 })).toEqual({ requestsPerSecond: 5, maxConcurrent: 2 });
    expect(parseRateLimitOptions({ rateLimit: '0', maxConcurrency: '0' }, { requestsPerSecond: 5, maxConcurrent: 2 })).toEqual({ requestsPerSecond: null, maxConcurrent: null });
    expect(parseRateLimitOptions({ rateLimit: '0.5', maxConcurrency: '3' })).toEqual({ requestsPerSecond: 0.5, maxConcurrent: 3 });
    expect(() => parseRateLimitOptions({ rateLimit: '-1' })).toThrow(/--rate-limit/);
    expect(() => parseRateLimitOptions({ rateLimit: '' })).toThrow(/--rate-limit/);
    expect(() => parseRateLimitOptions({ maxConcurrency: '1.5' })).toThrow(/--max-concurrency/);
  });
});

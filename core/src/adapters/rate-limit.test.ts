import { parseRateLimitOptions, rateLimiter, RateLimiterStoppedError, type RateLimiter } from './rate-limit';

/** Schedules `calls` calls of `ms` each at once; the most that were in flight together. */
async function mostInFlight(limiter: RateLimiter, calls: number, ms: number): Promise<number> {
  let inFlight = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: calls }, () =>
      limiter.schedule(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, ms));
        inFlight--;
      }),
    ),
  );
  return most;
}

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
    const most = await mostInFlight(limiter, 8, 20);
    await limiter.stop();
    expect(most).toBe(2);
  });

  it("a steady demand runs at the rate, never above the concurrency (a fleet migration's pacing)", async () => {
    const limiter = rateLimiter({ requestsPerSecond: 200, maxConcurrent: 3 });
    const started = Date.now();
    const most = await mostInFlight(limiter, 100, 5);
    await limiter.stop();
    const seconds = (Date.now() - started) / 1000;
    expect(most).toBeLessThanOrEqual(3);
    // 100 calls at 200/s: about half a second, never faster than the rate allows.
    expect(seconds).toBeGreaterThanOrEqual(0.49);
    expect(seconds).toBeLessThan(1.5);
  });

  it.each([
    ['limited', { requestsPerSecond: 1000, maxConcurrent: 1 }],
    ['unlimited', { requestsPerSecond: null, maxConcurrent: null }],
  ])('a pause holds back the next calls (%s), failing none', async (_, limit) => {
    const limiter = rateLimiter(limit);
    await limiter.schedule(async () => undefined);
    limiter.pause(300);
    const t = Date.now();
    await expect(limiter.schedule(async () => 'ran')).resolves.toBe('ran');
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    await limiter.stop();
  });

  it('after a pause, the waiting calls start spaced at the rate again (no burst)', async () => {
    const limiter = rateLimiter({ requestsPerSecond: 20, maxConcurrent: 4 });
    await limiter.schedule(async () => undefined);
    limiter.pause(200);
    limiter.pause(50); // a shorter pause does not cut the longer one short
    const t0 = Date.now();
    const starts = await Promise.all(Array.from({ length: 4 }, () => limiter.schedule(async () => Date.now() - t0)));
    await limiter.stop();
    // The pause's end, then 50 ms apart: each no earlier than its turn.
    starts.forEach((at, i) => expect(at).toBeGreaterThanOrEqual(190 + 50 * i));
  });

  it('stop: the calls still queued reject, the one in flight finishes, later ones are refused', async () => {
    const limiter = rateLimiter({ requestsPerSecond: 10, maxConcurrent: 1 });
    let release!: () => void;
    const first = limiter.schedule(() => new Promise<string>((r) => (release = () => r('first'))));
    const queued = [limiter.schedule(async () => 'waits for a place'), limiter.schedule(async () => 'waits for a place')];
    await new Promise((r) => setTimeout(r, 20));
    await limiter.stop();
    release();
    await expect(first).resolves.toBe('first');
    for (const q of queued) await expect(q).rejects.toThrow(RateLimiterStoppedError);
    await expect(limiter.schedule(async () => 'late')).rejects.toThrow(RateLimiterStoppedError);
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

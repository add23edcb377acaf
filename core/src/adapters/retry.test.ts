import { AdapterError, parseRetryAfter } from './adapter-error';
import { retryDelay, retryPolicy, withRetry } from './retry';

const what = { vendor: 'test', operation: 'getDevice' } as const;
const err = (retryable: boolean, retryAfterMs: number | null = null): AdapterError => new AdapterError({ ...what, status: retryable ? 503 : 400, retryable, message: 'x', retryAfterMs });

describe('adapters/retry', () => {
  it('retries retryable errors until success, within the attempts', async () => {
    let calls = 0;
    const r = await withRetry(retryPolicy({ attempts: 3, baseDelayMs: 1 }), what, async () => {
      if (++calls < 3) throw err(true);
      return 'ok';
    });
    expect(r).toBe('ok');
    expect(calls).toBe(3);
  });
  it('does not retry a non-retryable error nor a bug', async () => {
    let calls = 0;
    await expect(
      withRetry(retryPolicy({ baseDelayMs: 1 }), what, async () => {
        calls++;
        throw err(false);
      }),
    ).rejects.toThrow(AdapterError);
    await expect(
      withRetry(retryPolicy({ baseDelayMs: 1 }), what, async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(2);
  });
  it('times out an attempt that never settles (retryable, status null)', async () => {
    const e = await withRetry(retryPolicy({ attempts: 1, timeoutMs: 50 }), what, () => new Promise(() => undefined)).catch((x: unknown) => x);
    expect(e).toMatchObject({ retryable: true, status: null });
  });
  it('delays: exponential, capped, Retry-After wins (capped too)', () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(retryDelay(p, 1, null)).toBeGreaterThanOrEqual(100);
    expect(retryDelay(p, 3, null)).toBeGreaterThanOrEqual(400);
    expect(retryDelay(p, 10, null)).toBe(1000);
    expect(retryDelay(p, 1, 700)).toBe(700);
    expect(retryDelay(p, 1, 5000)).toBe(1000);
  });
  it('Retry-After: seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(Date.now() + 3000).toUTCString(), 60_000)).toBeGreaterThan(1000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
    expect(parseRetryAfter('99999')).toBe(60_000);
  });
  it('policy: bad values are refused', () => {
    expect(() => retryPolicy({ attempts: 0 })).toThrow(RangeError);
  });
});

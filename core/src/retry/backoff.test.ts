import { backoffDelay, sleep } from './backoff';

describe('retry/backoff', () => {
  test('doubles from initialMs and stops at maxMs', () => {
    const b = { initialMs: 500, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, b))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  test('jitter spreads a wait upwards by at most its fraction, and the cap still holds', () => {
    const b = { initialMs: 100, maxMs: 1000, jitter: 0.25 };
    const waits = Array.from({ length: 200 }, () => backoffDelay(3, b));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...waits)).toBeLessThanOrEqual(500);
    expect(new Set(waits).size).toBeGreaterThan(1);
    expect(backoffDelay(10, b)).toBe(1000);
  });

  test('sleep waits its time', async () => {
    const t = Date.now();
    await sleep(60);
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
  });

  test('sleep ends at once when its signal aborts, or was aborted already', async () => {
    const c = new AbortController();
    const t = Date.now();
    setTimeout(() => c.abort(), 20);
    await sleep(10_000, c.signal);
    await sleep(10_000, c.signal);
    expect(Date.now() - t).toBeLessThan(1000);
  });
});

import { countRejoin, REJOIN_WINDOW_MS } from './rejoin-rate-bound';

describe('join/rejoin rate bound', () => {
  const t0 = new Date(1_750_000_000_000);
  const at = (ms: number): Date => new Date(t0.getTime() + ms);

  test('the first rejoin opens a window; up to the limit are accepted in it, the next is refused with a reason', () => {
    let window = null;
    for (let i = 1; i <= 3; i++) {
      const r = countRejoin(window, at(i * 1000), 3);
      if (!r.ok) throw new Error(r.description);
      expect(r.window).toEqual({ start: at(1000), count: i });
      window = r.window;
    }
    const refused = countRejoin(window, at(REJOIN_WINDOW_MS), 3);
    expect(refused).toEqual({ ok: false, code: 'RejoinRateExceeded', description: expect.stringMatching(/3 rejoin-requests within the hour.*--rejoins-per-hour/) });
  });

  test('an hour after the window opened, a new one opens', () => {
    const full = { start: t0, count: 10 };
    expect(countRejoin(full, at(REJOIN_WINDOW_MS - 1), 10).ok).toBe(false);
    expect(countRejoin(full, at(REJOIN_WINDOW_MS), 10)).toEqual({ ok: true, window: { start: at(REJOIN_WINDOW_MS), count: 1 } });
  });

  test('a window opened by a clock ahead of this one is still open: a clock behind opens no fresh window', () => {
    expect(countRejoin({ start: at(5 * REJOIN_WINDOW_MS), count: 10 }, t0, 10).ok).toBe(false);
    expect(countRejoin({ start: at(60_000), count: 2 }, t0, 10)).toEqual({ ok: true, window: { start: at(60_000), count: 3 } });
  });
});

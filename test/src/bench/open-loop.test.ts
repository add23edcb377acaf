import { openLoop } from '../../../bench/src/open-loop';

/**
 * The load generator's open loop (bench/src/open-loop.ts): every request fired once, in order,
 * never more than `cap` in flight, done only when the last has ended, a failed request's slot
 * freed; what it costs a request does not grow with the requests in flight; a request the cap
 * held back reports how late it left.
 */

/** A request the test ends by hand. */
class Pending implements PromiseLike<void> {
  #end: (() => void) | null = null;
  then<A = void, B = never>(onEnded?: ((value: void) => A | PromiseLike<A>) | null, onFailed?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return new Promise<void>((resolve) => (this.#end = resolve)).then(onEnded, onFailed);
  }
  end(): void {
    this.#end?.();
  }
}

const turns = async (n: number): Promise<void> => {
  for (let k = 0; k < n; k++) await new Promise((r) => setImmediate(r));
};

test('fires every request once, in order, never more than cap in flight, and ends after the last', async () => {
  const cap = 8;
  const fired: Pending[] = [];
  const order: number[] = [];
  let ended = 0;
  let done = false;
  // 200 requests scheduled within 0.2 ms: all of them due at once, so only the cap holds them.
  const loop = openLoop(1_000_000, 0.0002, cap, (i) => {
    order.push(i);
    const p = new Pending();
    fired.push(p);
    return p;
  }).then(() => (done = true));
  let maxInFlight = 0;
  while (ended < 200) {
    await turns(2);
    maxInFlight = Math.max(maxInFlight, fired.length - ended);
    expect(fired.length - ended).toBeLessThanOrEqual(cap);
    // End the oldest half of those in flight, out of order with the newest.
    const inFlight = fired.slice(ended);
    const ending = inFlight.slice(0, Math.max(1, inFlight.length >> 1)).reverse();
    expect(done).toBe(false);
    for (const p of ending) p.end();
    ended += ending.length;
  }
  await loop;
  expect(done).toBe(true);
  expect(maxInFlight).toBe(cap);
  expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
});

test('what the loop costs a request does not grow with the requests in flight', async () => {
  // Promise subscriptions (then, and so race, all, finally) made while 1,000 requests go
  // through a cap of 64, every request ending a turn after it left: the cap is reached at
  // every request. Promise.race over the requests in flight made 64 a request.
  const then = Promise.prototype.then;
  let subscriptions = 0;
  Promise.prototype.then = function (this: Promise<unknown>, ...args: Parameters<typeof then>) {
    subscriptions++;
    return then.apply(this, args);
  } as typeof then;
  try {
    await openLoop(1_000_000, 0.001, 64, () => new Promise<void>((r) => setImmediate(r)));
  } finally {
    Promise.prototype.then = then;
  }
  expect(subscriptions / 1_000).toBeLessThan(4);
});

test('a request that fails frees its slot like one that succeeds', async () => {
  let calls = 0;
  await openLoop(1_000_000, 0.00005, 2, () => {
    calls++;
    return calls % 2 === 0 ? Promise.reject(new Error('refused')) : Promise.resolve();
  });
  expect(calls).toBe(50);
});

test('requests leave at their scheduled times, and a request held back by the cap reports how late it left', async () => {
  const sent: { i: number; scheduledAt: number; lagMs: number }[] = [];
  const start = performance.now();
  // 20 requests at 200/s (one every 5 ms), cap 1: the first holds the only slot for 30 ms.
  await openLoop(200, 0.1, 1, (i, scheduledAt, lagMs) => {
    sent.push({ i, scheduledAt, lagMs });
    if (i === 0) return new Promise<void>((r) => setTimeout(r, 30));
    return Promise.resolve();
  });
  expect(sent).toHaveLength(20);
  for (const s of sent) expect(s.scheduledAt - start).toBeGreaterThanOrEqual(s.i * 5 - 0.001);
  // The second was due at 5 ms and waited for the first's slot (30 ms): at least 20 ms late.
  expect(sent[1]!.lagMs).toBeGreaterThanOrEqual(20);
});

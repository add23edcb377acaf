import { type Store } from '@joinery/core';
import type { StoreConformance } from './conformance-context';

/** The shared rate buckets. */
export function rateBucketLedgerConformance(c: StoreConformance): void {
  const { open, tag } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

  test('rate buckets/200 concurrent takes through two handles: exactly the burst taken; all or nothing over several buckets; refunds; refill', async () => {
    const other = await open();
    const t0 = 1_900_000_000_000;
    const bucket = (name: string, burst: number, refillMs = 3_600_000) => ({ key: `test:${tag}:${name}`, burst, refillMs });
    const a = bucket('a', 5);
    const b = bucket('b', 50);
    const takes = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? store : other).takeRateBuckets([a, b], t0)));
    expect(takes.filter((t) => t.taken)).toHaveLength(5);
    const refused = takes.find((t) => !t.taken);
    expect(refused).toEqual({ taken: false, waitMs: 3_600_000 });
    // A refused take took nothing from b: b has 45 left, a none.
    const c = bucket('c', 45);
    expect(await store.takeRateBuckets([b, c], t0)).toEqual({ taken: true });
    for (let i = 0; i < 43; i++) expect((await other.takeRateBuckets([b], t0)).taken).toBe(true);
    expect(await store.takeRateBuckets([b], t0)).toEqual({ taken: true });
    expect((await store.takeRateBuckets([b], t0)).taken).toBe(false);
    // A refund gives one back (never above the burst).
    await store.refundRateBuckets([a], t0);
    expect((await other.takeRateBuckets([a], t0)).taken).toBe(true);
    expect((await other.takeRateBuckets([a], t0)).taken).toBe(false);
    await store.refundRateBuckets([c], t0);
    await store.refundRateBuckets([c], t0);
    let taken = 0;
    for (let i = 0; i < 46; i++) if ((await store.takeRateBuckets([c], t0)).taken) taken++;
    expect(taken).toBe(45);
    // Refill: a quarter of an hour gives a quarter of a token (wait 45 min), an hour one.
    expect(await store.takeRateBuckets([a], t0 + 900_000)).toEqual({ taken: false, waitMs: 2_700_000 });
    expect(await store.takeRateBuckets([a], t0 + 3_600_000)).toEqual({ taken: true });
    // A clock behind the row's takes nothing and gives nothing.
    expect((await store.takeRateBuckets([a], t0)).taken).toBe(false);
    // Naming one bucket twice is a programming error.
    await expect(store.takeRateBuckets([a, a], t0)).rejects.toThrow(TypeError);
  });
}

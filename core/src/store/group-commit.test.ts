import { GroupCommitter } from './group-commit';

/** A runBatch that records its batches and answers when told to. */
function recorder<T, R>(answer: (items: readonly T[]) => R[]) {
  const batches: T[][] = [];
  const pending: Array<() => void> = [];
  const run = (items: readonly T[]): Promise<R[]> => {
    batches.push([...items]);
    return new Promise((resolve) => pending.push(() => resolve(answer(items))));
  };
  const release = async (): Promise<void> => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { batches, run, release };
}

describe('GroupCommitter', () => {
  test('group commit/a lone call goes at once; calls arriving meanwhile share the next batch', async () => {
    const r = recorder<number, number>((items) => items.map((i) => i * 10));
    const g = new GroupCommitter(r.run);
    const first = g.submit(1);
    expect(r.batches).toEqual([[1]]); // dispatched synchronously: nothing was in flight
    const rest = [2, 3, 4].map((i) => g.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.batches).toEqual([[1]]); // waiting for the batch in flight
    await r.release();
    expect(await first).toBe(10);
    await r.release();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    expect(g.stats).toEqual({ batches: 2, items: 4 });
  });

  test('group commit/without dispatchWhenIdle the calls of one event-loop turn go together', async () => {
    const r = recorder<number, boolean>((items) => items.map((i) => i % 2 === 0));
    const g = new GroupCommitter(r.run, { dispatchWhenIdle: false });
    const all = [1, 2, 3].map((i) => g.submit(i));
    await r.release();
    expect(await Promise.all(all)).toEqual([false, true, false]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  test('group commit/maxBatch splits; maxInFlight runs batches side by side', async () => {
    const r = recorder<number, number>((items) => [...items]);
    const g = new GroupCommitter(r.run, { maxBatch: 2, maxInFlight: 2, dispatchWhenIdle: false });
    const all = [1, 2, 3, 4, 5].map((i) => g.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await r.release();
    await r.release();
    await r.release();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  test('group commit/orderBy: with batches side by side, an item waits while its key is in flight; other keys go past it; each key keeps its order', async () => {
    const r = recorder<string, string>((items) => [...items]);
    const g = new GroupCommitter(r.run, { maxInFlight: 2 }, (item) => item[0]!);
    const a1 = g.submit('a1'); // nothing in flight: goes at once
    const rest = ['a2', 'b1', 'a3', 'c1'].map((i) => g.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.batches).toEqual([['a1'], ['b1', 'c1']]); // a2 and a3 wait for a1
    await r.release();
    expect(await a1).toBe('a1');
    for (let turn = 0; turn < 10 && r.batches.length < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(r.batches).toEqual([['a1'], ['b1', 'c1'], ['a2', 'a3']]);
    await r.release();
    await r.release();
    expect(await Promise.all(rest)).toEqual(['a2', 'b1', 'a3', 'c1']);
    // Without orderBy the same calls go side by side, a1 and a2 in flight at once.
    const u = recorder<string, string>((items) => [...items]);
    const unordered = new GroupCommitter(u.run, { maxInFlight: 2 });
    const all = ['a1', 'a2', 'b1'].map((i) => unordered.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(u.batches).toEqual([['a1'], ['a2', 'b1']]);
    await u.release();
    await u.release();
    await Promise.all(all);
  });

  test('group commit/a failed batch fails each of its callers, and the next batch still runs', async () => {
    let fail = true;
    const g = new GroupCommitter<number, number>(async (items) => {
      if (fail) {
        fail = false;
        throw new Error('connection lost');
      }
      return [...items];
    });
    const a = g.submit(1);
    const b = g.submit(2);
    await expect(a).rejects.toThrow('connection lost');
    expect(await b).toBe(2);
    await g.drain();
  });

  test('group commit/a wrong number of results is an error, not a wrong answer', async () => {
    const g = new GroupCommitter<number, number>(async () => [1], { dispatchWhenIdle: false });
    const both = [g.submit(1), g.submit(2)];
    await expect(both[0]).rejects.toThrow(/1 results for 2 items/);
    await expect(both[1]).rejects.toThrow(/1 results for 2 items/);
  });

  test('group commit/options are checked', () => {
    expect(() => new GroupCommitter(async () => [], { maxBatch: 0 })).toThrow(RangeError);
    expect(() => new GroupCommitter(async () => [], { maxInFlight: 1.5 })).toThrow(RangeError);
  });
});

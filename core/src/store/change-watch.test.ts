import { ChangeWatch } from './change-watch';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ChangeWatch', () => {
  test('the counters are read once per turn of the event loop, whatever the number of lookups, and again in the next turn', async () => {
    let counter = 0;
    const read = jest.fn(async () => counter);
    const watch = new ChangeWatch(read);
    expect(await Promise.all(Array.from({ length: 20 }, () => watch.current()))).toEqual(Array(20).fill(0));
    expect(read).toHaveBeenCalledTimes(1);
    counter = 1; // another process wrote
    expect(await watch.current()).toBe(0); // the same turn: the same read
    await nextTurn();
    expect(await watch.current()).toBe(1);
    expect(read).toHaveBeenCalledTimes(2);
  });

  test('a failed read fails the lookups of its turn only', async () => {
    const read = jest.fn().mockRejectedValueOnce(new Error('database is locked')).mockResolvedValue(7);
    const watch = new ChangeWatch<number>(read);
    await expect(watch.current()).rejects.toThrow('database is locked');
    await nextTurn();
    expect(await watch.current()).toBe(7);
  });
});

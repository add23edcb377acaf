import { WriteTurn, writeTurnMemory } from './write-turn';

/**
 * The commit and history threads' turns at the write lock (write-turn.ts), seen from one thread
 * over the shared memory: each side's flag is up exactly while it writes, and a flag left up by
 * a thread that died costs the other side one bounded wait, not one per write. (That a commit
 * waits for a few records and not for a whole history batch, on two real threads, is in
 * commit-worker.test.ts.)
 */
const [COMMIT, HISTORY] = [0, 1];

test("each side's flag is up while it writes, and down after, a write that throws included", () => {
  const memory = writeTurnMemory();
  const flags = new Int32Array(memory);
  const turn = new WriteTurn(memory);
  expect(turn.commit(() => [Atomics.load(flags, COMMIT), Atomics.load(flags, HISTORY)])).toEqual([1, 0]);
  expect(turn.history(() => [Atomics.load(flags, COMMIT), Atomics.load(flags, HISTORY)])).toEqual([0, 1]);
  expect(() =>
    turn.commit(() => {
      throw new Error('SQLITE_FULL');
    }),
  ).toThrow('SQLITE_FULL');
  expect(() =>
    turn.history(() => {
      throw new Error('SQLITE_FULL');
    }),
  ).toThrow('SQLITE_FULL');
  expect([...flags]).toEqual([0, 0]);
});

test('a flag left up (its thread gone) is waited for once, up to the bound, then not until it is seen down', () => {
  const memory = writeTurnMemory();
  const flags = new Int32Array(memory);
  const history = new WriteTurn(memory);
  Atomics.store(flags, COMMIT, 1); // a commit thread that died writing
  let at = performance.now();
  expect(history.history(() => 'written')).toBe('written');
  expect(performance.now() - at).toBeGreaterThanOrEqual(90);
  at = performance.now();
  for (let i = 0; i < 20; i++) history.history(() => undefined);
  expect(performance.now() - at).toBeLessThan(90);
  // The new commit thread lowers it when it starts; a flag seen down is waited for again.
  new WriteTurn(memory).reset('commit');
  expect(Atomics.load(flags, COMMIT)).toBe(0);
  history.history(() => undefined);
  Atomics.store(flags, COMMIT, 1);
  at = performance.now();
  history.history(() => undefined);
  expect(performance.now() - at).toBeGreaterThanOrEqual(90);
});

test("the commit side waits for the history's flag the same way, and reset lowers the history's", () => {
  const memory = writeTurnMemory();
  const flags = new Int32Array(memory);
  const commit = new WriteTurn(memory);
  Atomics.store(flags, HISTORY, 1);
  let at = performance.now();
  commit.commit(() => undefined);
  expect(performance.now() - at).toBeGreaterThanOrEqual(90);
  at = performance.now();
  commit.commit(() => undefined);
  expect(performance.now() - at).toBeLessThan(90);
  new WriteTurn(memory).reset('history');
  expect([...flags]).toEqual([0, 0]);
});

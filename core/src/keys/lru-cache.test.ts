import { LRUCache } from './lru-cache';

describe('LRU cache', () => {
  test('evicts the least recently used entry beyond capacity', () => {
    const cache = new LRUCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  test('stays within capacity; an entry in use is never dropped', () => {
    const cache = new LRUCache<number, number>(100);
    cache.set(-1, -1);
    for (let i = 0; i < 1000; i++) {
      cache.set(i, i);
      expect(cache.get(-1)).toBe(-1);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get(999)).toBe(999);
    expect(cache.get(0)).toBeUndefined();
  });

  test('capacity 0 caches nothing', () => {
    const cache = new LRUCache<string, number>(0);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('clear empties it', () => {
    const cache = new LRUCache<string, number>(3);
    cache.set('a', 1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  test('onEvict hears of every entry dropped for room, deleted or cleared, once', () => {
    const evicted: string[] = [];
    const cache = new LRUCache<string, number>(4, (k) => evicted.push(k));
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) cache.set(k, 1);
    expect(evicted).toEqual(['a', 'b']);
    cache.delete('c');
    cache.delete('nope');
    expect(evicted).toEqual(['a', 'b', 'c']);
    cache.clear();
    expect(evicted.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const none = new LRUCache<string, number>(0, (k) => evicted.push(`0:${k}`));
    none.set('x', 1);
    expect(evicted).toContain('0:x');
  });
});

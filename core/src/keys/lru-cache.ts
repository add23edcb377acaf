/**
 * A small bounded cache that drops the least recently used entries, in two generations: new
 * and used entries go to `recent`; when `recent` is full it becomes `old` (the previous `old`
 * is dropped whole) and a new `recent` starts; a hit in `old` moves the entry back to `recent`.
 * Every operation is O(1). (A plain Map evicting its first key degrades badly: V8 skips the
 * holes left by deletions on every `keys().next()`.)
 *
 * It holds at most `capacity` entries (at most 2 when capacity is 1); an entry survives at
 * least `capacity / 2` insertions of other keys after its last use. Capacity 0 caches nothing.
 */
export class LRUCache<K, V> {
  readonly #generationSize: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #recent = new Map<K, V>();
  #old = new Map<K, V>();

  /**
   * `onEvict`, when given, is told of every entry that leaves the cache other than by `set`
   * replacing it: dropped for room, deleted, or cleared (a PKCS#11 vault frees HSM objects there).
   */
  constructor(
    readonly capacity: number,
    onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('LRU capacity must be a non-negative integer');
    this.#generationSize = capacity === 0 ? 0 : Math.max(1, Math.floor(capacity / 2));
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#recent.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const value = this.#recent.get(key);
    if (value !== undefined) return value;
    const old = this.#old.get(key);
    if (old === undefined) return undefined;
    this.#old.delete(key);
    this.#insert(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.#generationSize === 0) {
      this.#onEvict?.(key, value);
      return;
    }
    if (this.#recent.has(key)) {
      this.#recent.set(key, value);
      return;
    }
    this.#old.delete(key);
    this.#insert(key, value);
  }

  delete(key: K): void {
    const value = this.#recent.get(key) ?? this.#old.get(key);
    this.#recent.delete(key);
    this.#old.delete(key);
    if (value !== undefined) this.#onEvict?.(key, value);
  }

  clear(): void {
    const dropped = [this.#recent, this.#old];
    this.#recent = new Map();
    this.#old = new Map();
    if (this.#onEvict) for (const generation of dropped) for (const [k, v] of generation) this.#onEvict(k, v);
  }

  #insert(key: K, value: V): void {
    if (this.#recent.size >= this.#generationSize) {
      if (this.#onEvict) for (const [k, v] of this.#old) this.#onEvict(k, v);
      this.#old = this.#recent;
      this.#recent = new Map();
    }
    this.#recent.set(key, value);
  }
}

/**
 * Token buckets kept in the store (`rate_buckets`), so every instance sharing the database
 * takes from the same ones. A bucket holds at most `burst` tokens and gains one every
 * `refillMs`; a row that would be full again is the same as no row (a missing bucket is full),
 * so such rows are pruned.
 *
 * A take is all or nothing over a set of buckets: one token from each, or, when any of them has
 * less than one, nothing from any (and the time until all of them have one). Each store runs it
 * in one transaction that holds the buckets' rows, so concurrent takers, in this process or in
 * another instance, are serialised and never overdraw a bucket.
 */
export interface RateBucket {
  /** What the bucket counts, e.g. `claim:device:<DevEUI>`. */
  readonly key: string;
  readonly burst: number;
  readonly refillMs: number;
}

/** A bucket's row: its tokens at `atMs` (epoch milliseconds). */
export interface StoredBucket {
  readonly tokens: number;
  readonly atMs: number;
}

/** A bucket's row to write; `fullAtMs` is when it is full again (and may be pruned). */
export interface BucketRow extends StoredBucket {
  readonly key: string;
  readonly fullAtMs: number;
}

/** The outcome of a take: taken, or refused with the milliseconds until it would be taken. */
export type BucketTake = { readonly taken: true } | { readonly taken: false; readonly waitMs: number };

/** The tokens a bucket has at `nowMs` (a clock that went back gives nothing, takes nothing). */
function current(b: RateBucket, stored: StoredBucket | undefined, nowMs: number): StoredBucket {
  if (!stored) return { tokens: b.burst, atMs: nowMs };
  const at = Math.max(nowMs, stored.atMs);
  return { tokens: Math.min(b.burst, stored.tokens + (at - stored.atMs) / b.refillMs), atMs: at };
}

function row(b: RateBucket, s: StoredBucket): BucketRow {
  return { key: b.key, tokens: s.tokens, atMs: s.atMs, fullAtMs: s.atMs + Math.ceil((b.burst - s.tokens) * b.refillMs) };
}

/** What taking one token from each bucket writes, or the wait when one of them has none. */
export function planTake(buckets: readonly RateBucket[], stored: ReadonlyMap<string, StoredBucket>, nowMs: number): { readonly rows: BucketRow[] } | { readonly waitMs: number } {
  const now = buckets.map((b) => ({ b, s: current(b, stored.get(b.key), nowMs) }));
  const short = now.filter(({ s }) => s.tokens < 1);
  if (short.length > 0) return { waitMs: Math.max(...short.map(({ b, s }) => Math.ceil((1 - s.tokens) * b.refillMs))) };
  return { rows: now.map(({ b, s }) => row(b, { tokens: s.tokens - 1, atMs: s.atMs })) };
}

/** What giving one token back to each bucket writes (never above its burst). */
export function planRefund(buckets: readonly RateBucket[], stored: ReadonlyMap<string, StoredBucket>, nowMs: number): BucketRow[] {
  return buckets.map((b) => {
    const s = current(b, stored.get(b.key), nowMs);
    return row(b, { tokens: Math.min(b.burst, s.tokens + 1), atMs: s.atMs });
  });
}

/** The buckets' keys, sorted (rows are locked in this order, so two takers never deadlock) and distinct. */
export function bucketKeys(buckets: readonly RateBucket[]): string[] {
  const keys = [...new Set(buckets.map((b) => b.key))].sort();
  if (keys.length !== buckets.length) throw new TypeError('a take names each bucket once');
  return keys;
}

/** What a take (or a refund, which always goes through) writes and answers, from the buckets' rows as read. */
export function settleBuckets(op: 'take' | 'refund', buckets: readonly RateBucket[], stored: ReadonlyMap<string, StoredBucket>, nowMs: number): { readonly write: readonly BucketRow[]; readonly result: BucketTake } {
  if (op === 'refund') return { write: planRefund(buckets, stored, nowMs), result: { taken: true } };
  const plan = planTake(buckets, stored, nowMs);
  return 'waitMs' in plan ? { write: [], result: { taken: false, waitMs: plan.waitMs } } : { write: plan.rows, result: { taken: true } };
}

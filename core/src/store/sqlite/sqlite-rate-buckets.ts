import type Database from 'better-sqlite3';
import type { RateBucketLedger } from '../ports/rate-bucket-ledger';
import { bucketKeys, settleBuckets, type BucketTake, type RateBucket } from '../rate-buckets';

/** The rate buckets on SQLite: read, settled and written back in one IMMEDIATE transaction (the write lock keeps takers apart). */
export class SqliteRateBuckets implements RateBucketLedger {
  readonly #settle: (op: 'take' | 'refund', buckets: readonly RateBucket[], nowMs: number) => BucketTake;

  constructor(db: Database.Database) {
    const read = db.prepare('SELECT key, tokens, at_ms FROM rate_buckets WHERE key IN (SELECT value FROM json_each(?))');
    const write = db.prepare(
      `INSERT INTO rate_buckets (key, tokens, at_ms, full_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms, full_at_ms = excluded.full_at_ms`,
    );
    const prune = db.prepare('DELETE FROM rate_buckets WHERE full_at_ms <= ?');
    // Reads the buckets' rows, writes what the take or refund makes of them and prunes full rows.
    const settle = db.transaction((op: 'take' | 'refund', buckets: readonly RateBucket[], nowMs: number) => {
      const rows = read.all(JSON.stringify(bucketKeys(buckets))) as Array<{ key: string; tokens: number; at_ms: number }>;
      const { write: rowsToWrite, result } = settleBuckets(op, buckets, new Map(rows.map((r) => [r.key, { tokens: r.tokens, atMs: r.at_ms }])), nowMs);
      for (const r of rowsToWrite) write.run(r.key, r.tokens, r.atMs, r.fullAtMs);
      prune.run(nowMs);
      return result;
    });
    this.#settle = (op, buckets, nowMs) => settle.immediate(op, buckets, nowMs);
  }

  async takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    return this.#settle('take', buckets, nowMs);
  }

  async refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void> {
    this.#settle('refund', buckets, nowMs);
  }
}

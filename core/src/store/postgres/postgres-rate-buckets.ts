import type { RateBucketLedger } from '../ports/rate-bucket-ledger';
import { bucketKeys, settleBuckets, type BucketTake, type RateBucket } from '../rate-buckets';
import { asInt } from '../sql/sql-work';
import type { PostgresRunner } from './postgres-sql';

/** The rate buckets on PostgreSQL, shared by every instance. */
export class PostgresRateBuckets implements RateBucketLedger {
  readonly #sql: PostgresRunner;
  /** Takes and refunds so far (full rows are pruned every 64th). */
  #settles = 0;

  constructor(sql: PostgresRunner) {
    this.#sql = sql;
  }

  takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    return this.#settle('take', buckets, nowMs);
  }

  async refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void> {
    await this.#settle('refund', buckets, nowMs);
  }

  /**
   * In one transaction: the buckets' rows, inserted full when missing and locked (in key order,
   * so two takers never deadlock) by one upsert that returns them as they are; then what the
   * take or refund makes of them. A concurrent taker of any instance waits for the lock and
   * reads what this one wrote. Full rows are pruned now and then, skipping locked ones.
   */
  async #settle(op: 'take' | 'refund', buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    const keys = bucketKeys(buckets);
    const result = await this.#sql.transactionWith('taking from rate buckets', async (client) => {
      const held = await client.query<{ key: string; tokens: number; at_ms: string }>(
        `INSERT INTO rate_buckets (key, tokens, at_ms, full_at_ms)
           SELECT k, b, $3::BIGINT, $3::BIGINT FROM UNNEST($1::TEXT[], $2::DOUBLE PRECISION[]) AS v (k, b) ORDER BY k
         ON CONFLICT (key) DO UPDATE SET tokens = rate_buckets.tokens
         RETURNING key, tokens, at_ms`,
        [keys, keys.map((k) => buckets.find((b) => b.key === k)!.burst), nowMs],
      );
      const stored = new Map(held.rows.map((r) => [r.key, { tokens: Number(r.tokens), atMs: asInt(r.at_ms, 'rate_buckets.at_ms') }]));
      const { write, result } = settleBuckets(op, buckets, stored, nowMs);
      if (write.length > 0) {
        await client.query(
          `UPDATE rate_buckets AS r SET tokens = v.tokens, at_ms = v.at_ms, full_at_ms = v.full_at_ms
             FROM UNNEST($1::TEXT[], $2::DOUBLE PRECISION[], $3::BIGINT[], $4::BIGINT[]) AS v (key, tokens, at_ms, full_at_ms)
            WHERE r.key = v.key`,
          [write.map((r) => r.key), write.map((r) => r.tokens), write.map((r) => r.atMs), write.map((r) => r.fullAtMs)],
        );
      }
      return result;
    });
    if (++this.#settles % 64 === 0) {
      await this.#sql.query('pruning rate buckets', 'DELETE FROM rate_buckets WHERE key IN (SELECT key FROM rate_buckets WHERE full_at_ms <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)', [nowMs]);
    }
    return result;
  }
}

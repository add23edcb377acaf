import type { BucketTake, RateBucket } from '../rate-buckets';

/** The token buckets every instance shares (the claim rate limiter). */
export interface RateBucketLedger {
  /**
   * Takes one token from each bucket, all or nothing, in one transaction that holds their rows
   * (see rate-buckets.ts): concurrent takers, of any instance, never overdraw a bucket. Refused:
   * nothing taken, and the milliseconds until every bucket has a token.
   */
  takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake>;
  /** Gives one token back to each bucket (never above its burst), in one transaction. */
  refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void>;
}

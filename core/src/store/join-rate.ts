import type { TenantID } from '../tenants/tenant';

/** One minute is the join-rate chart's step: joins and refusals per minute. */
export const JOIN_RATE_STEP_MS = 60_000;

/**
 * Which join attempts to count: those in the join history at or after `since` (and before
 * `until`), through one network server peer when given, of one owner tenant's devices when given
 * (since it claimed each: as the device's join history shows it to its owner).
 */
export interface JoinRateQuery {
  readonly since: Date;
  readonly until: Date;
  readonly peer?: string;
  readonly ownerTenant?: TenantID;
}

/** The join attempts of one minute, from `at` (a multiple of the step): accepted and refused. */
export interface JoinRateBucket {
  readonly at: Date;
  readonly joins: number;
  readonly refusals: number;
}

/** A row each dialect's query gives: the minute (ms since the epoch, a multiple of the step) and its counts. */
export interface JoinRateRow {
  readonly minute: number | string;
  readonly joins: number | string;
  readonly refusals: number | string;
}

/**
 * Every minute of the query's window, oldest first, the minutes without a join attempt at zero
 * (so a chart's x axis is time, not the minutes that happened to have joins).
 */
export function joinRateBuckets(query: JoinRateQuery, rows: readonly JoinRateRow[]): JoinRateBucket[] {
  const counted = new Map(rows.map((r) => [Number(r.minute), r]));
  const first = Math.floor(query.since.getTime() / JOIN_RATE_STEP_MS) * JOIN_RATE_STEP_MS;
  const buckets: JoinRateBucket[] = [];
  for (let at = first; at < query.until.getTime(); at += JOIN_RATE_STEP_MS) {
    const row = counted.get(at);
    buckets.push({ at: new Date(at), joins: Number(row?.joins ?? 0), refusals: Number(row?.refusals ?? 0) });
  }
  return buckets;
}

import { JOIN_RATE_STEP_MS, joinRateBuckets, type JoinRateBucket, type JoinRateQuery, type JoinRateRow } from '../join-rate';

/** Runs one query on the store's pool (the store wraps its errors). */
export type PostgresQuery = (text: string, values: readonly unknown[]) => Promise<JoinRateRow[]>;

/**
 * Joins and refusals per minute from the join history (`device_joins`, TIMESTAMPTZ): through a
 * peer (its `(peer, at)` index), of an owner's devices.
 */
export async function postgresJoinRate(query: PostgresQuery, q: JoinRateQuery): Promise<JoinRateBucket[]> {
  const conditions = ['j.at >= $1', 'j.at < $2'];
  const values: unknown[] = [q.since, q.until];
  if (q.peer !== undefined) {
    values.push(q.peer);
    conditions.push(`j.peer = $${values.length}`);
  }
  if (q.ownerTenant !== undefined) {
    values.push(q.ownerTenant);
    conditions.push(`d.owner_tenant = $${values.length}`, 'j.at >= d.claimed_at');
  }
  const sql = `SELECT (FLOOR(EXTRACT(EPOCH FROM j.at) * 1000 / ${JOIN_RATE_STEP_MS}) * ${JOIN_RATE_STEP_MS})::BIGINT AS minute,
      COUNT(*) FILTER (WHERE j.result = 'Success') AS joins,
      COUNT(*) FILTER (WHERE j.result <> 'Success') AS refusals
    FROM device_joins j${q.ownerTenant !== undefined ? ' JOIN devices d ON d.dev_eui = j.dev_eui' : ''}
    WHERE ${conditions.join(' AND ')}
    GROUP BY 1`;
  return joinRateBuckets(q, await query(sql, values));
}

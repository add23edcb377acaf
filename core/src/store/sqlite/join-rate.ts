import type Database from 'better-sqlite3';
import { JOIN_RATE_STEP_MS, joinRateBuckets, type JoinRateBucket, type JoinRateQuery, type JoinRateRow } from '../join-rate';

/**
 * Joins and refusals per minute from the join history (`device_joins`, times in ms): through a
 * peer (its `(peer, at)` index), of an owner's devices. Either way only the window's rows are
 * read (by peer and time, or by time: never an owner's every device's history, which the
 * planner would pick without statistics). Prepared at each call: a chart asks twice a minute.
 */
export function sqliteJoinRate(db: Database.Database, query: JoinRateQuery): JoinRateBucket[] {
  const conditions = ['j.at >= ?', 'j.at < ?'];
  const values: unknown[] = [query.since.getTime(), query.until.getTime()];
  if (query.peer !== undefined) {
    conditions.push('j.peer = ?');
    values.push(query.peer);
  }
  if (query.ownerTenant !== undefined) {
    conditions.push('d.owner_tenant = ?', 'j.at >= d.claimed_at');
    values.push(query.ownerTenant);
  }
  const sql = `SELECT (j.at / ${JOIN_RATE_STEP_MS}) * ${JOIN_RATE_STEP_MS} AS minute,
      SUM(CASE WHEN j.result = 'Success' THEN 1 ELSE 0 END) AS joins,
      SUM(CASE WHEN j.result = 'Success' THEN 0 ELSE 1 END) AS refusals
    FROM device_joins j INDEXED BY ${query.peer !== undefined ? 'device_joins_by_peer' : 'device_joins_by_time'}${query.ownerTenant !== undefined ? ' JOIN devices d ON d.dev_eui = j.dev_eui' : ''}
    WHERE ${conditions.join(' AND ')}
    GROUP BY minute`;
  return joinRateBuckets(query, db.prepare(sql).all(...values) as JoinRateRow[]);
}

import type { PeerUsage } from './store';

/*
 * The devices side of a peer's lifecycle, the same SQL for both stores ($1: the peer's name).
 */

/** Removes every binding to the peer: an overlap network server becomes the device's network server; otherwise it is unbound. */
export const UNBIND_FROM_PEER_SQL = [
  'UPDATE devices SET ns_peer = overlap_ns_peer, overlap_ns_peer = NULL, version = version + 1 WHERE ns_peer = $1',
  'UPDATE devices SET overlap_ns_peer = NULL, version = version + 1 WHERE overlap_ns_peer = $1',
  'UPDATE devices SET as_peer = NULL, version = version + 1 WHERE as_peer = $1',
] as const;

/** Devices bound to each peer, in any role. */
export const BOUND_PER_PEER_SQL = `SELECT peer, COUNT(*) AS n FROM (
    SELECT ns_peer AS peer FROM devices WHERE ns_peer IS NOT NULL
    UNION ALL SELECT overlap_ns_peer FROM devices WHERE overlap_ns_peer IS NOT NULL
    UNION ALL SELECT as_peer FROM devices WHERE as_peer IS NOT NULL
  ) AS bound GROUP BY peer`;

/** The last accepted join through each peer. */
export const LAST_JOIN_PER_PEER_SQL = 'SELECT last_join_peer AS peer, MAX(last_join_at) AS at FROM devices WHERE last_join_peer IS NOT NULL GROUP BY last_join_peer';

/** A peer's joins since a time, by result ($1: the peer, $2: the time). */
export const PEER_JOIN_RESULTS_SQL = 'SELECT result, COUNT(*) AS n FROM device_joins WHERE peer = $1 AND at >= $2 GROUP BY result ORDER BY result';

export function joinResultsFrom(rows: ReadonlyArray<{ result: string; n: number | string }>): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.result, Number(r.n)]));
}

export function peerUsageFrom(bound: ReadonlyArray<{ peer: string; n: number | string }>, lastJoins: ReadonlyArray<{ peer: string; at: Date }>): Map<string, PeerUsage> {
  const usage = new Map<string, PeerUsage>();
  for (const b of bound) usage.set(b.peer, { boundDevices: Number(b.n), lastJoinAt: null });
  for (const j of lastJoins) usage.set(j.peer, { boundDevices: usage.get(j.peer)?.boundDevices ?? 0, lastJoinAt: j.at });
  return usage;
}

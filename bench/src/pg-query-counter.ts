/**
 * Preloaded into a `joinery serve` on PostgreSQL (`node --require pg-query-counter.js`) by the
 * benchmark's PostgreSQL row: counts, at the driver, the statements the server sends. node-postgres
 * sends a connection's queries one at a time (the next after the previous one's ReadyForQuery),
 * so each is one round trip to PostgreSQL; were queries ever pipelined, this would have to count
 * the waits instead. The server's code is not changed: `pg.Client.prototype.query` is wrapped.
 *
 * A statement either runs alone (its own implicit transaction) or between BEGIN and
 * COMMIT/ROLLBACK on one connection: each is a unit, and a unit that updates `devices` is a
 * join commit (a group commit's batch, or a lone join). Its round trips are what the group
 * commit costs.
 *
 * The counts go to the benchmark over the IPC channel it opens (a message in, the counts out);
 * the channel does not keep the server alive.
 */
import type { Client } from 'pg';

export interface PostgresQueryCounts {
  readonly queries: number;
  /** Units (a transaction, or a statement alone) that updated `devices`: join commits. */
  readonly joinCommits: number;
  /** Round trips of those units, BEGIN and COMMIT included. */
  readonly joinCommitRoundTrips: number;
  /** Queries by kind: the statement's first words (see kindOf). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** A statement's kind: its first words up to the first parameter, value list or WHERE, whitespace folded. */
export function kindOf(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  const cut = folded.search(/ (WHERE|VALUES|SET|\(|\$)/i);
  return (cut > 0 ? folded.slice(0, cut) : folded).slice(0, 60);
}

const counts = { queries: 0, joinCommits: 0, joinCommitRoundTrips: 0, byKind: {} as Record<string, number> };

interface UnitState {
  inTransaction: boolean;
  queries: number;
  updatesDevices: boolean;
}
const units = new WeakMap<object, UnitState>();

const UPDATES_DEVICES = /\bUPDATE\s+devices\b/i;

function count(client: object, text: string): void {
  counts.queries++;
  const kind = kindOf(text);
  counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
  let u = units.get(client);
  if (!u) units.set(client, (u = { inTransaction: false, queries: 0, updatesDevices: false }));
  const word = text.trim().slice(0, 8).toUpperCase();
  if (word.startsWith('BEGIN')) u.inTransaction = true;
  u.queries++;
  if (UPDATES_DEVICES.test(text)) u.updatesDevices = true;
  if (u.inTransaction && !(word.startsWith('COMMIT') || word.startsWith('ROLLBACK'))) return;
  if (u.updatesDevices) {
    counts.joinCommits++;
    counts.joinCommitRoundTrips += u.queries;
  }
  u.inTransaction = false;
  u.queries = 0;
  u.updatesDevices = false;
}

export function installQueryCounter(pg: { Client: { prototype: Client } }): void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: object, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === 'string' ? first : typeof (first as { text?: unknown })?.text === 'string' ? (first as { text: string }).text : '';
    count(this, text);
    return query.apply(this, args);
  };
}

if (process.send) {
  // The server's own `pg`: resolved from its entry point, as the server resolves it (a
  // runtime path, so require, not an import).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  installQueryCounter(require(require.resolve('pg', { paths: [process.argv[1] ?? process.cwd()] })) as { Client: { prototype: Client } });
  process.on('message', () => process.send!({ ...counts, byKind: { ...counts.byKind } }));
  process.channel?.unref();
}

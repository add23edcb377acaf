/**
 * Counts, at the driver, the statements a `joinery serve` on PostgreSQL sends (installed by
 * pg-query-counter-preload.ts, which the benchmark's PostgreSQL row preloads into the server). node-postgres
 * sends a connection's queries one at a time (the next after the previous one's ReadyForQuery),
 * so each is one round trip to PostgreSQL; were queries ever pipelined, this would have to count
 * the waits instead. The server's code is not changed: `pg.Client.prototype.query` is wrapped.
 *
 * A statement either runs alone (its own implicit transaction) or between BEGIN and
 * COMMIT/ROLLBACK on one connection: each is a unit, and a unit that updates `devices` is a
 * join commit (a group commit's batch, or a lone join). Its round trips are what the group
 * commit costs.
 *
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

/** What the counter needs of a statement's text. */
interface Statement {
  readonly kind: string;
  readonly begins: boolean;
  readonly ends: boolean;
  readonly updatesDevices: boolean;
}

/**
 * Each text classified once: the server sends a few texts over and over (its prepared
 * statements, a group commit's per batch size), some of them kilobytes long. Classifying
 * every query anew (regular expressions over the whole text) cost the server 1.2% of its CPU
 * in the PostgreSQL row, which then counted as the server's.
 */
const statements = new Map<string, Statement>();
const MAX_STATEMENTS = 10_000;

function statementOf(text: string): Statement {
  const known = statements.get(text);
  if (known) return known;
  const word = text.trim().slice(0, 8).toUpperCase();
  const s = { kind: kindOf(text), begins: word.startsWith('BEGIN'), ends: word.startsWith('COMMIT') || word.startsWith('ROLLBACK'), updatesDevices: UPDATES_DEVICES.test(text) };
  if (statements.size < MAX_STATEMENTS) statements.set(text, s);
  return s;
}

function count(client: object, text: string): void {
  counts.queries++;
  const s = statementOf(text);
  counts.byKind[s.kind] = (counts.byKind[s.kind] ?? 0) + 1;
  let u = units.get(client);
  if (!u) units.set(client, (u = { inTransaction: false, queries: 0, updatesDevices: false }));
  if (s.begins) u.inTransaction = true;
  u.queries++;
  if (s.updatesDevices) u.updatesDevices = true;
  if (u.inTransaction && !s.ends) return;
  if (u.updatesDevices) {
    counts.joinCommits++;
    counts.joinCommitRoundTrips += u.queries;
  }
  u.inTransaction = false;
  u.queries = 0;
  u.updatesDevices = false;
}

/** The counts so far (a copy). */
export function queryCounts(): PostgresQueryCounts {
  return { ...counts, byKind: { ...counts.byKind } };
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

import type { Client } from 'pg';
import { installQueryCounter, kindOf, queryCounts } from '../../../bench/src/pg-query-counter';

/**
 * The PostgreSQL row's statement counter (bench/src/pg-query-counter.ts) on a stand-in for
 * node-postgres's Client: every query counted by kind, and the units that update `devices`
 * (a transaction, or a statement alone) counted as join commits with their round trips,
 * per connection; each text classified once, with the same answer every time.
 */
class FakeClient {
  readonly sent: string[] = [];
  query(q: string | { readonly text: string }): Promise<void> {
    this.sent.push(typeof q === 'string' ? q : q.text);
    return Promise.resolve();
  }
}
installQueryCounter({ Client: FakeClient as unknown as { prototype: Client } });

const READ = `SELECT c.peers_changes, d.*
   FROM (SELECT 1) AS c LEFT JOIN devices AS d ON d.dev_eui = ANY($1)`;
const COMMIT_ONE = 'UPDATE devices SET last_dev_nonce = $1 WHERE dev_eui = $2 AND version = $3';

test('counts queries by kind, and a join commit with its round trips, per connection', async () => {
  const before = queryCounts();
  const a = new FakeClient();
  const b = new FakeClient();
  await a.query('BEGIN');
  await b.query({ text: READ }); // another connection, between a's BEGIN and COMMIT
  await a.query({ text: 'SELECT dev_eui FROM devices WHERE dev_eui = ANY($1) FOR UPDATE' });
  await a.query({ text: COMMIT_ONE });
  await a.query('COMMIT');
  await b.query({ text: COMMIT_ONE }); // alone: a unit of one round trip
  await b.query({ text: READ });
  const after = queryCounts();
  expect(after.queries - before.queries).toBe(7);
  expect(after.joinCommits - before.joinCommits).toBe(2);
  expect(after.joinCommitRoundTrips - before.joinCommitRoundTrips).toBe(4 + 1);
  expect((after.byKind[kindOf(READ)] ?? 0) - (before.byKind[kindOf(READ)] ?? 0)).toBe(2);
  expect(kindOf(READ)).toBe('SELECT c.peers_changes, d.* FROM');
  expect((after.byKind['UPDATE devices'] ?? 0) - (before.byKind['UPDATE devices'] ?? 0)).toBe(2);
  expect(a.sent).toHaveLength(4);
});

test('a transaction that does not update devices is no join commit; a rolled back one that does is', async () => {
  const before = queryCounts();
  const c = new FakeClient();
  for (const text of ['BEGIN', 'SELECT 1', 'COMMIT', 'BEGIN', COMMIT_ONE, 'ROLLBACK']) await c.query(text);
  const after = queryCounts();
  expect(after.joinCommits - before.joinCommits).toBe(1);
  expect(after.joinCommitRoundTrips - before.joinCommitRoundTrips).toBe(3);
});

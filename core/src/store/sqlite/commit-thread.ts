/**
 * The commit thread (started by SqliteCommitWorker): its own connection with the store's
 * durability settings, each batch it is sent run by `commitBatcher` (one IMMEDIATE
 * transaction: one fsync, off the main thread's event loop). It never checkpoints the WAL itself
 * (`wal_autocheckpoint = 0`): that is the checkpoint thread's work. Its writes go before the
 * history thread's (write-turn.ts).
 */
import { commitBatcher, type CommitParams } from './commit-batch';
import { connect, port, serve, threadData, wire } from './thread-connection';
import { WriteTurn } from './write-turn';

const db = connect(['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'wal_autocheckpoint = 0']);
const batch = commitBatcher(db);
const turn = threadData.writeTurn ? new WriteTurn(threadData.writeTurn) : null;
turn?.reset('commit');
const commit = (commits: readonly CommitParams[]): ReturnType<typeof batch> => (turn ? turn.commit(() => batch(commits)) : batch(commits));
serve<{ readonly id: number; readonly commits: readonly CommitParams[] }>(db, (m) => {
  try {
    const results = commit(m.commits).map((r) => (typeof r === 'boolean' ? r : { error: wire(r.error) }));
    port.postMessage({ id: m.id, results });
  } catch (err) {
    port.postMessage({ id: m.id, error: wire(err) });
  }
});

/**
 * The history thread (started by SqliteHistoryWorker): its own connection, `synchronous =
 * NORMAL` (in WAL mode a commit is not fsynced: the history is informational), each batch it is
 * sent appended by `historyAppender` in short transactions, each when no join commit wants the
 * write lock (write-turn.ts). Its connection keeps SQLite's autocheckpoint, so a
 * history of refused joins alone (no commit to start the checkpoint thread) still bounds the
 * WAL; a checkpoint here holds no other thread.
 */
import { JoinHistoryPartlyWrittenError } from '../join-history-partly-written';
import { historyAppender, type RecordParams } from './history-batch';
import { connect, port, serve, threadData, wire } from './thread-connection';
import { WriteTurn } from './write-turn';

const db = connect(['synchronous = NORMAL', 'foreign_keys = ON']);
const turn = threadData.writeTurn ? new WriteTurn(threadData.writeTurn) : null;
turn?.reset('history');
const append = historyAppender(db, turn);
serve<{ readonly id: number; readonly records: readonly RecordParams[]; readonly keep: number }>(db, (m) => {
  try {
    port.postMessage({ id: m.id, stored: append(m.records, m.keep) });
  } catch (err) {
    if (err instanceof JoinHistoryPartlyWrittenError) port.postMessage({ id: m.id, error: wire(err.cause), partly: { handled: err.handled, stored: err.stored } });
    else port.postMessage({ id: m.id, error: wire(err) });
  }
});

/**
 * The checkpoint thread (started by SqliteCommitWorker, a StoreThread like the commit thread):
 * its own connection copies the WAL's committed pages into the database file (`wal_checkpoint(PASSIVE)`: it never blocks the
 * commits) when asked, so the commit thread's batches never wait for a checkpoint (a checkpoint
 * of a large registry writes up to a thousand random pages of the file and syncs it). Once a
 * checkpoint has copied the whole WAL, the next commit starts the WAL over from its beginning.
 */
import { connect, port, serve } from './thread-connection';

const db = connect(['synchronous = FULL']);
serve<{ readonly id: number }>(db, (m) => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint that cannot run now (a busy lock) runs with the next request.
  }
  port.postMessage({ id: m.id });
});

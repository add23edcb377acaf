import * as path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The storage floor: SQLite's own durable single-row update rate on this disk, with the store's
 * settings (WAL, synchronous = FULL), one conditional UPDATE per transaction, one after the
 * other: what one join's nonce commit would cost without group commit.
 */
export function storageFloor(work: string, seconds: number): { perSecond: number } {
  const db = new Database(path.join(work, 'storage-floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE floor (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, payload TEXT NOT NULL) STRICT');
    const rows = 1000;
    const insert = db.prepare("INSERT INTO floor VALUES (?, 0, '[]')");
    db.transaction(() => {
      for (let id = 0; id < rows; id++) insert.run(id);
    })();
    const update = db.prepare('UPDATE floor SET version = version + 1, payload = ? WHERE id = ? AND version = ?');
    const versions = new Array<number>(rows).fill(0);
    let done = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    while (performance.now() < end) {
      const id = done % rows;
      if (update.run(`[${versions[id]}]`, id, versions[id]).changes !== 1) throw new Error('storage floor: conditional update lost');
      versions[id]!++;
      done++;
    }
    return { perSecond: done / ((performance.now() - started) / 1000) };
  } finally {
    db.close();
  }
}

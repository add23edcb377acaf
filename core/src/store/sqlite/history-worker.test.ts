import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { JoinHistoryPartlyWrittenError } from '../join-history-partly-written';
import type { JoinRecord } from '../join-record';
import { SqliteStore } from './sqlite-store';
import { HISTORY_CHUNK } from './write-turn';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-history-worker-'));
  file = path.join(dir, 'joinery.db');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const eui = (n: number): EUI64 => parseEUI64(n.toString(16).padStart(16, '0'));
const record = (n: number): JoinRecord => ({
  devEUI: eui(n),
  joinEUI: parseEUI64('70b3d57ed0000000'),
  at: new Date(1_700_000_000_000 + n),
  peer: 'ns',
  joinType: 'join',
  macVersion: '1.0.4',
  result: 'Success',
  description: null,
  devNonce: n,
  joinNonce: n,
});

test('a batch that fails part-way on the history thread says how much of it stays written', async () => {
  // The history thread writes a batch in transactions of at most HISTORY_CHUNK records; a
  // failure in the second leaves the first committed. Devices 1..2*HISTORY_CHUNK exist, but two
  // of the first chunk's records are of unknown devices; the insert of the record after the
  // first chunk fails (a trigger stands in for a full disk).
  const devices = 2 * HISTORY_CHUNK;
  const store = SqliteStore.open(file);
  try {
    await store.insertDevices(
      Array.from({ length: devices }, (_, i) => ({
        devEUI: eui(i + 1),
        joinEUI: parseEUI64('70b3d57ed0000000'),
        macVersion: '1.0.4' as const,
        sealedRootKeys: randomBytes(47),
        vaultKind: 'software' as const,
        nsPeer: null,
        asPeer: null,
      })),
    );
    const other = new Database(file);
    other.exec(`CREATE TRIGGER full_disk BEFORE INSERT ON device_joins WHEN NEW.dev_eui = '${eui(HISTORY_CHUNK + 1)}' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    const records = Array.from({ length: devices }, (_, i) => record(i + 1));
    records[10] = record(devices + 10);
    records[20] = record(devices + 20);
    const failure = await store.appendJoinRecords(records, 50).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(JoinHistoryPartlyWrittenError);
    expect(failure).toMatchObject({ handled: HISTORY_CHUNK, stored: HISTORY_CHUNK - 2 });
    expect(((failure as Error).cause as Error).message).toBe('database or disk is full');
    expect((other.prepare('SELECT COUNT(*) AS n FROM device_joins').get() as { n: number }).n).toBe(HISTORY_CHUNK - 2);
    // A failure before any record is written is the failure itself.
    other.exec(`DROP TRIGGER full_disk; CREATE TRIGGER full_disk BEFORE INSERT ON device_joins BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    const first = await store.appendJoinRecords([record(1)], 50).then(
      () => null,
      (err: unknown) => err,
    );
    expect(first).not.toBeInstanceOf(JoinHistoryPartlyWrittenError);
    expect((first as Error).message).toBe('database or disk is full');
    other.close();
  } finally {
    await store.close();
  }
});

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { cli, makeTempDir, runCLI, startServer, type CLIResult } from '../support/joinery-cli';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { CSV_HEADER, csvLine, newDevice, writeCSV } from './fixtures';

/**
 * A missing or wrong master key is refused by every command that opens the vault, with one
 * line naming the key's file, and a new key is never made for a store that holds sealed data.
 * The store keeps a check value of the key (never the key); a store from before check values
 * is checked by opening one of its sealed blobs.
 */

let work: string;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  work = await makeTempDir('master-key-check');
});

afterAll(async () => {
  for (const db of databases) await db.drop();
  await fs.rm(work, { recursive: true, force: true });
});

interface Setup {
  readonly dataDir: string;
  readonly keyFile: string;
  /** Backend flags of every command on this store. */
  readonly store: readonly string[];
  /** Runs SQL on the store (the test's own connection). */
  sql(text: string): Promise<void>;
}

let n = 0;

/** A data directory with a peer and a device sealed under its master key, on `kind`. */
async function setUp(kind: 'sqlite' | 'postgres'): Promise<Setup> {
  const dataDir = path.join(work, `data-${kind}-${n++}`);
  let store: string[] = [];
  let sql: (text: string) => Promise<void>;
  if (kind === 'postgres') {
    const db = await createTestDatabase();
    databases.push(db);
    store = ['--store', db.url];
    sql = async (text) => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    };
  } else {
    sql = async (text) => {
      const db = new Database(path.join(dataDir, 'joinery.db'));
      try {
        db.exec(text);
      } finally {
        db.close();
      }
    };
  }
  await cli(['ns', 'add', '--data-dir', dataDir, ...store, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(dataDir, '..', `ns-${n}`)]);
  const csv = await writeCSV(path.join(work, `devices-${n}.csv`), [CSV_HEADER, csvLine(newDevice(`00000000000a${n.toString(16).padStart(4, '0')}`, '1.0.3'))]);
  await cli(['devices', 'import', csv, '--data-dir', dataDir, ...store, '--ns', 'ns-a']);
  return { dataDir, keyFile: path.join(dataDir, 'master.key'), store, sql };
}

/** `joinery serve` must refuse to start: its exit code and output. */
async function serveRefused(s: Setup): Promise<string> {
  const started = await startServer(s.dataDir, s.store).then(
    async (server) => {
      await server.stop();
      return null;
    },
    (err: Error) => err.message,
  );
  if (started === null) throw new Error('joinery serve started');
  expect(started).toMatch(/exited [1-9]/);
  return started;
}

function errorLines(r: CLIResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

async function writeKey(file: string, hex: string): Promise<void> {
  await fs.writeFile(file, `${hex}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

describe.each(['sqlite', 'postgres'] as const)('master key check (%s)', (kind) => {
  test('a moved master.key: serve and devices import refuse, naming the file, and no new key is made', async () => {
    const s = await setUp(kind);
    await fs.rename(s.keyFile, path.join(work, `moved-${n}.key`));
    const out = await serveRefused(s);
    expect(out).toContain(`${s.keyFile}: no master key file`);
    const csv = await writeCSV(path.join(work, `more-${n}.csv`), [CSV_HEADER, csvLine(newDevice('00000000000bffff', '1.0.3'))]);
    const r = await runCLI(['devices', 'import', csv, '--data-dir', s.dataDir, ...s.store, '--ns', 'ns-a']);
    expect(r.code).not.toBe(0);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toContain(`${s.keyFile}: no master key file`);
    await expect(fs.stat(s.keyFile)).rejects.toThrow(/ENOENT/);
    // The key back: everything works again, nothing was imported meanwhile.
    await fs.rename(path.join(work, `moved-${n}.key`), s.keyFile);
    const list = await cli(['devices', 'list', '--data-dir', s.dataDir, ...s.store]);
    expect(list.stdout).not.toContain('00000000000bffff');
  });

  test('a wrong master.key (or JOINERY_MASTER_KEY) is refused, naming where it came from', async () => {
    const s = await setUp(kind);
    const right = await fs.readFile(s.keyFile, 'utf8');
    await writeKey(s.keyFile, randomBytes(32).toString('hex'));
    const out = await serveRefused(s);
    expect(out).toContain(`${s.keyFile}: this master key is not the one the store's keys are sealed under`);
    const r = await runCLI(['devices', 'list', '--data-dir', s.dataDir, ...s.store], { JOINERY_MASTER_KEY: randomBytes(32).toString('hex') });
    expect(r.code).not.toBe(0);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toContain("JOINERY_MASTER_KEY: this master key is not the one the store's keys are sealed under");
    await writeKey(s.keyFile, right.trim());
    await cli(['devices', 'list', '--data-dir', s.dataDir, ...s.store]);
  });

  test('a store from before check values: a wrong key is refused by opening a sealed blob, the right one is recorded', async () => {
    const s = await setUp(kind);
    await s.sql('DELETE FROM store_settings');
    const right = await fs.readFile(s.keyFile, 'utf8');
    await writeKey(s.keyFile, randomBytes(32).toString('hex'));
    const r = await runCLI(['devices', 'list', '--data-dir', s.dataDir, ...s.store]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${s.keyFile}: this master key is not the one the store's keys are sealed under`);
    await writeKey(s.keyFile, right.trim());
    await cli(['devices', 'list', '--data-dir', s.dataDir, ...s.store]);
    // Recorded now: the wrong key is refused without a canary.
    await s.sql('DELETE FROM devices; DELETE FROM peers');
    await writeKey(s.keyFile, randomBytes(32).toString('hex'));
    expect((await runCLI(['devices', 'list', '--data-dir', s.dataDir, ...s.store])).stderr).toContain('this master key is not the one');
  });

  test('keys rotate-master keeps working: the rotated key file opens the store, a copy of the old one is refused', async () => {
    const s = await setUp(kind);
    const before = await fs.readFile(s.keyFile, 'utf8');
    await cli(['keys', 'rotate-master', '--data-dir', s.dataDir, ...s.store, '--retire-old']);
    const server = await startServer(s.dataDir, s.store);
    await server.stop();
    const rotated = await fs.readFile(s.keyFile, 'utf8');
    await writeKey(s.keyFile, before.trim());
    expect(await serveRefused(s)).toContain('this master key is not the one');
    await fs.writeFile(s.keyFile, rotated, { mode: 0o600 });
    await cli(['devices', 'list', '--data-dir', s.dataDir, ...s.store]);
  });
});

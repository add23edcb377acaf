import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { CSV_HEADER, csvLine, newDevice, writeCSV } from '../cli/fixtures';

/**
 * /readyz on a SQLite store with the software vault: not ready while the data directory cannot
 * be written, or while the vault cannot open the store's sealed keys; ready again after.
 */

let work: string;
let dataDir: string;
let server: ServerProcess;

async function readyz(): Promise<{ status: number; body: any }> {
  const r = await fetch(new URL('readyz', server.adminURL));
  return { status: r.status, body: await r.json() };
}

/** Polls /readyz until its status is `status` (bounded), and returns the last answer. */
async function readyzBecomes(status: number): Promise<{ status: number; body: any }> {
  let last = await readyz();
  for (let i = 0; i < 50 && last.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await readyz();
  }
  return last;
}

async function importOne(dir: string, devEUI: string): Promise<void> {
  await cli(['ns', 'add', '--data-dir', dir, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', `${dir}-ns`]);
  const csv = await writeCSV(`${dir}.csv`, [CSV_HEADER, csvLine(newDevice(devEUI, '1.1'))]);
  await cli(['devices', 'import', csv, '--data-dir', dir, '--ns', 'ns-a']);
}

function sql<T>(dir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(dir, 'joinery.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  work = await makeTempDir('readyz-sqlite');
  dataDir = path.join(work, 'data');
  await importOne(dataDir, '00000000000e0001');
  server = await startServer(dataDir);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

/** Makes `dir` unwritable (root ignores modes: it gets the immutable attribute) and returns the undo, or null if this machine cannot. */
function makeUnwritable(dir: string): (() => void) | null {
  if (process.getuid?.() !== 0) {
    execFileSync('chmod', ['0500', dir]);
    return () => execFileSync('chmod', ['0700', dir]);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return () => execFileSync('chattr', ['-i', dir]);
  } catch {
    return null;
  }
}

test('ops/readyz: 503 while the data directory cannot be written, 200 again after', async () => {
  expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
  const undo = makeUnwritable(dataDir);
  if (undo === null) throw new Error('cannot make a directory unwritable here (chattr +i refused)');
  try {
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.message).toContain(`the data directory ${dataDir} cannot be written`);
  } finally {
    undo();
  }
  expect((await readyzBecomes(200)).status).toBe(200);
});

test("ops/readyz: 503 while the vault cannot open the store's sealed keys (sealed under another master key), 200 again after", async () => {
  const other = path.join(work, 'other');
  await importOne(other, '00000000000e0001');
  const foreign = sql(other, (db) => (db.prepare('SELECT sealed_root_keys FROM devices').get() as { sealed_root_keys: Buffer }).sealed_root_keys);
  const own = sql(dataDir, (db) => (db.prepare('SELECT sealed_root_keys FROM devices').get() as { sealed_root_keys: Buffer }).sealed_root_keys);
  sql(dataDir, (db) => db.prepare('UPDATE devices SET sealed_root_keys = ?').run(foreign));
  try {
    const down = await readyzBecomes(503);
    expect(down.status).toBe(503);
    expect(down.body.message).toContain("the key vault cannot open the store's sealed keys");
  } finally {
    sql(dataDir, (db) => db.prepare('UPDATE devices SET sealed_root_keys = ?').run(own));
  }
  expect((await readyzBecomes(200)).status).toBe(200);
});

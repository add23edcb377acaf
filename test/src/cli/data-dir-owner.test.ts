import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir } from '../support/joinery-cli';
import { CSV_HEADER, csvLine, newDevice, writeCSV } from './fixtures';

/**
 * The CLI run as root against a service's data directory (owned by the service's user): the
 * files it creates there take the directory's owner and group, so the service can read them.
 * Needs root to give files away (the test suite runs as root in CI).
 */
const SERVICE = { uid: 12345, gid: 12346 };
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? test : test.skip;

async function owners(dir: string): Promise<Array<{ file: string; uid: number; gid: number }>> {
  const out: Array<{ file: string; uid: number; gid: number }> = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const s = await fs.lstat(file);
    out.push({ file, uid: s.uid, gid: s.gid });
    if (entry.isDirectory()) out.push(...(await owners(file)));
  }
  return out;
}

asRoot("cli/data-dir-owner/files root creates in a data directory another user owns are that user's", async () => {
  const work = await makeTempDir('owner');
  const dataDir = path.join(work, 'data');
  await fs.mkdir(dataDir, { mode: 0o700 });
  await fs.chown(dataDir, SERVICE.uid, SERVICE.gid);
  // Someone else's file in it stays theirs.
  await fs.writeFile(path.join(dataDir, 'notes.txt'), 'x');
  await fs.chown(path.join(dataDir, 'notes.txt'), 4242, 4242);
  const keyFile = path.join(work, 'api.key');
  await fs.writeFile(keyFile, 'secret-token\n', { mode: 0o600 });
  await cli([
    'ns',
    'add',
    '--name',
    'cs',
    '--net-id',
    '000013',
    '--vendor',
    'chirpstack',
    '--api-url',
    'http://127.0.0.1:1',
    '--api-key-file',
    keyFile,
    '--application-id',
    '6f1f6f2a-3a1e-4d5c-9b8a-1c2d3e4f5a6b',
    '--device-profile-id',
    '7a1f6f2a-3a1e-4d5c-9b8a-1c2d3e4f5a6b',
    '--out',
    path.join(work, 'bundle'),
    '--data-dir',
    dataDir,
  ]);
  await cli(['devices', 'import', await writeCSV(path.join(work, 'd.csv'), [CSV_HEADER, csvLine(newDevice('0004a30b001c0531', '1.0.3'))]), '--ns', 'cs', '--data-dir', dataDir]);
  const all = await owners(dataDir);
  expect(all.map((o) => path.relative(dataDir, o.file))).toEqual(expect.arrayContaining(['master.key', 'joinery.db', 'ca.key', 'server.key', 'adapter-keys', path.join('adapter-keys', 'cs.key')]));
  for (const o of all) {
    const expected = o.file.endsWith('notes.txt') ? { uid: 4242, gid: 4242 } : SERVICE;
    expect({ file: o.file, uid: o.uid, gid: o.gid }).toEqual({ file: o.file, ...expected });
  }
});

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI } from '../support/joinery-cli';

/**
 * A read-only command pointed at a folder without Joinery data (`devices list` in the wrong
 * directory) says so and creates nothing: no database, no new master key.
 */
const READ_ONLY: readonly (readonly string[])[] = [
  ['devices', 'list'],
  ['devices', 'show', '0004a30b001c0530'],
  ['devices', 'joins', '0004a30b001c0530'],
  ['audit', 'list'],
  ['audit', 'verify'],
  ['tenants', 'list'],
  ['api-keys', 'list', '--tenant', 'operator'],
  ['usage', '--since', '2020-01-01'],
  ['migrate', 'list'],
  ['migrate', 'report', 'mig-000000000000'],
  ['ns', 'list'],
  ['ns', 'show', 'my-ns'],
  ['as', 'list'],
  ['ns', 'disable', 'my-ns'],
];

let work: string;
beforeAll(async () => {
  work = await makeTempDir('missing-data');
});

test('cli/missing-data-dir/read-only commands refuse "no Joinery data directory at X" and create nothing', async () => {
  const dataDir = path.join(work, 'nowhere');
  for (const args of READ_ONLY) {
    const r = await runCLI([...args, '--data-dir', dataDir]);
    expect({ args, code: r.code, stderr: r.stderr.trim() }).toEqual({ args, code: 1, stderr: expect.stringContaining(`no Joinery data directory at ${dataDir}`) });
  }
  await expect(fs.access(dataDir)).rejects.toThrow();
});

test('cli/missing-data-dir/an empty directory is not a data directory either (no database, no master key made)', async () => {
  const empty = path.join(work, 'empty');
  await fs.mkdir(empty);
  const r = await runCLI(['devices', 'list', '--data-dir', empty]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`no Joinery database at ${path.join(empty, 'joinery.db')}`);
  expect(await fs.readdir(empty)).toEqual([]);
});

test('cli/missing-data-dir/once a command that writes made it, the read-only commands read it', async () => {
  const dataDir = path.join(work, 'made');
  await cli(['ns', 'add', '--name', 'ns-1', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'bundle'), '--data-dir', dataDir]);
  for (const args of READ_ONLY.filter((a) => a[1] === 'list' || a[0] === 'usage' || a[1] === 'verify')) {
    const r = await runCLI([...args, '--data-dir', dataDir]);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: expect.not.stringContaining('created') });
  }
});

import * as path from 'node:path';
import { cli, makeTempDir, runCLI } from '../support/joinery-cli';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { CSV_HEADER, csvLine, leakedKeys, newDevice, rootKeys, writeCSV } from './fixtures';

/**
 * `devices import --skip-existing`: the devices already there are reported (line and DevEUI) and
 * left as they are; the rest are imported. Without it the whole import is refused, as before.
 * On both stores.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe.each([
  ['sqlite', (): string[] => []],
  ['postgres', (): string[] => ['--store', db.url]],
])('cli/import-skip-existing on %s', (name, store) => {
  test('bound import (--ns): the existing are listed and kept, the new imported; without the flag nothing is', async () => {
    const work = await makeTempDir('skip');
    const backend = ['--data-dir', path.join(work, 'data'), ...store()];
    await cli(['ns', 'add', '--name', 'ns-s', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'b'), ...backend]);
    const first = [newDevice(`00000000005${name === 'sqlite' ? 'a' : 'b'}0001`, '1.0.3'), newDevice(`00000000005${name === 'sqlite' ? 'a' : 'b'}0002`, '1.1')];
    await cli(['devices', 'import', await writeCSV(path.join(work, 'first.csv'), [CSV_HEADER, ...first.map(csvLine)]), '--ns', 'ns-s', ...backend]);
    // The same DevEUI with another key: skipped, the stored device untouched.
    const again = newDevice(first[1]!.devEUI, '1.1');
    const fresh = [newDevice(`00000000005${name === 'sqlite' ? 'a' : 'b'}0003`, '1.0.4'), newDevice(`00000000005${name === 'sqlite' ? 'a' : 'b'}0004`, '1.0.3')];
    const file = await writeCSV(path.join(work, 'second.csv'), [CSV_HEADER, csvLine(fresh[0]!), csvLine(again), csvLine(fresh[1]!)]);

    const refused = await runCLI(['devices', 'import', file, '--ns', 'ns-s', ...backend]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`device ${again.devEUI} already exists`);

    const r = await cli(['devices', 'import', file, '--ns', 'ns-s', '--skip-existing', ...backend]);
    expect(r.stdout).toContain('imported 2 devices');
    expect(r.stderr).toContain('skipped 1 device that already exists');
    expect(r.stderr).toContain(`line 3: ${again.devEUI}`);
    expect(leakedKeys(r.stdout + r.stderr, [...first, again, ...fresh].flatMap(rootKeys))).toEqual([]);
    const list = JSON.parse((await cli(['devices', 'list', '--json', ...backend])).stdout) as Array<{ devEUI: string; macVersion: string }>;
    expect(list.map((d) => d.devEUI).sort()).toEqual([...first, ...fresh].map((d) => d.devEUI).sort());
    const audit = JSON.parse((await cli(['audit', 'list', '--json', ...backend])).stdout) as Array<{ action: string; detail: Record<string, unknown> }>;
    expect(audit.find((e) => e.action === 'device.import' && e.detail['skippedExisting'] === 1)?.detail).toMatchObject({ devices: 2 });
  });
});

test('cli/import-skip-existing/pre-provisioned (the admin API): skipped devices are reported, the rest get owner tokens', async () => {
  const work = await makeTempDir('skip-pre');
  const backend = ['--data-dir', path.join(work, 'data')];
  await cli(['tenants', 'add', '--id', 'maker', '--roles', 'manufacturer', ...backend]);
  const a = newDevice('00000000005c0001', '1.0.3');
  const b = newDevice('00000000005c0002', '1.0.3');
  await cli(['devices', 'import', await writeCSV(path.join(work, 'a.csv'), [CSV_HEADER, csvLine(a)]), '--as-tenant', 'maker', '--labels', path.join(work, 'l1.csv'), ...backend]);
  const r = await cli(['devices', 'import', await writeCSV(path.join(work, 'ab.csv'), [CSV_HEADER, csvLine(a), csvLine(b)]), '--as-tenant', 'maker', '--skip-existing', '--labels', path.join(work, 'l2.csv'), ...backend]);
  expect(r.stdout).toContain('imported 1 pre-provisioned device');
  expect(r.stderr).toContain(`line 2: ${a.devEUI}`);
});

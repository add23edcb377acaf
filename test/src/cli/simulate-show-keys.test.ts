import * as path from 'node:path';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { CSV_HEADER, csvLine, newDevice, parseSimulateOutput, sessionKeysOf, writeCSV } from './fixtures';

/**
 * `joinery simulate join --show-keys` prints the session keys: that is its job. It has a file
 * of its own, because every other CLI suite checks that its transcript holds no key.
 */

let work: string;
let server: ServerProcess;
const d104 = newDevice('0000000000000104', '1.0.4');
const d11 = newDevice('0000000000000110', '1.1');

beforeAll(async () => {
  work = await makeTempDir('cli-show-keys');
  const dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  await cli(['devices', 'import', await writeCSV(path.join(work, 'd.csv'), [CSV_HEADER, csvLine(d104), csvLine(d11)]), '--data-dir', dataDir, '--ns', 'ns-a']);
  server = await startServer(dataDir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

function simulate(d: typeof d104, ...extra: string[]) {
  return cli([
    'simulate',
    'join',
    '--bundle',
    path.join(work, 'ns-a'),
    '--url',
    server.biURL,
    '--dev-eui',
    d.devEUI,
    '--join-eui',
    d.joinEUI,
    '--mac-version',
    d.macVersion,
    '--app-key',
    d.appKey,
    ...(d.nwkKey ? ['--nwk-key', d.nwkKey] : []),
    ...extra,
  ]);
}

describe('cli/simulate join --show-keys', () => {
  test.each([
    ['1.0.4', d104, ['nwkSKey', 'appSKey']],
    ['1.1', d11, ['fNwkSIntKey', 'sNwkSIntKey', 'nwkSEncKey', 'appSKey']],
  ] as const)('cli/simulate join --show-keys/%s: prints the session keys the device derived', async (_name, d, names) => {
    const r = await simulate(d, '--show-keys');
    expect(r.stdout).toMatch(/^join verified$/m);
    const expected = sessionKeysOf(d, parseSimulateOutput(r.stdout));
    expect(Object.keys(expected)).toEqual(names);
    for (const [name, key] of Object.entries(expected)) expect(r.stdout).toMatch(new RegExp(`^ +${name} +${key}$`, 'm'));
    // Session keys only: the root keys stay secret even here.
    expect(r.stdout.toLowerCase()).not.toContain(d.appKey);
  });

  test('cli/simulate join --show-keys/--json carries them as deviceKeys', async () => {
    const r = await simulate(d104, '--show-keys', '--json');
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out['ok']).toBe(true);
    const expected = sessionKeysOf(d104, { devNonce: out['devNonce'], resultCode: out['resultCode'], joinNonce: out['joinAccept']['joinNonce'], netID: out['joinAccept']['netID'], optNeg: false });
    expect(out['deviceKeys']).toEqual(expected);
  });
});

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI, startServer } from '../support/joinery-cli';

/**
 * One configuration file serves `joinery serve` and every other command: a command takes from
 * it only the settings it declares, never a server setting whose flag one of its own options
 * shares (`ns add --mqtt-url` is the network server's broker, `mqtt.url` Joinery's).
 */
const ROOT = path.resolve(__dirname, '../../..');
const COMPOSE = path.join(ROOT, 'examples/docker-compose');

let work: string;
beforeAll(async () => {
  work = await makeTempDir('config-every');
});

test("ops/config-every-command/the compose example's joinery.yaml with its documented ns add", async () => {
  const readme = await fs.readFile(path.join(COMPOSE, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('joinery ns add '));
  expect(line).toBeDefined();
  const out = path.join(work, 'compose-bundle');
  // The documented command, its --out moved into the test's directory; the data directory of
  // the container's volume is the environment's (which overrides the file, as in the container).
  const args = line!
    .replace(/^joinery /, '')
    .replace(/--out \S+/, `--out ${out}`)
    .split(/\s+/);
  const r = await runCLI(args, { JOINERY_CONFIG: path.join(COMPOSE, 'joinery.yaml'), JOINERY_DATA_DIR: path.join(work, 'compose-data') });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('--mqtt') });
  await fs.access(path.join(out, 'chirpstack.toml'));
});

test('ops/config-every-command/joinery config example, with MQTT on, used by serve and every README command', async () => {
  const example = (await cli(['config', 'example'])).stdout;
  // Every server setting the example leaves commented out for want of a default, turned on
  // where it can be on this machine: Joinery's own MQTT broker.
  const text = example.replace(/^(\s*)# url: (mqtt:\/\/\S+)$/m, '$1url: $2');
  expect(text).toMatch(/^\s+url: mqtt:\/\//m);
  const file = path.join(work, 'joinery.yaml');
  await fs.writeFile(file, text);
  await cli(['config', 'check', file]);
  const dataDir = path.join(work, 'example-data');
  const env = { JOINERY_CONFIG: file, JOINERY_DATA_DIR: dataDir };
  const bundle = path.join(work, 'example-bundle');
  await cli(['ns', 'add', '--name', 'my-chirpstack', '--net-id', '000013', '--vendor', 'chirpstack', '--out', bundle], env);
  await cli(['ns', 'add', '--name', 'other-ns', '--net-id', '000014', '--vendor', 'generic', '--out', path.join(work, 'other-bundle')], env);
  await cli(['as', 'add', '--name', 'my-as', '--as-id', 'as.example', '--out', path.join(work, 'as-bundle')], env);
  const csv = path.join(work, 'devices.csv');
  await fs.writeFile(csv, 'dev_eui,join_eui,mac_version,app_key,nwk_key\n0004a30b001c0530,70b3d57ed0000000,1.0.3,2b7e151628aed2a6abf7158809cf4f3c,\n');
  await cli(['devices', 'import', csv, '--ns', 'my-chirpstack'], env);
  const server = await startServer(dataDir, [], env);
  try {
    const port = new URL(server.biURL).port;
    const join = await cli(
      [
        'simulate',
        'join',
        '--bundle',
        bundle,
        '--dev-eui',
        '0004a30b001c0530',
        '--join-eui',
        '70b3d57ed0000000',
        '--mac-version',
        '1.0.3',
        '--app-key',
        '2b7e151628aed2a6abf7158809cf4f3c',
        '--url',
        `https://localhost:${port}/bi/my-chirpstack`,
      ],
      env,
    );
    expect(join.stdout).toContain('join verified');
  } finally {
    await server.stop();
  }
  for (const args of [
    ['devices', 'list'],
    ['devices', 'show', '0004a30b001c0530'],
    ['devices', 'joins', '0004a30b001c0530'],
    ['devices', 'reset-dev-nonce', '0004a30b001c0530', '--reason', 'device reset'],
    ['audit', 'list'],
    ['audit', 'verify'],
    ['tenants', 'add', '--id', 'ops', '--roles', 'admin'],
    ['tenants', 'list'],
    ['api-keys', 'list', '--tenant', 'ops'],
    ['usage', '--since', '2020-01-01'],
    ['migrate', 'list'],
  ]) {
    const r = await runCLI(args, env);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
  }
}, 120_000);

test('ops/config-every-command/ns add and as add without --public-url: the BI URL of the server the configuration describes', async () => {
  const dataDir = path.join(work, 'public-url-data');
  const file = path.join(work, 'public-url.yaml');
  await fs.writeFile(file, ['bi:', '  listen: 0.0.0.0:9443', '  public_hosts: [js.example.com, 10.0.0.7]', ''].join('\n'));
  const fromFile = await cli(['ns', 'add', '--name', 'from-file', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'pu-1'), '--data-dir', dataDir, '--config', file]);
  expect(fromFile.stdout).toContain('BI URL: https://js.example.com:9443/bi/from-file');
  const fromEnv = await cli(['as', 'add', '--name', 'from-env', '--as-id', 'as.example', '--out', path.join(work, 'pu-2'), '--data-dir', dataDir], {
    JOINERY_BI_LISTEN: '[::]:7443',
    JOINERY_PUBLIC_HOST: 'js2.example.com',
  });
  expect(fromEnv.stdout).toContain('BI URL: https://js2.example.com:7443/bi/from-env');
  const given = await cli([
    'ns',
    'add',
    '--name',
    'given',
    '--net-id',
    '000013',
    '--vendor',
    'generic',
    '--out',
    path.join(work, 'pu-3'),
    '--data-dir',
    dataDir,
    '--config',
    file,
    '--public-url',
    'https://lb.example.com',
  ]);
  expect(given.stdout).toContain('BI URL: https://lb.example.com/bi/given');
  // The compose example: its listener's port and the public host its environment gives.
  const compose = await cli(['ns', 'add', '--name', 'compose', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'pu-4'), '--data-dir', dataDir], {
    JOINERY_CONFIG: path.join(COMPOSE, 'joinery.yaml'),
    JOINERY_PUBLIC_HOST: 'js.example.com',
  });
  expect(compose.stdout).toContain('BI URL: https://js.example.com:8003/bi/compose');
});

test("ops/config-every-command/bundles made again (ns bundle, renew-certificate, rotate-kek) and the local admin client's: the configured server's BI URL", async () => {
  const dataDir = path.join(work, 'reissue-data');
  const file = path.join(work, 'reissue.yaml');
  await fs.writeFile(file, ['bi:', '  listen: 0.0.0.0:9443', '  public_hosts: [js.example.com]', ''].join('\n'));
  await cli(['ns', 'add', '--name', 'again', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'again-0'), '--data-dir', dataDir, '--config', file]);
  const biURLOf = async (dir: string) => (JSON.parse(await fs.readFile(path.join(dir, 'peer.json'), 'utf8')) as { biURL: string }).biURL;
  const runs: Array<[string[], string]> = [
    [['ns', 'bundle', 'again'], 'again-1'],
    [['ns', 'renew-certificate', 'again'], 'again-2'],
    [['ns', 'rotate-kek', 'again'], 'again-3'],
  ];
  for (const [args, out] of runs) {
    await cli([...args, '--out', path.join(work, out), '--data-dir', dataDir, '--config', file]);
    expect([args, await biURLOf(path.join(work, out))]).toEqual([args, 'https://js.example.com:9443/bi/again']);
  }
  // The environment's server address, without a file.
  await cli(['ns', 'bundle', 'again', '--out', path.join(work, 'again-4'), '--data-dir', dataDir], { JOINERY_BI_LISTEN: '[::]:7443', JOINERY_PUBLIC_HOST: 'js2.example.com' });
  expect(await biURLOf(path.join(work, 'again-4'))).toBe('https://js2.example.com:7443/bi/again');

  // The admin API run in the CLI's process on the local data directory (what --url replaces),
  // in a node process of its own (app.inject's ESM dependency does not load under jest).
  const script = `
    const { openAdminClient, call } = require(${JSON.stringify(path.join(ROOT, 'core/dist/cli/admin-client.js'))});
    (async () => {
      const client = await openAdminClient({ dataDir: process.argv[1], biListen: '0.0.0.0:9443', publicHost: ['js.example.com'] });
      try {
        const made = await call(client, 'POST', '/network-servers', { name: 'local-api', netID: '000013', vendor: 'generic' });
        console.log(JSON.parse(made.bundle['peer.json']).biURL);
      } finally {
        await client.close();
      }
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const env = { ...process.env };
  delete env['JOINERY_PUBLIC_URL'];
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['-e', script, dataDir], { env }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
  expect(out.trim()).toBe('https://js.example.com:9443/bi/local-api');
});

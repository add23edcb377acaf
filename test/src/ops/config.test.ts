import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { configurationReference } from '../../../core/src/config/config-reference';
import { SETTINGS } from '../../../core/src/config/config-schema';
import { cli, makeTempDir, runCLI, startServer } from '../support/joinery-cli';

/** The configuration file (joinery.yaml), its precedence under JOINERY_* and flags, and its checks. */

let work: string;
beforeAll(async () => {
  work = await makeTempDir('config');
});

test('ops/config/file < environment < flag, on a running joinery serve', async () => {
  const dataDir = path.join(work, 'precedence');
  const file = path.join(work, 'precedence.yaml');
  await fs.writeFile(file, ['log:', '  level: error', '  format: pretty', 'bi:', '  public_hosts: [js.from-the-file.example]', ''].join('\n'));
  // log.level: file error, env warn, flag info -> info (the flag). log.format: file pretty,
  // env json -> json (the environment). bi.public_hosts: only the file -> the file.
  const server = await startServer(dataDir, ['--config', file, '--log-level', 'info'], { JOINERY_LOG_LEVEL: 'warn', JOINERY_LOG_FORMAT: 'json' });
  try {
    // stdout (the log) and stderr (the notes startServer waits for) arrive in either order.
    const listening = await eventually(() =>
      server
        .output()
        .split('\n')
        .find((l) => l.includes('join server listening')),
    );
    expect(listening).toBeDefined();
    expect(JSON.parse(listening!)).toMatchObject({ level: 30, msg: 'join server listening' });
    const cert = new X509Certificate(await fs.readFile(path.join(dataDir, 'server.crt')));
    expect(cert.subjectAltName).toContain('DNS:js.from-the-file.example');
  } finally {
    await server.stop();
  }
});

test('ops/config/JOINERY_CONFIG names the file, and the backend settings apply to every command', async () => {
  const dataDir = path.join(work, 'from-file-data');
  const file = path.join(work, 'backend.yaml');
  await fs.writeFile(file, `data_dir: ${JSON.stringify(dataDir)}\n`);
  await cli(['ns', 'add', '--name', 'ns-cfg', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-cfg')], { JOINERY_CONFIG: file });
  await fs.access(path.join(dataDir, 'joinery.db'));
  const again = await runCLI(['ns', 'add', '--name', 'ns-cfg', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-cfg-2'), '--config', file]);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('ns-cfg'); // the same store: the peer exists
});

test('ops/config/a bad file exits 2 naming every bad key and what was expected', async () => {
  const file = path.join(work, 'bad.yaml');
  await fs.writeFile(file, ['join:', '  used_dev_nonces: 0', 'bi:', '  listn: 127.0.0.1:8003', 'vault: hsm', 'mqtt:', '  url: http://broker', ''].join('\n'));
  const r = await runCLI(['serve', '--config', file, '--data-dir', path.join(work, 'never')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('join.used_dev_nonces: expected an integer 1..65536, got 0');
  expect(r.stderr).toContain('bi.listn: unknown setting (did you mean bi.listen?)');
  expect(r.stderr).toContain('vault: expected software or pkcs11, got "hsm"');
  expect(r.stderr).toContain('mqtt.url: expected mqtt://');
  await expect(fs.access(path.join(work, 'never'))).rejects.toThrow(); // nothing created
  const check = await runCLI(['config', 'check', file]);
  expect(check.code).toBe(2);
  expect(check.stderr).toContain('bi.listn');
});

test('ops/config/bad values from the environment or a flag are named as such', async () => {
  const env = await runCLI(['serve', '--data-dir', path.join(work, 'never')], { JOINERY_SESSION_HISTORY: 'lots' });
  expect(env.code).toBe(2);
  expect(env.stderr).toContain('JOINERY_SESSION_HISTORY: expected an integer 1..1000, got "lots"');
  const flag = await runCLI(['serve', '--data-dir', path.join(work, 'never'), '--log-format', 'xml']);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain('--log-format: expected auto, json or pretty, got "xml"');
  const missing = await runCLI(['serve', '--config', path.join(work, 'nope.yaml')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/nope\.yaml: not found/);
  const yaml = path.join(work, 'broken.yaml');
  await fs.writeFile(yaml, 'bi:\n  listen: [\n');
  const broken = await runCLI(['config', 'check', yaml]);
  expect(broken.code).toBe(2);
  expect(broken.stderr).toMatch(/broken\.yaml.*not valid YAML/);
});

test('ops/config/joinery config example: every setting, commented, at its default, and it checks', async () => {
  const r = await cli(['config', 'example']);
  for (const s of SETTINGS) {
    expect(r.stdout).toContain(s.env);
    expect(r.stdout).toContain(s.flag);
  }
  const file = path.join(work, 'example.yaml');
  await fs.writeFile(file, r.stdout);
  const check = await cli(['config', 'check', file]);
  expect(check.stdout).toContain('bi.listen = 127.0.0.1:8003');
  const parsed = parse(r.stdout) as Record<string, any>;
  for (const s of SETTINGS.filter((x) => x.default !== undefined)) {
    const [a, b] = s.key.split('.');
    expect({ key: s.key, value: b ? parsed[a!]?.[b] : parsed[a!] }).toEqual({ key: s.key, value: s.default });
  }
});

test('ops/config/docs/configuration.md is the generated reference (run: joinery config reference > docs/configuration.md)', async () => {
  const committed = await fs.readFile(path.resolve(__dirname, '../../../docs/configuration.md'), 'utf8');
  expect(committed).toBe(configurationReference());
});

async function eventually<T>(fn: () => T | undefined, ms = 5000): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { runCLI, type CLIResult } from '../support/joinery-cli';

/**
 * `joinery --help` and `joinery <command> --help`, as a new user reads them: they exit 0 and
 * document every flag (each on its own line, with a description).
 */

const BACKEND_FLAGS = ['--data-dir', '--store', '--vault', '--pkcs11-lib', '--pkcs11-token', '--pkcs11-pin-file'];

const COMMANDS: ReadonlyArray<{ readonly command: string; readonly flags: readonly string[]; readonly backend: boolean }> = [
  { command: 'serve', flags: ['--bi-listen', '--admin-listen', '--public-host', '--used-dev-nonces', '--log-level'], backend: true },
  {
    command: 'ns add',
    flags: [
      '--name',
      '--net-id',
      '--ns-id',
      '--vendor',
      '--kek-label',
      '--out',
      '--public-url',
      '--api-url',
      '--api-key',
      '--api-key-file',
      '--application-id',
      '--tenant-id',
      '--join-eui-prefix',
      '--mqtt-url',
      '--ns-config-dir',
      '--client-id',
      '--token-url',
      '--device-profile-id',
      '--connectivity-plan-id',
      '--routing-profile-id',
      '--join-server-id',
      '--device-class',
      '--service-profile-id',
      '--auth-scheme',
      '--page-size',
      '--rate-limit',
      '--max-concurrency',
    ],
    backend: true,
  },
  { command: 'ns sync', flags: ['--dry-run'], backend: true },
  { command: 'as add', flags: ['--name', '--as-id', '--kek-label', '--out', '--public-url'], backend: true },
  { command: 'devices import', flags: ['--ns', '--as', '--labels', '--url', '--api-key', '--as-tenant'], backend: true },
  { command: 'devices claim', flags: ['--owner-token', '--url', '--api-key', '--as-tenant'], backend: true },
  { command: 'devices bind', flags: ['--ns', '--net-id', '--ns-id', '--as', '--no-as', '--lock', '--unlock', '--url', '--api-key'], backend: true },
  { command: 'devices unclaim', flags: ['--url', '--api-key'], backend: true },
  { command: 'devices transfer', flags: ['--to', '--url', '--api-key'], backend: true },
  { command: 'devices regenerate-token', flags: ['--url', '--api-key'], backend: true },
  { command: 'devices delete', flags: ['--url', '--api-key'], backend: true },
  { command: 'tenants add', flags: ['--id', '--name', '--roles', '--url', '--api-key'], backend: true },
  { command: 'tenants list', flags: ['--json', '--url', '--api-key'], backend: true },
  { command: 'api-keys create', flags: ['--tenant', '--scopes', '--label', '--url', '--api-key'], backend: true },
  { command: 'api-keys list', flags: ['--tenant', '--url', '--api-key'], backend: true },
  { command: 'api-keys revoke', flags: ['--tenant', '--url', '--api-key'], backend: true },
  { command: 'audit verify', flags: ['--url', '--api-key'], backend: true },
  { command: 'usage', flags: ['--tenant', '--since', '--until', '--format', '--url', '--api-key'], backend: true },
  { command: 'devices list', flags: ['--ns', '--limit', '--offset', '--json'], backend: true },
  { command: 'devices show', flags: ['--json'], backend: true },
  // The simulator is a device and a network server: it never opens the Join Server's store or
  // vault, so it takes no backend flags.
  {
    command: 'simulate join',
    flags: [
      '--bundle',
      '--url',
      '--dev-eui',
      '--join-eui',
      '--mac-version',
      '--app-key',
      '--nwk-key',
      '--dev-nonce',
      '--dev-addr',
      '--protocol-version',
      '--no-opt-neg',
      '--rx-delay',
      '--cf-list',
      '--show-keys',
      '--json',
    ],
    backend: false,
  },
];

/** An option line of commander's help: the flag, its optional <value>, then a description. */
function documents(help: string, flag: string): boolean {
  const escaped = flag.replace(/[-]/g, '\\-');
  return new RegExp(`^\\s+(?:-\\w, )?${escaped}(?: <[^>]+>| \\[[^\\]]+\\])?\\s{2,}\\S`, 'm').test(help);
}

const USAGE_ERRORS = [
  ['an unknown command', ['frobnicate']],
  ['a missing required option', ['devices', 'claim', '0004a30b001c0530']],
  ['an unknown option', ['devices', 'list', '--frobnicate']],
] as const;

const helps = new Map<string, CLIResult>();
const usage = new Map<string, CLIResult>();
let version: CLIResult;

// All at once: each run starts a node process.
beforeAll(async () => {
  const all = ['', 'devices', ...COMMANDS.map((c) => c.command)];
  const [results, usageResults, v] = await Promise.all([
    Promise.all(all.map((c) => runCLI([...(c === '' ? [] : c.split(' ')), '--help']))),
    Promise.all(USAGE_ERRORS.map(([, args]) => runCLI(args))),
    runCLI(['--version']),
  ]);
  all.forEach((c, i) => helps.set(c, results[i]!));
  USAGE_ERRORS.forEach(([what], i) => usage.set(what, usageResults[i]!));
  version = v;
});

describe('cli/help', () => {
  test('cli/help/joinery --help exits 0 and lists every command', () => {
    const r = helps.get('')!;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: joinery/);
    for (const c of ['serve', 'ns', 'as', 'devices', 'simulate']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b.*\\S`, 'm'));
    expect(documents(r.stdout, '--version')).toBe(true);
  });

  test('cli/help/joinery devices --help exits 0 and lists its subcommands', () => {
    const r = helps.get('devices')!;
    expect(r.code).toBe(0);
    for (const s of ['import', 'list', 'show']) expect(r.stdout).toMatch(new RegExp(`^\\s+${s}\\b`, 'm'));
  });

  test.each(COMMANDS.map((c) => [c.command, c] as const))('cli/help/joinery %s --help exits 0 and documents every flag', (_name, c) => {
    const r = helps.get(c.command)!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: joinery ${c.command} `));
    const flags = [...c.flags, ...(c.backend ? BACKEND_FLAGS : []), '--help'];
    expect(flags.filter((f) => !documents(r.stdout, f))).toEqual([]);
  });

  test("cli/help/joinery serve --help names each setting's JOINERY_* variable", () => {
    const help = helps.get('serve')!.stdout.replace(/\s+/g, ' ');
    for (const v of ['JOINERY_DATA_DIR', 'JOINERY_STORE', 'JOINERY_VAULT', 'JOINERY_PKCS11_LIB', 'JOINERY_PKCS11_TOKEN', 'JOINERY_PKCS11_PIN_FILE', 'JOINERY_BI_LISTEN', 'JOINERY_ADMIN_LISTEN']) {
      expect(help).toContain(`env: ${v}`);
    }
  });

  test('cli/help/joinery ns add --help lists the vendors', () => {
    const help = helps.get('ns add')!.stdout.replace(/\s+/g, ' ');
    for (const v of ['chirpstack', 'the-things-stack', 'actility', 'loriot', 'orbiwise', 'generic']) expect(help).toContain(v);
  });

  test('cli/help/joinery devices import --help names the CSV columns', () => {
    expect(helps.get('devices import')!.stdout.replace(/\s+/g, '')).toContain('dev_eui,join_eui,mac_version,app_key,nwk_key');
  });

  test('cli/help/joinery --version prints the version and exits 0', () => {
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test.each(USAGE_ERRORS.map(([what]) => what))('cli/usage errors/%s exits 2 with a pointer to --help', (what) => {
    const r = usage.get(what)!;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain('--help');
  });
});

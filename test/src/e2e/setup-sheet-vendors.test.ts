import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, runCLI, transcript } from '../support/joinery-cli';

/**
 * `joinery ns add` for the vendors whose operators declare external Join Servers by hand:
 * the adapter's options are checked before anything is written, and the bundle gets the
 * setup sheet (Markdown and JSON, 0600: they hold the KEK) with the bundle's own certificates
 * and KEK in it. (Their APIs are faulted with nock in-process: test/src/adapters.)
 */

interface Case {
  readonly vendor: 'actility' | 'loriot' | 'orbiwise';
  readonly flags: readonly string[];
  /** A required vendor flag: without it, ns add fails naming it. */
  readonly required: string;
}

const CASES: Case[] = [
  {
    vendor: 'actility',
    flags: [
      '--api-url',
      'https://tpe.example.com',
      '--client-id',
      'sub-1/joinery',
      '--device-profile-id',
      'LORA/GenericA.1.0.3a_ETSI',
      '--connectivity-plan-id',
      'tpe-cs/tpe-cp',
      '--routing-profile-id',
      'TWA_1.1',
      '--rate-limit',
      '5',
    ],
    required: '--connectivity-plan-id',
  },
  { vendor: 'loriot', flags: ['--api-url', 'eu1', '--application-id', 'be7a0001', '--join-server-id', '70b3d57ed0000001', '--max-concurrency', '1'], required: '--application-id' },
  { vendor: 'orbiwise', flags: ['--api-url', 'https://owa.example.com', '--device-profile-id', 'dp-1', '--service-profile-id', 'sp-1', '--auth-scheme', 'bearer'], required: '--device-profile-id' },
];

describe.each(CASES)('e2e/ns add $vendor with an adapter', (c) => {
  let work: string;
  let dataDir: string;
  let keyFile: string;
  beforeAll(async () => {
    work = await makeTempDir(`sheet-${c.vendor}`);
    dataDir = path.join(work, 'data');
    keyFile = path.join(work, 'api.key');
    await fs.writeFile(keyFile, 'the-api-secret-4f1c9a\n', { mode: 0o600 });
  });

  const add = (name: string, netID: string, extra: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    runCLI(['ns', 'add', '--data-dir', dataDir, '--name', name, '--net-id', netID, '--vendor', c.vendor, '--out', path.join(work, name), '--join-eui-prefix', '70b3d57ed0000000/40', ...extra]);

  it("writes the setup sheet (Markdown, JSON; 0600) with the bundle's certificates, KEK and JoinEUI range", async () => {
    const r = await add('ns-a', '000013', [...c.flags, '--api-key-file', keyFile]);
    expect(r.code).toBe(0);
    const out = path.join(work, 'ns-a');
    for (const f of ['setup-sheet.md', 'setup-sheet.json']) expect(statSync(path.join(out, f)).mode & 0o777).toBe(0o600);
    const sheet = JSON.parse(await fs.readFile(path.join(out, 'setup-sheet.json'), 'utf8'));
    const kek = JSON.parse(await fs.readFile(path.join(out, 'kek.json'), 'utf8'));
    expect(sheet.vendor).toBe(c.vendor);
    expect(sheet.kek).toMatchObject({ label: kek.label, kek: kek.kek.toUpperCase() });
    expect(sheet.tls.caCertificate.pem).toBe(await fs.readFile(path.join(out, 'ca.crt'), 'utf8'));
    expect(sheet.tls.clientCertificate.pem).toBe(await fs.readFile(path.join(out, 'client.crt'), 'utf8'));
    expect(sheet.joinEUIRanges).toEqual([{ prefix: '70B3D57ED0000000/40', first: '70B3D57ED0000000', last: '70B3D57ED0FFFFFF' }]);
    expect(sheet.joinServer.url).toMatch(/^https:\/\/.*\/bi\/ns-a$/);
    const md = await fs.readFile(path.join(out, 'setup-sheet.md'), 'utf8');
    expect(md).toContain(kek.kek.toUpperCase());
    expect(md).not.toContain('PRIVATE KEY');
    expect(await fs.readFile(path.join(out, 'SETUP.txt'), 'utf8')).toContain('secure channel');
    if (c.vendor === 'loriot') expect(sheet.vendorSettings).toEqual({ joinServerId: '70B3D57ED0000001' });
    expect(transcript.join('\n')).not.toContain('the-api-secret-4f1c9a');
  });

  it('refuses a missing API key and a missing required option before writing anything', async () => {
    const noKey = await add('ns-b', '000014', c.flags);
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toContain('--api-key');
    const i = c.flags.indexOf(c.required);
    const without = [...c.flags.slice(0, i), ...c.flags.slice(i + 2)];
    const noOption = await add('ns-c', '000015', [...without, '--api-key-file', keyFile]);
    expect(noOption.code).not.toBe(0);
    expect(noOption.stderr).toContain(c.required);
    const badRate = await add('ns-d', '000016', [...c.flags, '--api-key-file', keyFile, '--rate-limit', 'fast']);
    expect(badRate.code).not.toBe(0);
    expect(badRate.stderr).toContain('--rate-limit');
    for (const n of ['ns-b', 'ns-c', 'ns-d']) await expect(fs.access(path.join(work, n))).rejects.toThrow();
  });
});

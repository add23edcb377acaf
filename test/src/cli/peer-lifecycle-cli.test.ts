import type * as SmolTOML from 'smol-toml' with { 'resolution-mode': 'require' };
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI } from '../support/joinery-cli';
import { readBundle } from '../support/network-server';

const { parse: parseTOML } = require('smol-toml') as typeof SmolTOML;

/**
 * The lifecycle commands' contract beyond the end-to-end test: the vendor files rendered again
 * (and what they need), application servers, and refusals with a clear message.
 */

let work: string;
let dataDir: string;
const SECRET = 'Bearer lifecycle-secret-0123456789';

beforeAll(async () => {
  work = await makeTempDir('peer-lifecycle-cli');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'cs', '--net-id', '000014', '--vendor', 'chirpstack', '--authorization-header', SECRET, '--out', path.join(work, 'cs-1')]);
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1.example.com', '--out', path.join(work, 'as-1')]);
}, 60_000);

describe('cli/peer lifecycle', () => {
  test('ns bundle and rotate-kek render the vendor files again, with the new certificate and KEK; the header secret must be given and match', async () => {
    const missing = await runCLI(['ns', 'bundle', 'cs', '--data-dir', dataDir, '--out', path.join(work, 'cs-x')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--authorization-header.*is missing/);
    const wrong = await runCLI(['ns', 'bundle', 'cs', '--data-dir', dataDir, '--out', path.join(work, 'cs-x'), '--authorization-header', 'Bearer not-the-one-0123456789']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/does not match/);
    await expect(fs.access(path.join(work, 'cs-x'))).rejects.toThrow();

    const bundled = await cli(['ns', 'bundle', 'cs', '--data-dir', dataDir, '--out', path.join(work, 'cs-2'), '--authorization-header', SECRET]);
    expect(bundled.stdout).toContain('chirpstack.toml');
    const first = await readBundle(path.join(work, 'cs-1'));
    const second = await readBundle(path.join(work, 'cs-2'));
    expect(second.cert).not.toBe(first.cert);
    expect(second.kek).toEqual(first.kek);
    const toml = parseTOML(await fs.readFile(path.join(work, 'cs-2', 'chirpstack.toml'), 'utf8')) as any;
    expect(toml.join_server.servers[0].authorization_header).toBe(SECRET);

    await cli(['ns', 'rotate-kek', 'cs', '--data-dir', dataDir, '--out', path.join(work, 'cs-3'), '--kek-label', '000014-b', '--authorization-header', SECRET]);
    const third = await readBundle(path.join(work, 'cs-3'));
    expect(third.kekLabel).toBe('000014-b');
    const rendered = await fs.readFile(path.join(work, 'cs-3', 'chirpstack.toml'), 'utf8');
    expect(rendered).toContain('000014-b');
    expect(rendered).toContain(third.kek.toString('hex'));
    // The same label again is refused: a new KEK needs a new label.
    const same = await runCLI(['ns', 'rotate-kek', 'cs', '--data-dir', dataDir, '--out', path.join(work, 'cs-4'), '--kek-label', '000014-b', '--authorization-header', SECRET]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/already labelled 000014-b/);

    // Neither printed a KEK.
    for (const r of [bundled]) expect(r.stdout + r.stderr).not.toContain(first.kek.toString('hex'));
    const shown = JSON.parse((await cli(['ns', 'show', 'cs', '--json', '--data-dir', dataDir])).stdout) as Record<string, any>;
    expect(shown).toMatchObject({ kekLabel: '000014-b', authorizationHeaderSet: true, state: 'enabled' });
    expect(shown['certificates'].map((c: { status: string }) => c.status)).toEqual(['accepted', 'accepted', 'current']);
    expect(JSON.stringify(shown)).not.toContain(third.kek.toString('hex'));
  });

  test('application servers: list, show, disable, renew with --retire-old, delete', async () => {
    const listed = await cli(['as', 'list', '--data-dir', dataDir]);
    expect(listed.stdout).toMatch(/^NAME\s+AS-ID\s+STATE\s+CERT EXPIRES\s+DEVICES\s+LAST JOIN\nas-1\s+as1\.example\.com\s+enabled\s+\d{4}-\d\d-\d\d\s+0\s+never/);
    await cli(['as', 'disable', 'as-1', '--data-dir', dataDir]);
    expect((await cli(['as', 'show', 'as-1', '--data-dir', dataDir])).stdout).toMatch(/state: disabled/);
    await cli(['as', 'renew-certificate', 'as-1', '--data-dir', dataDir, '--out', path.join(work, 'as-2'), '--retire-old']);
    const shown = JSON.parse((await cli(['as', 'show', 'as-1', '--json', '--data-dir', dataDir])).stdout) as { certificates: Array<{ status: string }> };
    expect(shown.certificates.map((c) => c.status)).toEqual(['retired', 'current']);
    const both = await runCLI(['as', 'renew-certificate', 'as-1', '--data-dir', dataDir, '--out', path.join(work, 'as-3'), '--retire-old', '--overlap', '1h']);
    expect(both.code).toBe(2);
    // An application server is not a network server, and the other way round.
    const wrongKind = await runCLI(['ns', 'disable', 'as-1', '--data-dir', dataDir]);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toMatch(/no network server named as-1/);
    expect((await cli(['as', 'delete', 'as-1', '--data-dir', dataDir])).stdout).toContain('deleted application server as-1');
    expect((await cli(['as', 'list', '--json', '--data-dir', dataDir])).stdout.trim()).toBe('[]');
  });
});

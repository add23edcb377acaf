import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CLI, cli, makeTempDir, runCLI, startServer } from '../support/joinery-cli';
import { CSV_HEADER } from './fixtures';

/**
 * What a person meets piping and pointing: `devices list | head` ends quietly (no EPIPE stack
 * trace), and a BI URL that is not HTTPS is named as such, not as an OpenSSL error.
 */
let work: string;
let dataDir: string;
const APP_KEY = '2b7e151628aed2a6abf7158809cf4f3c';

beforeAll(async () => {
  work = await makeTempDir('pipes');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--name', 'ns-p', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'bundle'), '--data-dir', dataDir]);
  // Far more rows than a pipe holds (64 KiB): the reader leaves while the table is being written.
  const rows = Array.from({ length: 3000 }, (_, i) => `${(0x1000 + i).toString(16).padStart(16, '0')},70b3d57ed0000000,1.0.3,${APP_KEY},`);
  await fs.writeFile(path.join(work, 'd.csv'), `${[CSV_HEADER, ...rows].join('\n')}\n`);
  await cli(['devices', 'import', path.join(work, 'd.csv'), '--ns', 'ns-p', '--data-dir', dataDir]);
}, 60_000);

test('cli/pipes/devices list | head: the reader leaving ends the output quietly, exit 0', async () => {
  const r = await new Promise<{ code: number | null; stderr: string; lines: string }>((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" devices list --limit 5000 --data-dir "${dataDir}" | head -n 2`]);
    let stderr = '';
    let lines = '';
    child.stdout.on('data', (c: Buffer) => (lines += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stderr, lines }));
  });
  expect(r.lines.split('\n').filter(Boolean)).toHaveLength(2);
  expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
  expect(r.code).toBe(0);
});

test('cli/urls/simulate join with an http:// URL, or an https:// one with plain HTTP behind it, says the BI listener is HTTPS', async () => {
  const server = await startServer(dataDir);
  try {
    const args = ['simulate', 'join', '--bundle', path.join(work, 'bundle'), '--dev-eui', '0000000000001000', '--join-eui', '70b3d57ed0000000', '--mac-version', '1.0.3', '--app-key', APP_KEY];
    const http = await runCLI([...args, '--url', server.biURL.replace('https:', 'http:')]);
    expect(http.code).toBe(1);
    expect(http.stderr).toContain('the Backend Interfaces listener is HTTPS (mutual TLS): expected an https:// URL, got http://');
    // The admin listener's port with https://: plain HTTP where TLS was expected.
    const admin = await runCLI([...args, '--url', server.adminURL.replace('http:', 'https:')]);
    expect(admin.code).toBe(1);
    expect(admin.stderr).toContain('no TLS server answered there');
    expect(admin.stderr).not.toMatch(/SSL routines|wrong version number|EPROTO/);
  } finally {
    await server.stop();
  }
});

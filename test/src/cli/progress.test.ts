import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CLI, cli, makeTempDir, runCLI } from '../support/joinery-cli';
import { CSV_HEADER } from './fixtures';

/**
 * Long work shows a bar with rate and ETA on a terminal (stderr), and nothing of it when the
 * output is not a terminal: piped, the command's output is its own lines only. The terminal is
 * a pseudo-terminal from util-linux's `script`.
 */
const run = promisify(execFile);
let work: string;

async function importFile(name: string, first: number, count: number): Promise<string> {
  const rows = Array.from({ length: count }, (_, i) => `${(first + i).toString(16).padStart(16, '0')},70b3d57ed0000000,1.0.3,2b7e151628aed2a6abf7158809cf4f3c,`);
  const file = path.join(work, name);
  await fs.writeFile(file, `${[CSV_HEADER, ...rows].join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  work = await makeTempDir('progress');
  await cli(['ns', 'add', '--name', 'ns-p', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'b'), '--data-dir', path.join(work, 'data')]);
});

test('cli/progress/devices import off a terminal: no progress output, only the summary', async () => {
  const r = await runCLI(['devices', 'import', await importFile('a.csv', 0x10000, 3000), '--ns', 'ns-p', '--data-dir', path.join(work, 'data')]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('imported 3000 devices (3000 LoRaWAN 1.0.x, 0 LoRaWAN 1.1), bound to network server ns-p\n');
  expect(r.stderr).not.toMatch(/importing|ETA|\r|\x1b\[/);
});

test('cli/progress/devices import on a terminal: a bar with the count, rate and ETA', async () => {
  const file = await importFile('b.csv', 0x20000, 3000);
  const command = [process.execPath, CLI, 'devices', 'import', file, '--ns', 'ns-p', '--data-dir', path.join(work, 'data')].map((a) => `'${a}'`).join(' ');
  // A terminal 200 columns wide, so that no frame is cut at the edge of `script`'s default 80.
  const { stdout } = await run('script', ['-qec', `stty cols 200; ${command}`, '/dev/null']);
  // The first frame is drawn before any device is imported (no rate, no ETA yet); the last
  // shows the count, the rate and nothing left.
  expect(stdout).toContain('importing [..............................] 0/3000 devices | - devices/s | ETA ?');
  expect(stdout).toMatch(/importing \[#{30}\] 3000\/3000 devices \| \d+ devices\/s \| ETA 0s/);
  expect(stdout).toContain('imported 3000 devices');
});

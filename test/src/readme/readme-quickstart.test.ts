import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startServer, type ServerProcess } from '../support/joinery-cli';

/**
 * The README's quickstart is a contract: its second-terminal commands are run here verbatim
 * (`npx joinery ...` resolves to this repository's CLI from a directory under the root, outside any workspace package, where npx would run in that package's directory instead), against a
 * running `joinery serve` on the same data directory (`./data` of that directory). Only the
 * environment differs: the server listens on a free port, and JOINERY_PUBLIC_URL says which.
 */
const ROOT = path.resolve(__dirname, '../../..');

function quickstartCommands(readme: string): string {
  const start = readme.indexOf('Then, in a second terminal');
  if (start < 0) throw new Error("README.md: the quickstart's second-terminal commands are gone");
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  if (!m) throw new Error('README.md: no sh block after "Then, in a second terminal"');
  return m[1]!;
}

let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
});

test('readme/quickstart commands run verbatim and verify a join', async () => {
  const commands = quickstartCommands(await fs.readFile(path.join(ROOT, 'README.md'), 'utf8'));
  expect(commands).toMatch(/joinery simulate join/);
  await fs.mkdir(path.join(ROOT, '.tmp'), { recursive: true });
  const cwd = await fs.mkdtemp(path.join(ROOT, '.tmp', 'readme-'));
  try {
    server = await startServer(path.join(cwd, 'data'));
    const port = new URL(server.biURL).port;
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', commands], { cwd, env: { ...process.env, JOINERY_PUBLIC_URL: `https://localhost:${port}` } });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect({ code: result.code, out: result.out }).toEqual({ code: 0, out: expect.stringContaining('join verified') });
  } finally {
    await server?.stop();
    server = undefined;
    await fs.rm(cwd, { recursive: true, force: true });
  }
}, 120_000);

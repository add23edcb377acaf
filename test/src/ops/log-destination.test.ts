import { execFile } from 'node:child_process';
import * as path from 'node:path';

const LOGGER = path.resolve(__dirname, '../../../core/dist/log/logger.js');

/** Runs `script` in a node process of its own (the logger on its real stdout), to its exit. */
function run(script: string): Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, JOINERY_LOGGER: LOGGER } }, (err, stdout, stderr) => {
      const e = err as { code?: number; signal?: string } | null;
      resolve({ stdout, stderr, code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null });
    });
  });
}

/**
 * The logger's own stdout destination (buffered, lines handed to sonic-boom as Buffers): every
 * line arrives whole and in order, UTF-8 intact, whether the process ends by `logger.flush` or
 * by a `process.exit` with lines still buffered, and key fields are still redacted.
 */
describe('ops/logs/stdout destination', () => {
  test('ops/logs/20,000 lines in one go, then process.exit at once: every line, in order, UTF-8 intact', async () => {
    const { stdout, code } = await run(`
      const { createLogger } = require(process.env.JOINERY_LOGGER);
      const log = createLogger({ format: 'json' });
      for (let i = 0; i < 20000; i++) log.info({ i, peer: 'réseau-ß-東京', AppKey: '00112233445566778899aabbccddeeff' }, 'ligne é');
      process.exit(0);
    `);
    expect(code).toBe(0);
    const lines = stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(20000);
    lines.forEach((l, i) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      expect(o).toMatchObject({ i, peer: 'réseau-ß-東京', msg: 'ligne é', AppKey: '[redacted]' });
    });
    expect(stdout).not.toContain('00112233445566778899aabbccddeeff');
  });

  test('ops/logs/logger.flush calls back once everything written so far is on stdout', async () => {
    const { stdout, stderr, signal } = await run(`
      const { createLogger } = require(process.env.JOINERY_LOGGER);
      const log = createLogger({ format: 'json' });
      for (let i = 0; i < 3000; i++) log.info({ i }, 'before the flush');
      log.flush(() => {
        process.stderr.write('flushed\\n');
        // Killed right after the flush: no exit handler runs, the lines must be out already.
        process.kill(process.pid, 'SIGKILL');
      });
    `);
    expect(signal).toBe('SIGKILL');
    expect(stderr).toContain('flushed');
    expect(stdout.split('\n').filter((l) => l !== '')).toHaveLength(3000);
  });
});

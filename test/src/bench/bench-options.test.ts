import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { BenchUsageError, parseBenchOptions, type BenchOptions } from '../../../bench/src/bench-options';

const parse = (...argv: string[]): BenchOptions | 'help' => parseBenchOptions(argv, {});

describe('bench options', () => {
  test('defaults: a full run of every section, results in bench-results.json', () => {
    const o = parse() as BenchOptions;
    expect(o).toMatchObject({ quick: false, out: 'bench-results.json', registry: 10_000, largeRegistry: 1_000_000, stormRegistry: 100_000 });
    expect([...o.sections]).toEqual(['joins', 'scale', 'storm', 'optional']);
  });

  test('--quick, --only, --out and --cpu-prof (and their environment variables)', () => {
    expect(parse('--quick', '--only', 'joins, scale', '--out', 'r.json', '--cpu-prof', '/tmp/p')).toMatchObject({ quick: true, out: 'r.json', cpuProfileDir: '/tmp/p', registry: 400 });
    expect([...(parse('--only', 'joins,scale') as BenchOptions).sections]).toEqual(['joins', 'scale']);
    expect(parseBenchOptions([], { JOINERY_BENCH_QUICK: '1', JOINERY_BENCH_OUT: 'e.json' })).toMatchObject({ quick: true, out: 'e.json' });
  });

  test('--seconds, --concurrency and --large-registry shorten a run; the warm-up is a quarter of the seconds', () => {
    expect(parse('--seconds', '2', '--concurrency', '64', '--large-registry', '10000')).toMatchObject({ seconds: 2, warmupSeconds: 0.5, concurrency: [64], largeRegistry: 10_000, registry: 10_000 });
    expect(parse('--quick', '--concurrency', '16,64')).toMatchObject({ quick: true, seconds: 0.4, concurrency: [16, 64] });
    expect(() => parse('--seconds', '0')).toThrow(/--seconds: expected a positive number/);
    expect(() => parse('--concurrency', '64,x')).toThrow(/--concurrency: expected a positive integer, got 'x'/);
    expect(() => parse('--large-registry', '1.5')).toThrow(BenchUsageError);
  });

  test('--help asks for the usage; an unknown flag, a missing value or an unknown section is a usage error', () => {
    expect(parse('--help')).toBe('help');
    expect(parse('-h')).toBe('help');
    expect(() => parse('--fast')).toThrow(BenchUsageError);
    expect(() => parse('--out')).toThrow(BenchUsageError);
    expect(() => parse('extra')).toThrow(BenchUsageError);
    expect(() => parse('--only', 'joins,storms')).toThrow(/unknown section 'storms'/);
  });

  test('the built bench prints its usage for --help (exit 0) and refuses an unknown flag (exit 2) without running', async () => {
    const main = path.resolve(__dirname, '../../../bench/dist/main.js');
    const run = (arg: string): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => execFile(process.execPath, [main, arg], (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr })));
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run bench/);
    const bad = await run('--fast');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fast/);
    expect(bad.stderr).not.toMatch(/full run/);
  });
});

import { parseArgs } from 'node:util';

/** What a run measures and how long: the full run, or the quick smoke run (`--quick`, JOINERY_BENCH_QUICK=1). */
export interface BenchOptions {
  readonly quick: boolean;
  /** Where bench-results.json goes. */
  readonly out: string;
  /** Concurrency levels of the join and HTTP floor runs. */
  readonly concurrency: readonly number[];
  /** Measured seconds of each closed-loop run, and its unmeasured warm-up. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /**
   * Seconds a freshly started server is run before it is measured (the large scale point, the
   * storm): a new process needs several seconds of load before its rate settles (V8 compiling
   * the hot path), which the join runs' server, warm from the runs before, does not.
   */
  readonly freshServerWarmupSeconds: number;
  /** Runs on each registry of the scale comparison, alternated. */
  readonly scalePairs: number;
  /** Restarts of the large registry's server, each way (connecting anew, resuming TLS sessions), alternated; and each one's seconds. */
  readonly restartPairs: number;
  readonly restartSeconds: number;
  /** Registry sizes: the join runs and the small scale point, the large scale point, the storm. */
  readonly registry: number;
  readonly largeRegistry: number;
  readonly stormRegistry: number;
  /** Sections to run (all by default; `--only joins,scale` for a partial run while profiling). */
  readonly sections: ReadonlySet<Section>;
  /** Directory for the server's CPU profiles (node --cpu-prof), when profiling. */
  readonly cpuProfileDir: string | undefined;
}

export const SECTIONS = ['joins', 'scale', 'storm', 'optional'] as const;
export type Section = (typeof SECTIONS)[number];

export const BENCH_USAGE = `usage: npm run bench -- [--quick] [--only SECTIONS] [--out FILE] [--cpu-prof DIR]
                         [--seconds S] [--concurrency LIST] [--large-registry N]

  --quick          a smoke run of about 20 s with a few hundred devices (numbers mean nothing);
                   also JOINERY_BENCH_QUICK=1
  --only SECTIONS  comma-separated, of ${SECTIONS.join(', ')} (default: all; the floors always run)
  --out FILE       where the results go (default bench-results.json; also JOINERY_BENCH_OUT)
  --cpu-prof DIR   every joinery serve of the run writes a CPU profile there
                   (also JOINERY_BENCH_CPU_PROF)
  --seconds S      measured seconds of each run (default 4; --quick 0.4), each after an
                   unmeasured warm-up of a quarter of it
  --concurrency LIST  comma-separated concurrency levels of the join and floor runs
                   (default 1,16,64,256)
  --large-registry N  devices of the large scale point (default 1000000; --quick 2000)
  --help           this text
`;

/** A flag the bench does not know, or a bad value: the message, then BENCH_USAGE, exit 2. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

/** The options of a run, or `help` (`--help`: print BENCH_USAGE). Bad flags throw BenchUsageError. */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
        'cpu-prof': { type: 'string' },
        seconds: { type: 'string' },
        concurrency: { type: 'string' },
        'large-registry': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new BenchUsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) return 'help';
  const quick = values.quick === true || env['JOINERY_BENCH_QUICK'] === '1';
  const sections = new Set<Section>(values.only !== undefined ? (values.only.split(',').map((s) => s.trim()) as Section[]) : SECTIONS);
  for (const s of sections) if (!SECTIONS.includes(s)) throw new BenchUsageError(`--only: unknown section '${s}' (sections: ${SECTIONS.join(', ')})`);
  const concurrency = values.concurrency === undefined ? [1, 16, 64, 256] : values.concurrency.split(',').map((c) => positive('--concurrency', c, true));
  const base = {
    out: values.out ?? env['JOINERY_BENCH_OUT'] ?? 'bench-results.json',
    concurrency,
    sections,
    cpuProfileDir: values['cpu-prof'] ?? env['JOINERY_BENCH_CPU_PROF'],
  };
  // The quick run's fresh server runs 1.2 s: long enough for a first whole second.
  const o = quick
    ? { ...base, quick, seconds: 0.4, warmupSeconds: 0.2, freshServerWarmupSeconds: 1.2, scalePairs: 1, restartPairs: 1, restartSeconds: 1.2, registry: 400, largeRegistry: 2_000, stormRegistry: 1_000 }
    : { ...base, quick, seconds: 4, warmupSeconds: 1, freshServerWarmupSeconds: 8, scalePairs: 3, restartPairs: 3, restartSeconds: 3, registry: 10_000, largeRegistry: 1_000_000, stormRegistry: 100_000 };
  const seconds = values.seconds === undefined ? undefined : positive('--seconds', values.seconds, false);
  return {
    ...o,
    ...(seconds !== undefined ? { seconds, warmupSeconds: seconds / 4 } : {}),
    ...(values['large-registry'] !== undefined ? { largeRegistry: positive('--large-registry', values['large-registry'], true) } : {}),
  };
}

/** A positive number (an integer when `integer`), else a usage error naming the flag. */
function positive(flag: string, text: string, integer: boolean): number {
  const x = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) throw new BenchUsageError(`${flag}: expected a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  return x;
}

/** Node's arguments for a `joinery serve` of the run: a CPU profile named `name` when profiling. */
export function serverNodeArgs(o: BenchOptions, name: string): string[] {
  return o.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [];
}

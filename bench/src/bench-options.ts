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

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick') || env['JOINERY_BENCH_QUICK'] === '1';
  const only = flag('--only');
  const sections = new Set<Section>(only ? (only.split(',') as Section[]) : SECTIONS);
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (sections: ${SECTIONS.join(', ')})`);
  const base = {
    out: flag('--out') ?? env['JOINERY_BENCH_OUT'] ?? 'bench-results.json',
    concurrency: [1, 16, 64, 256],
    sections,
    cpuProfileDir: flag('--cpu-prof') ?? env['JOINERY_BENCH_CPU_PROF'],
  };
  return quick
    ? { ...base, quick, seconds: 0.4, warmupSeconds: 0.2, registry: 400, largeRegistry: 2_000, stormRegistry: 1_000 }
    : { ...base, quick, seconds: 4, warmupSeconds: 1, registry: 10_000, largeRegistry: 1_000_000, stormRegistry: 100_000 };
}

import type { BenchMACVersion } from './bench-devices';
import type { RunningServer } from './joinery-cli';
import type { LoadGeneratorProcess, PreparedLoad } from './load-generator-process';
import type { LoadPlan, LoadReport, Schedule } from './load-plan';
import type { Registry } from './registry';

export interface JoinRunOptions {
  /** Every `replayEvery`th successful join is sent again (a deliberate replay). */
  readonly replayEvery?: number;
  /** The rate the trace is sized for (see LoadPlan.expectedPerSecond). */
  readonly expectedPerSecond?: number;
  /** A TLS session every new connection offers (see LoadPlan.resumeSession). */
  readonly resumeSession?: string;
}

/**
 * Prepares a join plan on a registry (on one server, or spread over instances sharing its
 * store): the load generator builds its JoinReqs. Running it moves the registry's DevNonces past
 * the ones the run used.
 */
export async function prepareJoinRun(
  load: LoadGeneratorProcess,
  servers: RunningServer | readonly RunningServer[],
  registry: Registry,
  concurrency: number,
  macVersion: BenchMACVersion | null,
  schedule: Schedule,
  options: JoinRunOptions = {},
): Promise<PreparedLoad> {
  const plan: LoadPlan = {
    urls: (Array.isArray(servers) ? servers : [servers]).map((s: RunningServer) => s.url),
    tls: registry.tls,
    concurrency,
    traffic: { kind: 'joins', seed: registry.seed, registrySize: registry.size, macVersion, nonceBase: registry.nonceBase, ...(options.replayEvery ? { replayEvery: options.replayEvery } : {}) },
    schedule,
    ...(options.expectedPerSecond ? { expectedPerSecond: options.expectedPerSecond } : {}),
    ...(options.resumeSession ? { resumeSession: options.resumeSession } : {}),
  };
  const prepared = await load.prepare(plan);
  return {
    ...prepared,
    run: async () => {
      const report = await prepared.run();
      registry.nonceBase += report.visitsPerDevice;
      return report;
    },
  };
}

/** Prepares and runs a join plan (see prepareJoinRun). */
export async function joinRun(
  load: LoadGeneratorProcess,
  servers: RunningServer | readonly RunningServer[],
  registry: Registry,
  concurrency: number,
  macVersion: BenchMACVersion | null,
  schedule: Schedule,
  options: JoinRunOptions = {},
): Promise<LoadReport> {
  return (await prepareJoinRun(load, servers, registry, concurrency, macVersion, schedule, options)).run();
}

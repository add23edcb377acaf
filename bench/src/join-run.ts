import type { BenchMACVersion } from './bench-devices';
import type { RunningServer } from './joinery-cli';
import type { LoadGeneratorProcess } from './load-generator-process';
import type { LoadPlan, LoadReport, Schedule } from './load-plan';
import type { Registry } from './registry';

/**
 * Runs a join plan on a registry (on one server, or spread over instances sharing its store),
 * then moves the registry's DevNonces past the ones the run used.
 */
export async function joinRun(
  load: LoadGeneratorProcess,
  servers: RunningServer | readonly RunningServer[],
  registry: Registry,
  concurrency: number,
  macVersion: BenchMACVersion | null,
  schedule: Schedule,
  replayEvery?: number,
): Promise<LoadReport> {
  const plan: LoadPlan = {
    urls: (Array.isArray(servers) ? servers : [servers]).map((s: RunningServer) => s.url),
    tls: registry.tls,
    concurrency,
    traffic: { kind: 'joins', seed: registry.seed, registrySize: registry.size, macVersion, nonceBase: registry.nonceBase, ...(replayEvery ? { replayEvery } : {}) },
    schedule,
  };
  const report = await load.run(plan);
  registry.nonceBase += report.visitsPerDevice;
  return report;
}

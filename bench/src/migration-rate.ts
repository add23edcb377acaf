import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { OptionalRow } from './results';

/**
 * The migration-rate row: how many devices per second a fleet migration moves from one network
 * server to another (registering on the target, rebinding, deregistering from the source; no
 * re-keying), as a ratio to the vendor rate limit it was given (each device needs one call to
 * each vendor, so the limit is the most it may do; goal >= 0.9). It runs core's migration
 * benchmark (`core/dist/bench/migration-bench.js`: the real runner and SQLite journal, the two
 * vendors' APIs simulated in memory with a fixed latency per call) in its own process and reads
 * the JSON line it prints.
 */
const MIGRATION_BENCH = path.resolve(__dirname, '../../core/dist/bench/migration-bench.js');
const RATE_PER_VENDOR = 200;
const API_LATENCY_MS = 20;

interface MigrationBenchOutput {
  readonly devices: number;
  readonly seconds: number;
  readonly devicesPerSecond: number;
  readonly vendorRateLimitPerSecond: number;
  readonly ratioToRateLimit: number;
  readonly concurrency: number;
}

export async function migrationRateRow(quick: boolean): Promise<OptionalRow> {
  const devices = quick ? 200 : 2000;
  const { stdout } = await promisify(execFile)(process.execPath, [MIGRATION_BENCH, String(devices), String(RATE_PER_VENDOR), String(API_LATENCY_MS)], { maxBuffer: 1 << 20 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const r = JSON.parse(line) as MigrationBenchOutput;
  return {
    status: 'measured',
    lines: [
      `cutover of ${r.devices} devices, vendor APIs at ${API_LATENCY_MS} ms per call limited to ${r.vendorRateLimitPerSecond}/s (concurrency ${r.concurrency}): ` +
        `${r.seconds.toFixed(1)} s, ${r.devicesPerSecond.toFixed(1)} devices/s = ${r.ratioToRateLimit.toFixed(2)} of the rate limit (goal >= 0.90)`,
    ],
    values: { devices: r.devices, seconds: r.seconds, devicesPerSecond: r.devicesPerSecond, rateLimitPerSecond: r.vendorRateLimitPerSecond, ratioToRateLimit: r.ratioToRateLimit },
  };
}

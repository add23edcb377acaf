import type { MigrationSummary } from './migration-report';
import { describeCounts } from './migration-report';

/** Devices that need nothing more (of the forward move, or of a rollback). */
export function settledCount(s: MigrationSummary): number {
  const c = s.counts;
  return c.done + c.expired + c.parked + c['rolled-back'];
}

/**
 * Rate and ETA from successive samples of the settled count (a sliding window of about 10 s,
 * so the rate follows the migration's current pace rather than its average since the start).
 */
export class ProgressMeter {
  readonly #samples: Array<{ at: number; settled: number }> = [];

  constructor(readonly windowMs = 10_000) {}

  /** Devices settled per second over the window; null until two samples are apart. */
  sample(settled: number, at = Date.now()): number | null {
    this.#samples.push({ at, settled });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > this.windowMs) this.#samples.shift();
    const first = this.#samples[0]!;
    const dt = (at - first.at) / 1000;
    return dt > 0 ? (settled - first.settled) / dt : null;
  }
}

export interface ProgressView {
  readonly summary: MigrationSummary;
  readonly ratePerSecond: number | null;
}

/**
 * Time left at the current rate: `0s` when nothing is left, `?` while no rate is known yet (an
 * ETA from no samples would be a guess), then `45s`, `3m5s`, `1h2m`.
 */
export function etaText(left: number, ratePerSecond: number | null): string {
  if (left <= 0) return '0s';
  if (!ratePerSecond || ratePerSecond <= 0) return '?';
  const s = Math.ceil(left / ratePerSecond);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** A plain log line of a migration's progress, for output that is not a terminal (there: cli/terminal-progress.ts). */
export function progressLine(v: ProgressView): string {
  const s = v.summary;
  const rate = v.ratePerSecond === null ? '-' : v.ratePerSecond.toFixed(1);
  return `${new Date().toISOString()} ${s.id} ${s.status}: ${settledCount(s)}/${s.total} settled, ${rate} devices/s, ETA ${etaText(s.total - settledCount(s), v.ratePerSecond)}; ${describeCounts(s.counts)}`;
}

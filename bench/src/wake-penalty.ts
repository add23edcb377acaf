import { setTimeout as sleep } from 'node:timers/promises';
import { joinCrypto } from './crypto-floor';

/** The crypto of this many joins is one unit of work (about what one turn of the event loop does for one join: 50-100 µs). */
const JOINS_PER_UNIT = 5;

export interface WakePenalty {
  /** How long the process sleeps before each unit of the second series. */
  readonly pauseMs: number;
  /** Median µs of one unit of work, units back to back. */
  readonly backToBackMicros: number;
  /** Median µs of the same unit right after a pause (the CPU idle meanwhile, unless something else ran). */
  readonly afterPauseMicros: number;
  /** afterPauseMicros / backToBackMicros. */
  readonly ratio: number;
}

/**
 * The machine's wake-up cost: the same unit of work (the crypto of 5 joins, all in this
 * process's memory) timed back to back, then right after a short sleep. On a machine whose idle
 * cores lose their caches or their speed (a VM's vCPU that halts, a power-saving core) the unit
 * after a pause takes longer: every request of an open loop that meets an idle server pays it,
 * which is why the server's CPU per join rises as the load falls. Only the unit is timed, never
 * the sleep.
 */
export async function wakePenalty(seconds: number, pauseMs = 1): Promise<WakePenalty> {
  const { join } = joinCrypto('1.0.3');
  const unit = (): number => {
    const started = performance.now();
    for (let i = 0; i < JOINS_PER_UNIT; i++) join();
    return (performance.now() - started) * 1000;
  };
  const series = async (pause: boolean, forMs: number): Promise<number> => {
    const times: number[] = [];
    const end = performance.now() + forMs;
    while (performance.now() < end || times.length < 5) {
      if (pause) await sleep(pauseMs);
      times.push(unit());
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  };
  await series(false, 200); // warm-up: the code compiled, the keys' contexts made
  const backToBackMicros = await series(false, (seconds * 1000) / 2);
  const afterPauseMicros = await series(true, (seconds * 1000) / 2);
  return { pauseMs, backToBackMicros, afterPauseMicros, ratio: afterPauseMicros / backToBackMicros };
}

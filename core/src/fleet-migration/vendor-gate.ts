import { performance } from 'node:perf_hooks';
import { sleep } from '../retry/backoff';
import type { VendorLimit } from './vendor-limits';

/**
 * Paces a migration's calls to one vendor's API: at most `concurrency` in flight, started at
 * most `ratePerSecond` a second, evenly spaced (each call takes the next free slot, so a steady
 * demand runs at exactly the rate, with no bursts). `pause` (after a 429) moves the next free
 * slot later, slowing every caller down without failing any.
 */
export class VendorGate {
  #nextSlot = 0;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #interval: number;

  constructor(
    readonly vendor: string,
    readonly limit: VendorLimit,
  ) {
    this.#interval = 1000 / limit.ratePerSecond;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.limit.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inFlight++;
    try {
      const now = performance.now();
      const slot = Math.max(now, this.#nextSlot);
      this.#nextSlot = slot + this.#interval;
      if (slot - now >= 1) await sleep(slot - now);
      return await call();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next caller
      else this.#inFlight--;
    }
  }

  /** No call starts in the next `ms` milliseconds. */
  pause(ms: number): void {
    this.#nextSlot = Math.max(this.#nextSlot, performance.now() + ms);
  }
}

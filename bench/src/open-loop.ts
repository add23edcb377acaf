/**
 * Requests at fixed times (i / perSecond, from the loop's start), at most `cap` in flight;
 * `fire` gets each request's scheduled time and how late it leaves (`lagMs`: the generator's
 * own event loop, or `cap` reached), so latency can be counted from the scheduled time.
 *
 * What the loop costs a request must not grow with `cap`: a free slot is waited for by one
 * resolver that the request ending first calls, never by `Promise.race` over the requests in
 * flight, which attaches a reaction to each of them every time it is called. At a cap of 256
 * that cost the load generator about 150 µs a request, more than the request itself, and the
 * loop, once behind, never caught up (bench/README.md).
 */
export async function openLoop(perSecond: number, seconds: number, cap: number, fire: (i: number, scheduledAt: number, lagMs: number) => PromiseLike<unknown>): Promise<void> {
  const started = performance.now();
  const total = Math.floor(perSecond * seconds);
  let inFlight = 0;
  let slotFreed: (() => void) | null = null;
  const ended = (): void => {
    inFlight--;
    const wake = slotFreed;
    slotFreed = null;
    wake?.();
  };
  const slot = (): Promise<void> => new Promise((resolve) => (slotFreed = resolve));
  for (let i = 0; i < total; i++) {
    const at = started + (i * 1000) / perSecond;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight >= cap) await slot();
    inFlight++;
    fire(i, at, Math.max(0, performance.now() - at)).then(ended, ended);
  }
  while (inFlight > 0) await slot();
}

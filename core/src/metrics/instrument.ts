import type { LatencyHistogram } from './latency-histogram';

/**
 * The same object, with the duration of every asynchronous method call observed in a histogram
 * labelled by operation (the method's name: a fixed set) and outcome (`ok`, `error`). For the
 * store and the key vault at the composition root: their classes stay as they are. Synchronous
 * methods and properties pass through untouched.
 *
 * Built once, not a Proxy: an object of the target's class (so `instanceof` still holds) with
 * a timing wrapper of its own for every method of the target's classes, and every other
 * property (fields, getters) read and written through to the target. A Proxy's `get` trap ran on
 * every method looked up, some ten times a join.
 */
export function instrumented<T extends object>(target: T, histogram: LatencyHistogram<'operation' | 'outcome'>): T {
  const out = Object.create(Object.getPrototypeOf(target) as object | null) as T;
  for (let holder: object | null = target; holder !== null && holder !== Object.prototype; holder = Object.getPrototypeOf(holder) as object | null) {
    for (const name of Object.getOwnPropertyNames(holder)) {
      // The nearest definition wins, as in a property lookup.
      if (name === 'constructor' || Object.prototype.hasOwnProperty.call(out, name)) continue;
      const d = Object.getOwnPropertyDescriptor(holder, name)!;
      if (typeof d.value === 'function') Object.defineProperty(out, name, { value: timed(target, name, d.value as (...args: unknown[]) => unknown, histogram) });
      else
        Object.defineProperty(out, name, {
          get: () => (target as Record<string, unknown>)[name],
          set: (v: unknown) => void ((target as Record<string, unknown>)[name] = v),
          enumerable: d.enumerable ?? false,
        });
    }
  }
  return out;
}

/** `fn` called on `target`, its promise's settling observed under `operation`. */
function timed(target: object, operation: string, fn: (...args: unknown[]) => unknown, histogram: LatencyHistogram<'operation' | 'outcome'>): (...args: unknown[]) => unknown {
  // Each outcome's series, looked up once, at its first observation.
  let ok: ((seconds: number) => void) | undefined;
  let error: ((seconds: number) => void) | undefined;
  return function (...args: unknown[]): unknown {
    const started = performance.now();
    const result = fn.apply(target, args);
    if (!isPromise(result)) return result;
    return result.then(
      (v) => {
        (ok ??= histogram.series({ operation, outcome: 'ok' }))((performance.now() - started) / 1000);
        return v;
      },
      (err: unknown) => {
        (error ??= histogram.series({ operation, outcome: 'error' }))((performance.now() - started) / 1000);
        throw err;
      },
    );
  };
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

import type { LatencyHistogram } from './latency-histogram';

/**
 * The same object, with the duration of every asynchronous method call observed in a histogram
 * labelled by operation (the method's name: a fixed set) and outcome (`ok`, `error`). For the
 * store and the key vault at the composition root: their classes stay as they are. Synchronous
 * methods and properties pass through untouched.
 */
export function instrumented<T extends object>(target: T, histogram: LatencyHistogram<'operation' | 'outcome'>): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const fn = value as (...args: unknown[]) => unknown;
        // Each outcome's series, looked up once, at its first observation.
        let ok: ((seconds: number) => void) | undefined;
        let error: ((seconds: number) => void) | undefined;
        wrapper = function (this: unknown, ...args: unknown[]): unknown {
          const started = performance.now();
          const result = fn.apply(obj, args);
          if (!isPromise(result)) return result;
          return result.then(
            (v) => {
              (ok ??= histogram.series({ operation: prop, outcome: 'ok' }))((performance.now() - started) / 1000);
              return v;
            },
            (err: unknown) => {
              (error ??= histogram.series({ operation: prop, outcome: 'error' }))((performance.now() - started) / 1000);
              throw err;
            },
          );
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

import type { Histogram } from 'prom-client';

/**
 * The same object, with the duration of every asynchronous method call observed in a histogram
 * labelled by operation (the method's name: a fixed set) and outcome (`ok`, `error`). For the
 * store and the key vault at the composition root: their classes stay as they are. Synchronous
 * methods and properties pass through untouched.
 */
export function instrumented<T extends object>(target: T, histogram: Histogram<'operation' | 'outcome'>): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const fn = value as (...args: unknown[]) => unknown;
        wrapper = function (this: unknown, ...args: unknown[]): unknown {
          const started = process.hrtime.bigint();
          const result = fn.apply(obj, args);
          if (!isPromise(result)) return result;
          const observe = (outcome: 'ok' | 'error'): void => histogram.observe({ operation: prop, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
          return result.then(
            (v) => {
              observe('ok');
              return v;
            },
            (err: unknown) => {
              observe('error');
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

import type { LatencyHistogram } from './latency-histogram';

type Histogram = LatencyHistogram<'operation' | 'outcome'>;

/** What each instrumented object holds: its target, and its histogram's series, each looked up once at its first observation. */
interface TimingState {
  readonly target: object;
  readonly histogram: Histogram;
  readonly series: Map<string, (seconds: number) => void>;
}

const STATE = Symbol('instrumented');

interface Instrumented {
  readonly [STATE]: TimingState;
}

/**
 * The same object, with the duration of every asynchronous method call observed in a histogram
 * labelled by operation (the method's name: a fixed set) and outcome (`ok`, `error`). For the
 * store and the key vault at the composition root: their classes stay as they are. Synchronous
 * methods and properties pass through untouched.
 *
 * Built once, not a Proxy (a Proxy's `get` trap ran on every method looked up, some ten times a
 * join): an object whose prototype is its class's timing prototype (below), so `instanceof`
 * still holds, holding the target and the histogram. Every instrumented object of a class
 * shares that prototype and so the same functions and the same shape: the code V8 compiles for
 * the engine over the warm-up's objects (warm-up.ts) is the code the real server's objects
 * run. With a timing function of its own per object, as before, each first call on the real
 * objects threw that code away ("wrong call target").
 */
export function instrumented<T extends object>(target: T, histogram: Histogram): T {
  const proto = Object.getPrototypeOf(target) as object | null;
  const out = Object.create(proto === null ? null : timingPrototypeOf(proto)) as T & { [STATE]: TimingState };
  Object.defineProperty(out, STATE, { value: { target, histogram, series: new Map() } satisfies TimingState });
  // The target's own properties (instance fields, functions set in a constructor): on this object.
  for (const name of Object.getOwnPropertyNames(target)) Object.defineProperty(out, name, passThrough(name, Object.getOwnPropertyDescriptor(target, name)!));
  return out;
}

/** Per class (its prototype): the prototype of its instrumented objects, made at the first one. */
const timingPrototypes = new WeakMap<object, object>();

/** A timing wrapper for every method of the class's prototypes, the nearest definition winning (as in a property lookup); fields and getters passed through. */
function timingPrototypeOf(proto: object): object {
  let timing = timingPrototypes.get(proto);
  if (timing !== undefined) return timing;
  timing = Object.create(proto) as object;
  for (let holder: object | null = proto; holder !== null && holder !== Object.prototype; holder = Object.getPrototypeOf(holder) as object | null) {
    for (const name of Object.getOwnPropertyNames(holder)) {
      if (name === 'constructor' || Object.prototype.hasOwnProperty.call(timing, name)) continue;
      Object.defineProperty(timing, name, passThrough(name, Object.getOwnPropertyDescriptor(holder, name)!));
    }
  }
  timingPrototypes.set(proto, timing);
  return timing;
}

/** A method timed, any other property read and written through to the target. */
function passThrough(name: string, d: PropertyDescriptor): PropertyDescriptor {
  if (typeof d.value === 'function') return { value: timed(name, d.value as (...args: unknown[]) => unknown) };
  return {
    get(this: Instrumented) {
      return (this[STATE].target as Record<string, unknown>)[name];
    },
    set(this: Instrumented, v: unknown) {
      (this[STATE].target as Record<string, unknown>)[name] = v;
    },
    enumerable: d.enumerable ?? false,
  };
}

/** `fn` called on the target, its promise's settling observed under `operation`. */
function timed(operation: string, fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const ok = `${operation}/ok`;
  const error = `${operation}/error`;
  return function (this: Instrumented, ...args: unknown[]): unknown {
    const state = this[STATE];
    const started = performance.now();
    const result = fn.apply(state.target, args);
    if (!isPromise(result)) return result;
    return result.then(
      (v) => {
        observe(state, ok, operation, 'ok', (performance.now() - started) / 1000);
        return v;
      },
      (err: unknown) => {
        observe(state, error, operation, 'error', (performance.now() - started) / 1000);
        throw err;
      },
    );
  };
}

function observe(state: TimingState, key: string, operation: string, outcome: 'ok' | 'error', seconds: number): void {
  let series = state.series.get(key);
  if (series === undefined) {
    series = state.histogram.series({ operation, outcome });
    state.series.set(key, series);
  }
  series(seconds);
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

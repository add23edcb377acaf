import { Registry } from 'prom-client';
import { instrumented } from './instrument';
import { LatencyHistogram } from './latency-histogram';

class Base {
  readonly kind = 'base';
  async inherited(): Promise<string> {
    return 'inherited';
  }
}

/** A class like the stores and vaults: private fields, a getter, sync and async methods, one overridden. */
class Subject extends Base {
  #calls = 0;
  label = 'first';
  get calls(): number {
    return this.#calls;
  }
  async read(n: number): Promise<number> {
    this.#calls++;
    return n * 2;
  }
  async fail(): Promise<never> {
    this.#calls++;
    throw new Error('store down');
  }
  now(): number {
    this.#calls++;
    return 42;
  }
  override async inherited(): Promise<string> {
    return `overridden ${await super.inherited()}`;
  }
}

async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'test_latency_seconds')!;
  const out: Record<string, number> = {};
  // A histogram's values carry the name of the series they belong to (`_bucket`, `_sum`, `_count`).
  for (const v of metric.values as ReadonlyArray<(typeof metric.values)[number] & { metricName?: string }>) {
    if (v.metricName === 'test_latency_seconds_count') out[`${v.labels['operation']}/${v.labels['outcome']}`] = v.value;
  }
  return out;
}

describe('instrumented', () => {
  const setup = () => {
    const registry = new Registry();
    const histogram = new LatencyHistogram({ name: 'test_latency_seconds', help: 'test', labelNames: ['operation', 'outcome'] as const, buckets: [0.001, 1], registers: [registry] });
    const target = new Subject();
    return { registry, target, subject: instrumented(target, histogram) };
  };

  test('every asynchronous call is observed by operation and outcome, on the target itself (private fields and all)', async () => {
    const { registry, target, subject } = setup();
    expect(await subject.read(2)).toBe(4);
    expect(await subject.read(3)).toBe(6);
    await expect(subject.fail()).rejects.toThrow('store down');
    expect(await subject.inherited()).toBe('overridden inherited');
    expect(target.calls).toBe(3);
    expect(await counts(registry)).toEqual({ 'read/ok': 2, 'fail/error': 1, 'inherited/ok': 1 });
  });

  test('synchronous methods, fields and getters pass through, unobserved; it is still an instance of its class', async () => {
    const { registry, target, subject } = setup();
    expect(subject.now()).toBe(42);
    expect(subject.calls).toBe(1);
    expect(subject.kind).toBe('base');
    subject.label = 'second';
    expect(target.label).toBe('second');
    expect(subject).toBeInstanceOf(Subject);
    expect(await counts(registry)).toEqual({});
  });

  test('two objects of a class, instrumented apart, share their timed methods and each observes its own calls', async () => {
    const { registry, subject } = setup();
    const otherRegistry = new Registry();
    const otherHistogram = new LatencyHistogram({ name: 'test_latency_seconds', help: 'test', labelNames: ['operation', 'outcome'] as const, buckets: [0.001, 1], registers: [otherRegistry] });
    const otherTarget = new Subject();
    const other = instrumented(otherTarget, otherHistogram);
    // One function per method of the class, whichever object: the code V8 compiles for one serves the other.
    expect(other.read).toBe(subject.read);
    expect(Object.getPrototypeOf(other)).toBe(Object.getPrototypeOf(subject));
    expect(await other.read(5)).toBe(10);
    expect(otherTarget.calls).toBe(1);
    expect(await counts(otherRegistry)).toEqual({ 'read/ok': 1 });
    expect(await counts(registry)).toEqual({});
  });
});

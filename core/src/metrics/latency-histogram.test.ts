import { Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram';

/** The same observations through prom-client's Histogram and through LatencyHistogram. */
function both(): { theirs: Histogram<'operation' | 'outcome'>; ours: LatencyHistogram<'operation' | 'outcome'>; theirRegistry: Registry; ourRegistry: Registry } {
  const theirRegistry = new Registry();
  const ourRegistry = new Registry();
  const options = { name: 'joinery_test_duration_seconds', help: 'Test durations, by operation and outcome', labelNames: ['operation', 'outcome'] as const, buckets: [0.001, 0.01, 0.1, 1] };
  return {
    theirs: new Histogram({ ...options, registers: [theirRegistry] }),
    ours: new LatencyHistogram({ ...options, registers: [ourRegistry] }),
    theirRegistry,
    ourRegistry,
  };
}

describe('LatencyHistogram', () => {
  test('is exposed exactly as prom-client exposes its Histogram: text and JSON, buckets, +Inf, sum, count', async () => {
    const { theirs, ours, theirRegistry, ourRegistry } = both();
    const observations: Array<[string, string, number]> = [
      ['getDevice', 'ok', 0.0004],
      ['getDevice', 'ok', 0.001], // on a bound: counted in it (le is <=)
      ['getDevice', 'ok', 0.05],
      ['getDevice', 'error', 3], // above the last bound: +Inf only
      ['commitJoin', 'ok', 0.002],
      ['odd "name"\\', 'ok', 0.02], // escaped as prom-client escapes it
    ];
    const observer = ours.series({ operation: 'getDevice', outcome: 'ok' });
    for (const [operation, outcome, seconds] of observations) {
      theirs.observe({ operation, outcome }, seconds);
      if (operation === 'getDevice' && outcome === 'ok') observer(seconds);
      else ours.observe({ operation, outcome }, seconds);
    }
    expect(await ourRegistry.metrics()).toBe(await theirRegistry.metrics());
    expect(await ourRegistry.getMetricsAsJSON()).toEqual(await theirRegistry.getMetricsAsJSON());
  });

  test('reset zeroes every series and keeps the observers handed out working', async () => {
    const { ours, ourRegistry } = both();
    const observe = ours.series({ operation: 'cmac', outcome: 'ok' });
    observe(0.005);
    ourRegistry.resetMetrics();
    expect(await ourRegistry.metrics()).toContain('joinery_test_duration_seconds_count{operation="cmac",outcome="ok"} 0');
    observe(0.005);
    expect(await ourRegistry.metrics()).toContain('joinery_test_duration_seconds_count{operation="cmac",outcome="ok"} 1');
    expect(await ourRegistry.metrics()).toContain('joinery_test_duration_seconds_bucket{le="0.01",operation="cmac",outcome="ok"} 1');
  });

  test('a label set that is not the declared one is refused; a value that is not a finite number is not counted', async () => {
    const { ours, ourRegistry } = both();
    expect(() => ours.observe({ operation: 'x' } as unknown as { operation: string; outcome: string }, 0.1)).toThrow(TypeError);
    expect(() => ours.observe({ operation: 'x', outcome: 'ok', extra: 'y' } as unknown as { operation: string; outcome: string }, 0.1)).toThrow(TypeError);
    ours.observe({ operation: 'x', outcome: 'ok' }, Number.NaN);
    expect(await ourRegistry.metrics()).toContain('joinery_test_duration_seconds_count{operation="x",outcome="ok"} 0');
  });
});

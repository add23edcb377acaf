import { VendorGate } from './vendor-gate';

describe('migration/vendor gate', () => {
  test('paces calls at the rate and never exceeds the concurrency', async () => {
    const gate = new VendorGate('x', { ratePerSecond: 200, concurrency: 3 });
    let inFlight = 0;
    let most = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 100 }, () =>
        gate.run(async () => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
        }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(most).toBeLessThanOrEqual(3);
    // 100 calls at 200/s: about half a second, never faster than the rate allows.
    expect(seconds).toBeGreaterThanOrEqual(0.49);
    expect(seconds).toBeLessThan(1.5);
  });

  test('a pause holds back the next calls', async () => {
    const gate = new VendorGate('x', { ratePerSecond: 1000, concurrency: 1 });
    await gate.run(async () => undefined);
    gate.pause(300);
    const t = Date.now();
    await gate.run(async () => undefined);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });
});

import { JoineryMetrics, JOIN_NONCE_WARNING_THRESHOLD } from './metrics';

describe('metrics/devices near JoinNonce exhaustion', () => {
  const gaugeLine = async (m: JoineryMetrics): Promise<string | undefined> => (await m.registry.metrics()).split('\n').find((l) => l.startsWith('joinery_devices_join_nonce_near_exhaustion '));

  test('counted with the 90% threshold, at most once per max age; a failed count keeps the last value', async () => {
    const m = new JoineryMetrics({ processMetrics: false });
    const thresholds: number[] = [];
    let devices = 3;
    let fail = false;
    let maxAge = 60_000;
    m.watchJoinNonceExhaustion(async (threshold) => {
      thresholds.push(threshold);
      if (fail) throw new Error('store down');
      return devices;
    }, maxAge);
    expect(await gaugeLine(m)).toBe('joinery_devices_join_nonce_near_exhaustion 3');
    expect(thresholds).toEqual([JOIN_NONCE_WARNING_THRESHOLD]);
    expect(JOIN_NONCE_WARNING_THRESHOLD).toBe(Math.floor(0.9 * 0xffffff));
    devices = 4;
    expect(await gaugeLine(m)).toBe('joinery_devices_join_nonce_near_exhaustion 3');
    expect(thresholds).toHaveLength(1);

    maxAge = 0;
    m.watchJoinNonceExhaustion(async () => {
      if (fail) throw new Error('store down');
      return devices;
    }, maxAge);
    expect(await gaugeLine(m)).toBe('joinery_devices_join_nonce_near_exhaustion 4');
    fail = true;
    devices = 5;
    expect(await gaugeLine(m)).toBe('joinery_devices_join_nonce_near_exhaustion 4');
  });
});

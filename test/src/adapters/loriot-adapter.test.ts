import { randomBytes } from 'node:crypto';
import { adapterModule, loriotBaseURL, parseLoriotConfig } from '@joinery/adapter-loriot';
import { parseEUI64, type AdapterDevice } from '@joinery/core';
import { startLoriotFake, type LoriotFake } from './fake-loriot';

const device = (appKey: string): AdapterDevice & { appKey: string } => ({
  devEUI: parseEUI64(randomBytes(8).toString('hex')),
  joinEUI: parseEUI64('70b3d57ed0000000'),
  macVersion: '1.0.4',
  appKey,
});

describe('loriot/adapter', () => {
  let fake: LoriotFake;
  beforeEach(async () => (fake = await startLoriotFake()));
  afterEach(() => fake.stop());

  it('sets the application\'s joinServerId once, before the first device; devices end with no AppKey on LORIOT', async () => {
    const a = fake.adapter();
    const ds = [device(randomBytes(16).toString('hex')), device(randomBytes(16).toString('hex'))];
    for (const d of ds) expect(await a.registerDevice(d)).toEqual({ created: true });
    const ops = fake.requests().map((r) => r.operation);
    const app = `/1/nwk/app/${fake.applicationId}`;
    expect(ops).toEqual([
      `POST ${app}/app`,
      `POST ${app}/devices/otaa`,
      `DELETE ${app}/device/${ds[0]!.devEUI.toUpperCase()}/appkey`,
      `POST ${app}/devices/otaa`,
      `DELETE ${app}/device/${ds[1]!.devEUI.toUpperCase()}/appkey`,
    ]);
    expect(fake.app.joinServerId).toBe(fake.joinServerId);
    for (const d of ds) {
      const stored = fake.devices.get(d.devEUI.toUpperCase());
      expect(stored).toMatchObject({ deveui: d.devEUI.toUpperCase(), appeui: '70B3D57ED0000000', devclass: 'A', title: d.devEUI });
      expect(stored).not.toHaveProperty('appkey');
    }
    // The placeholders sent were fresh random keys: different per device, never the device's own.
    const placeholders = fake.requests().filter((r) => r.operation.endsWith('/devices/otaa')).map((r) => JSON.parse(r.body.split('\n')[1]!).appkey as string);
    expect(new Set(placeholders).size).toBe(2);
    for (const [i, p] of placeholders.entries()) expect(p.toLowerCase()).not.toBe(ds[i]!.appKey);
  });

  it('a device interrupted before its AppKey was removed loses it when registered again', async () => {
    const a = fake.adapter();
    const d = device(randomBytes(16).toString('hex'));
    await a.registerDevice(d);
    fake.devices.get(d.devEUI.toUpperCase()).appkey = 'AA'.repeat(16); // as if step 2 never ran
    expect(await a.registerDevice(d)).toEqual({ created: false });
    expect(fake.devices.get(d.devEUI.toUpperCase())).not.toHaveProperty('appkey');
  });

  it('lists with page/perPage following total', async () => {
    const a = fake.adapter();
    for (let i = 0; i < 5; i++) await a.registerDevice(device(randomBytes(16).toString('hex')));
    const first = await a.listDevices({ pageSize: 2 });
    expect(first.devices).toHaveLength(2);
    expect(first.nextPageToken).toBe('2');
    const third = await a.listDevices({ pageSize: 2, pageToken: '3' });
    expect(third.devices).toHaveLength(1);
    expect(third.nextPageToken).toBeUndefined();
    expect(fake.requests().at(-1)!.body.split('\n')[0]).toBe('?page=3&perPage=2');
  });

  it('rate limit: --rate-limit spaces the API requests (retries included)', async () => {
    const a = fake.adapter({ options: { rateLimit: '10', maxConcurrency: '1' } });
    fake.failNext(1, 'unavailable');
    const t0 = Date.now();
    await a.registerDevice(device(randomBytes(16).toString('hex'))); // app + 503 + otaa + appkey: 4 requests
    expect(fake.requests()).toHaveLength(4);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290); // 3 gaps of 100 ms, less timer slack
  });

  it('config: server names, APPID upper-case hex, joinServerId required, clear errors before any call', () => {
    expect(loriotBaseURL('eu1')).toBe('https://eu1.loriot.io');
    expect(loriotBaseURL('us2.loriot.io')).toBe('https://us2.loriot.io');
    expect(loriotBaseURL('https://lns.example.com/')).toBe('https://lns.example.com');
    const base = { apiUrl: 'eu1', apiKey: 'AAAAkey', options: { applicationId: 'be7a0001', joinServerId: '70-b3-d5-7e-d0-00-00-01' } };
    expect(parseLoriotConfig(base)).toMatchObject({ baseURL: 'https://eu1.loriot.io', applicationId: 'BE7A0001', joinServerId: '70B3D57ED0000001', rateLimit: { requestsPerSecond: 5, maxConcurrent: 2 } });
    expect(() => adapterModule.createAdapter({ ...base, apiKey: '' })).toThrow(/--api-key.*LORIOT API key is required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { joinServerId: base.options.joinServerId } })).toThrow(/--application-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, applicationId: 'app-1' } })).toThrow(/--application-id.*hex/);
    expect(() => adapterModule.createAdapter({ ...base, options: { applicationId: 'BE7A0001' } })).toThrow(/--join-server-id.*required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, deviceClass: 'D' } })).toThrow(/--device-class/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'ftp://x.loriot.io' })).toThrow(/--api-url/);
  });
});

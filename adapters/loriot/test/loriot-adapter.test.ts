import { randomBytes } from 'node:crypto';
import { adapterModule, loriotBaseURL, parseLoriotConfig } from '@joinery/adapter-loriot';
import { AdapterError, listAllDevices, parseEUI64, type AdapterDevice } from '@joinery/core';
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

  it("sets the application's joinServerId once, before the first device; devices end with no AppKey on LORIOT", async () => {
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
    expect(fake.app.joinServer).toBe(fake.joinServerId);
    expect(fake.warnings()).toEqual([]);
    for (const d of ds) {
      const stored = fake.devices.get(d.devEUI.toUpperCase());
      expect(stored).toMatchObject({ deveui: d.devEUI.toUpperCase(), appeui: '70B3D57ED0000000', devclass: 'A', title: d.devEUI, L2Version: { major: 1, minor: 0, patch: 4 }, devVersion: '1.0.4' });
      expect(stored).not.toHaveProperty('appkey');
    }
    // The placeholders sent were fresh random keys: different per device, never the device's own.
    const placeholders = fake
      .requests()
      .filter((r) => r.operation.endsWith('/devices/otaa'))
      .map((r) => JSON.parse(r.body.split('\n')[1]!).appkey as string);
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

  it("sends the LoRaWAN version of each device as LORIOT's own tool does", async () => {
    const a = fake.adapter();
    const d11 = { ...device(''), macVersion: '1.1' as const };
    const d102 = { ...device(''), macVersion: '1.0.2' as const };
    await a.registerDevice(d11);
    await a.registerDevice(d102);
    expect(fake.devices.get(d11.devEUI.toUpperCase())).toMatchObject({ L2Version: { major: 1, minor: 1, patch: 0 }, devVersion: '1.1' });
    expect(fake.devices.get(d102.devEUI.toUpperCase())).toMatchObject({ L2Version: { major: 1, minor: 0, patch: 2 }, devVersion: '1.0.2' });
  });

  it('joinServerId refused (403, no tier 2): devices still registered, the operator told once what to ask LORIOT', async () => {
    fake.tier2 = false;
    const a = fake.adapter();
    const ds = [1, 2, 3].map(() => device(randomBytes(16).toString('hex')));
    for (const d of ds) expect(await a.registerDevice(d)).toEqual({ created: true });
    for (const d of ds) expect(fake.devices.has(d.devEUI.toUpperCase())).toBe(true);
    expect(fake.requests().filter((r) => r.operation.endsWith('/app'))).toHaveLength(1);
    expect(fake.warnings()).toHaveLength(1);
    expect(fake.warnings()[0]).toMatch(/403.*tier 2/);
    expect(fake.warnings()[0]).toContain(`ask LORIOT support to set the application's joinServer to ${fake.joinServerId}`);
    expect(fake.app.joinServer).toBeUndefined();
  });

  it('without --join-server-id: no application call, devices registered, one warning saying what LORIOT must do', async () => {
    const a = fake.adapter({ omit: ['joinServerId'] });
    for (let i = 0; i < 2; i++) expect(await a.registerDevice(device(randomBytes(16).toString('hex')))).toEqual({ created: true });
    expect(fake.requests().filter((r) => r.operation.endsWith('/app'))).toHaveLength(0);
    expect(fake.warnings()).toHaveLength(1);
    expect(fake.warnings()[0]).toMatch(/no --join-server-id.*ask LORIOT support/);
  });

  it('a duplicate or unknown device answered 400 with its message is recognised; another 400 is an error', async () => {
    fake.errorStyle = 'bad-request';
    const a = fake.adapter();
    const d = device(randomBytes(16).toString('hex'));
    expect(await a.registerDevice(d)).toEqual({ created: true });
    expect(await a.registerDevice(d)).toEqual({ created: false });
    expect((await a.getDevice(d.devEUI))?.devEUI).toBe(d.devEUI);
    expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: true });
    expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: false });
    expect(await a.getDevice(d.devEUI)).toBeNull();
    // A 400 that says something else is LORIOT refusing the request: an error with its text.
    fake.failNext(1, 'bad-request');
    const refused = await a.registerDevice(device('')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdapterError);
    expect(refused).toMatchObject({ status: 400, retryable: false });
    expect(String(refused)).toContain('injected bad-request');
  });

  it('lists 250 devices at most 100 a page, each once', async () => {
    const a = fake.adapter();
    for (let i = 0; i < 250; i++) {
      const e = randomBytes(8).toString('hex').toUpperCase();
      fake.devices.set(e, { deveui: e, appeui: '70B3D57ED0000000', title: e, devclass: 'A' });
    }
    const first = await a.listDevices({ pageSize: 500 });
    expect(first.devices).toHaveLength(100);
    expect(new URLSearchParams(fake.requests().at(-1)!.body.split('\n')[0]).get('perPage')).toBe('100');
    const all = await listAllDevices(a, 1000);
    expect(all).toHaveLength(250);
    expect(new Set(all.map((x) => x.devEUI)).size).toBe(250);
    expect(all.map((x) => x.devEUI).sort()).toEqual([...fake.devices.keys()].map((k) => k.toLowerCase()).sort());
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

  it('config: server names, APPID upper-case hex, joinServerId optional, clear errors before any call', () => {
    expect(loriotBaseURL('eu1')).toBe('https://eu1.loriot.io');
    expect(loriotBaseURL('us2.loriot.io')).toBe('https://us2.loriot.io');
    expect(loriotBaseURL('https://lns.example.com/')).toBe('https://lns.example.com');
    const base = { apiUrl: 'eu1', apiKey: 'AAAAkey', options: { applicationId: 'be7a0001', joinServerId: '70-b3-d5-7e-d0-00-00-01' } };
    expect(parseLoriotConfig(base)).toMatchObject({ baseURL: 'https://eu1.loriot.io', applicationId: 'BE7A0001', joinServerId: '70B3D57ED0000001', rateLimit: { requestsPerSecond: 5, maxConcurrent: 2 } });
    expect(() => adapterModule.createAdapter({ ...base, apiKey: '' })).toThrow(/--api-key.*LORIOT API key is required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { joinServerId: base.options.joinServerId } })).toThrow(/--application-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, applicationId: 'app-1' } })).toThrow(/--application-id.*hex/);
    expect(parseLoriotConfig({ ...base, options: { applicationId: 'BE7A0001' } }).joinServerId).toBeNull();
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, joinServerId: '70b3' } })).toThrow(/--join-server-id.*16 hex/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, deviceClass: 'D' } })).toThrow(/--device-class/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'ftp://x.loriot.io' })).toThrow(/--api-url/);
  });
});

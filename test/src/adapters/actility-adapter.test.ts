import { randomBytes } from 'node:crypto';
import { adapterModule, parseActilityConfig, refreshMarginMs } from '@joinery/adapter-actility';
import { AdapterError, parseEUI64, type AdapterDevice } from '@joinery/core';
import { startActilityFake, type ActilityFake } from './fake-actility';

const device = (i: number): AdapterDevice => ({
  devEUI: parseEUI64(`a0${randomBytes(5).toString('hex')}${i.toString(16).padStart(4, '0')}`.slice(0, 16)),
  joinEUI: parseEUI64('70b3d57ed0000000'),
  macVersion: '1.0.3',
});

describe('actility/adapter', () => {
  let fake: ActilityFake;
  beforeEach(async () => (fake = await startActilityFake()));
  afterEach(() => fake.stop());

  const tokenRequests = (): number => fake.requests().filter((r) => r.tokenExchange).length;

  it('creates an OTAA device for an external Join Server: ids and the peer\'s profiles, no key', async () => {
    const a = fake.adapter({ options: { routingProfileId: fake.routingProfileId } });
    const d = device(1);
    expect(await a.registerDevice(d)).toEqual({ created: true });
    const [stored] = [...fake.devices.values()];
    expect(stored).toEqual({
      ref: expect.any(String),
      name: d.devEUI,
      EUI: d.devEUI.toUpperCase(),
      activationType: 'OTAA',
      applicationEUI: '70B3D57ED0000000',
      deviceProfileId: fake.deviceProfileId,
      connectivityPlanId: fake.connectivityPlanId,
      routingProfileId: fake.routingProfileId,
    });
    expect(await a.getDevice(d.devEUI)).toEqual({ devEUI: d.devEUI, joinEUI: d.joinEUI, name: d.devEUI, remoteID: stored.ref });
  });

  it('token: fetched once, cached across calls and shared by concurrent calls', async () => {
    const a = fake.adapter();
    await Promise.all([1, 2, 3, 4].map((i) => a.registerDevice(device(i))));
    await a.listDevices({ pageSize: 10 });
    expect(tokenRequests()).toBe(1);
    const form = new URLSearchParams(fake.requests().find((r) => r.tokenExchange)!.body.split('\n')[1]);
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', client_id: fake.clientId, client_secret: fake.apiKey });
    // The secret travels only in the token request's form body, never in an API call.
    for (const r of fake.requests().filter((x) => !x.tokenExchange)) expect(`${r.authorization}\n${r.body}`).not.toContain(fake.apiKey);
  });

  it('token expires mid-run: the 401 is answered by one refresh, and the operation succeeds', async () => {
    const a = fake.adapter();
    const ds = [1, 2, 3].map(device);
    await a.registerDevice(ds[0]!);
    fake.expireTokens(); // the server drops the token long before its announced expiry
    expect(await a.registerDevice(ds[1]!)).toEqual({ created: true });
    fake.expireTokens();
    expect((await a.getDevice(ds[1]!.devEUI))?.devEUI).toBe(ds[1]!.devEUI);
    fake.expireTokens();
    expect(await a.deregisterDevice(ds[1]!.devEUI)).toEqual({ deleted: true });
    expect(tokenRequests()).toBe(4);
    const statuses = fake.requests().filter((r) => !r.tokenExchange).map((r) => r.operation);
    expect(statuses.filter((op) => op.startsWith('POST')).length).toBe(3); // one 401, one retried, one first
    expect(fake.requests().every((r) => r.fault === null)).toBe(true);
  });

  it('token: refreshed before it expires, without a 401', async () => {
    const a = fake.adapter();
    fake.tokenLifetimeSeconds = 120;
    await a.getDevice(device(1).devEUI);
    expect(tokenRequests()).toBe(1);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 120_000 - refreshMarginMs(120_000) + 1_000);
    try {
      await a.getDevice(device(2).devEUI);
    } finally {
      clock.mockRestore();
    }
    expect(tokenRequests()).toBe(2);
    const apiCalls = fake.requests().filter((r) => !r.tokenExchange);
    expect(apiCalls).toHaveLength(2); // no call was refused
    expect(refreshMarginMs(3_600_000)).toBe(60_000);
    expect(refreshMarginMs(120_000)).toBe(12_000);
  });

  it('a token refused twice in a row is an error (401, not retried), after exactly one refresh', async () => {
    const a = fake.adapter();
    await a.getDevice(device(1).devEUI);
    // The server forgets every token, including the one the refresh brings.
    const realSet = fake.tokens.set.bind(fake.tokens);
    fake.expireTokens();
    fake.tokens.set = ((k: string, v: number) => realSet(k, 0)) as typeof fake.tokens.set;
    const err = await a.getDevice(device(2).devEUI).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toMatchObject({ status: 401, retryable: false, vendor: 'actility' });
    expect(tokenRequests()).toBe(2);
  });

  it('DevEUI → ref over several pages when the filter does not narrow the answer', async () => {
    const a = fake.adapter({ options: { pageSize: '3' } });
    const ds = Array.from({ length: 11 }, (_, i) => device(i));
    for (const d of ds) await a.registerDevice(d);
    fake.filterByEUI = false;
    const refOf = new Map([...fake.devices.values()].map((x) => [x.EUI.toLowerCase(), x.ref]));
    const last = [...fake.devices.values()].sort((x, y) => x.ref.localeCompare(y.ref)).at(-1)!;
    const before = fake.requests().length;
    const got = await a.getDevice(parseEUI64(last.EUI));
    expect(got?.remoteID).toBe(last.ref);
    const pages = fake.requests().slice(before).filter((r) => r.operation.startsWith('GET'));
    expect(pages.length).toBe(4); // 11 devices, 3 a page: the 4th page holds it
    expect(pages.map((r) => new URLSearchParams(r.body.split('\n')[0]).get('pageIndex'))).toEqual(['1', '2', '3', '4']);
    for (const r of pages) expect(new URLSearchParams(r.body.split('\n')[0]).get('deviceEUI')).toBe(last.EUI);
    // Deletion uses the resolved ref; a DevEUI that is nowhere walks every page and deletes nothing.
    expect(await a.deregisterDevice(ds[4]!.devEUI)).toEqual({ deleted: true });
    expect(fake.requests().at(-1)!.operation).toBe(`DELETE /thingpark/dx/core/latest/api/devices/${refOf.get(ds[4]!.devEUI)}`);
    expect(await a.deregisterDevice(device(99).devEUI)).toEqual({ deleted: false });
    expect(fake.devices.size).toBe(10);
  });

  it('config: ThingPark Enterprise or Wireless base URLs, the token URL derived, clear errors before any call', () => {
    const base = { apiUrl: 'https://tpe.example.com', apiKey: 'secret', options: { clientId: 'sub-1/app', deviceProfileId: 'P', connectivityPlanId: 'C' } };
    expect(parseActilityConfig(base)).toMatchObject({
      baseURL: 'https://tpe.example.com/thingpark/dx/core/latest/api',
      tokenURL: 'https://tpe.example.com/thingpark/dx/admin/latest/api/oauth/token',
      routingProfileId: null,
      rateLimit: { requestsPerSecond: 10, maxConcurrent: 4 },
    });
    expect(parseActilityConfig({ ...base, apiUrl: 'https://dx-api.thingpark.com' })).toMatchObject({
      baseURL: 'https://dx-api.thingpark.com/core/latest/api',
      tokenURL: 'https://dx-api.thingpark.com/admin/latest/api/oauth/token',
    });
    expect(parseActilityConfig({ ...base, options: { ...base.options, rateLimit: '2.5', maxConcurrency: '1' } }).rateLimit).toEqual({ requestsPerSecond: 2.5, maxConcurrent: 1 });
    expect(() => adapterModule.createAdapter({ ...base, apiKey: ' ' })).toThrow(/--api-key.*client secret/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, clientId: '' } })).toThrow(/--client-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { clientId: 'x', connectivityPlanId: 'C' } })).toThrow(/--device-profile-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { clientId: 'x', deviceProfileId: 'P' } })).toThrow(/--connectivity-plan-id/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://x.example.com/custom/api' })).toThrow(/--token-url/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://u:p@tpe.example.com' })).toThrow(/--api-url.*credentials/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, rateLimit: 'fast' } })).toThrow(/--rate-limit/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, maxConcurrency: '-1' } })).toThrow(/--max-concurrency/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, colour: 'red' } })).toThrow(/unknown Actility option/);
  });
});

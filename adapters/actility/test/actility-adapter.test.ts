import { randomBytes } from 'node:crypto';
import { adapterModule, NO_ROUTING_PROFILE_WARNING, parseActilityConfig, refreshMarginMs } from '@joinery/adapter-actility';
import { AdapterError, listAllDevices, parseEUI64, type AdapterDevice } from '@joinery/core';
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

  it("creates an OTAA device for an external Join Server: ids and the peer's profiles, no key", async () => {
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
    expect(fake.warnings()).toEqual([]);
    expect(await a.getDevice(d.devEUI)).toEqual({ devEUI: d.devEUI, joinEUI: d.joinEUI, name: d.devEUI, remoteID: stored.ref });
  });

  it('token: fetched once, cached across calls and shared by concurrent calls', async () => {
    const a = fake.adapter();
    await Promise.all([1, 2, 3, 4].map((i) => a.registerDevice(device(i))));
    await a.listDevices({ pageSize: 10 });
    expect(tokenRequests()).toBe(1);
    const form = new URLSearchParams(
      fake
        .requests()
        .find((r) => r.tokenExchange)!
        .body.split('\n')[1],
    );
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
    const statuses = fake
      .requests()
      .filter((r) => !r.tokenExchange)
      .map((r) => r.operation);
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
    fake.tokens.set = ((k: string, _v: number) => realSet(k, 0)) as typeof fake.tokens.set;
    const err = await a.getDevice(device(2).devEUI).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toMatchObject({ status: 401, retryable: false, vendor: 'actility' });
    expect(tokenRequests()).toBe(2);
  });

  it('addresses a device as e<DEVEUI>: no lookup before get or delete', async () => {
    const a = fake.adapter();
    const d = device(1);
    await a.registerDevice(d);
    const before = fake.requests().length;
    expect((await a.getDevice(d.devEUI))?.devEUI).toBe(d.devEUI);
    expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: true });
    expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: false });
    const ops = fake
      .requests()
      .slice(before)
      .filter((r) => !r.tokenExchange)
      .map((r) => r.operation);
    const path = `/thingpark/dx/core/latest/api/devices/e${d.devEUI.toUpperCase()}`;
    expect(ops).toEqual([`GET ${path}`, `DELETE ${path}`, `DELETE ${path}`]);
  });

  it("lists 250 devices over ThingPark's 100-a-page pages, each once; a smaller page is a slice of one", async () => {
    const a = fake.adapter();
    for (let i = 0; i < 250; i++) {
      const ref = String(1_000_000 + i);
      fake.devices.set(ref, { ref, EUI: randomBytes(8).toString('hex').toUpperCase(), name: `d${i}` });
    }
    const all = await listAllDevices(a);
    expect(all).toHaveLength(250);
    expect(all.map((d) => d.devEUI).sort()).toEqual([...fake.devices.values()].map((d) => d.EUI.toLowerCase()).sort());
    const indexes = fake
      .requests()
      .filter((r) => r.operation.endsWith('/devices') && r.operation.startsWith('GET'))
      .map((r) => new URLSearchParams(r.body.split('\n')[0]).get('pageIndex'));
    expect(indexes).toEqual(['1', '2', '3']);
    const small: string[] = [];
    let token: string | undefined;
    do {
      const page = await a.listDevices(token === undefined ? { pageSize: 30 } : { pageSize: 30, pageToken: token });
      expect(page.devices.length).toBeLessThanOrEqual(30);
      small.push(...page.devices.map((d) => d.devEUI));
      token = page.nextPageToken;
    } while (token !== undefined);
    expect(small.sort()).toEqual(all.map((d) => d.devEUI).sort());
  });

  it('a token expiring mid-listing is refreshed once and the listing completes', async () => {
    const a = fake.adapter();
    for (let i = 0; i < 250; i++) fake.devices.set(String(2_000_000 + i), { ref: String(2_000_000 + i), EUI: randomBytes(8).toString('hex').toUpperCase(), name: `d${i}` });
    const first = await a.listDevices();
    fake.expireTokens();
    const second = await a.listDevices({ pageToken: first.nextPageToken! });
    const third = await a.listDevices({ pageToken: second.nextPageToken! });
    expect(new Set([...first.devices, ...second.devices, ...third.devices].map((d) => d.devEUI)).size).toBe(250);
    expect(tokenRequests()).toBe(2);
  });

  it('a create answered 504 after ThingPark created the device is found there, not created twice; the migration goes on', async () => {
    const a = fake.adapter({ retry: { attempts: 1 } }); // as a migration runs its adapters: one try per call
    const d = device(7);
    fake.failAfterCreate(1);
    expect(await a.registerDevice(d)).toEqual({ created: true });
    expect([...fake.devices.values()].filter((x) => x.EUI === d.devEUI.toUpperCase())).toHaveLength(1);
    const ops = fake
      .requests()
      .filter((r) => !r.tokenExchange)
      .map((r) => r.operation);
    expect(ops).toEqual(['POST /thingpark/dx/core/latest/api/devices', `GET /thingpark/dx/core/latest/api/devices/e${d.devEUI.toUpperCase()}`]);
    // A 5xx without the device there is an error (retried by the policy when it allows).
    fake.failNext(1, 'unavailable');
    const e = device(8);
    await expect(a.registerDevice(e)).rejects.toMatchObject({ status: 503, retryable: true });
    const b = fake.adapter();
    fake.failNext(1, 'unavailable');
    expect(await b.registerDevice(e)).toEqual({ created: true });
  });

  it('warns once, at configuration, when no routing profile is given (ThingPark would use DATAFLOW)', async () => {
    const a = fake.adapter({ omit: ['routingProfileId'] });
    const d = device(3);
    await a.registerDevice(d);
    await a.registerDevice(device(4));
    expect(fake.warnings()).toEqual([NO_ROUTING_PROFILE_WARNING]);
    expect([...fake.devices.values()][0]).toMatchObject({ processingStrategyId: 'DATAFLOW' });
    fake.adapter();
    expect(fake.warnings()).toHaveLength(1);
  });

  it('DX user credentials (--auth-scheme dx): the DX token endpoint with <targetProfileId>/<user>', async () => {
    const a = fake.adapter({ apiKey: fake.dxSecret, options: { clientId: fake.dxClientId, authScheme: 'dx', tokenUrl: `${fake.url}/thingpark/dx/admin/latest/api/oauth/token` } });
    expect(await a.registerDevice(device(1))).toEqual({ created: true });
    const exchange = fake.requests().find((r) => r.tokenExchange)!;
    expect(exchange.operation).toBe('POST /thingpark/dx/admin/latest/api/oauth/token');
    const wrong = fake.adapter({ apiKey: fake.apiKey, options: { clientId: fake.dxClientId, authScheme: 'dx', tokenUrl: `${fake.url}/thingpark/dx/admin/latest/api/oauth/token` } });
    await expect(wrong.getDevice(device(2).devEUI)).rejects.toMatchObject({ status: 401, retryable: false, message: expect.stringContaining('invalid_client') });
  });

  it('config: ThingPark Enterprise or Wireless base URLs, the token URL derived, clear errors before any call', () => {
    const base = { apiUrl: 'https://tpe.example.com', apiKey: 'secret', options: { clientId: 'sub-1/app', deviceProfileId: 'P', connectivityPlanId: 'C' } };
    expect(parseActilityConfig(base)).toMatchObject({
      baseURL: 'https://tpe.example.com/thingpark/dx/core/latest/api',
      tokenURL: 'https://tpe.example.com/users-auth/protocol/openid-connect/token',
      authScheme: 'keycloak',
      routingProfileId: null,
      rateLimit: { requestsPerSecond: 10, maxConcurrent: 4 },
    });
    expect(parseActilityConfig({ ...base, apiUrl: 'https://dx-api.thingpark.com' })).toMatchObject({
      baseURL: 'https://dx-api.thingpark.com/core/latest/api',
      tokenURL: 'https://dx-api.thingpark.com/admin/latest/api/oauth/token',
      authScheme: 'dx',
    });
    // Regional cloud hosts: the cloud path and the DX token endpoint.
    expect(parseActilityConfig({ ...base, apiUrl: 'https://dx-api-au1.thingpark.com' })).toMatchObject({
      baseURL: 'https://dx-api-au1.thingpark.com/core/latest/api',
      tokenURL: 'https://dx-api-au1.thingpark.com/admin/latest/api/oauth/token',
      authScheme: 'dx',
    });
    expect(parseActilityConfig({ ...base, options: { ...base.options, authScheme: 'dx' } }).tokenURL).toBe('https://tpe.example.com/thingpark/dx/admin/latest/api/oauth/token');
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, clientId: 'service-account', authScheme: 'dx' } })).toThrow(/--client-id.*targetProfileId/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, authScheme: 'saml' } })).toThrow(/--auth-scheme/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, pageSize: '500' } })).toThrow(/--page-size.*100/);
    expect(parseActilityConfig({ ...base, options: { ...base.options, rateLimit: '2.5', maxConcurrency: '1' } }).rateLimit).toEqual({ requestsPerSecond: 2.5, maxConcurrent: 1 });
    expect(() => adapterModule.createAdapter({ ...base, apiKey: ' ' })).toThrow(/--api-key.*client secret/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, clientId: '' } })).toThrow(/--client-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { clientId: 'x', connectivityPlanId: 'C' } })).toThrow(/--device-profile-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { clientId: 'x', deviceProfileId: 'P' } })).toThrow(/--connectivity-plan-id/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://x.example.com/custom/api', options: { ...base.options, authScheme: 'dx' } })).toThrow(/--token-url/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://u:p@tpe.example.com' })).toThrow(/--api-url.*credentials/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, rateLimit: 'fast' } })).toThrow(/--rate-limit/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, maxConcurrency: '-1' } })).toThrow(/--max-concurrency/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, colour: 'red' } })).toThrow(/unknown Actility option/);
  });
});

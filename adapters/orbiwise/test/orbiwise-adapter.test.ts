import { randomBytes } from 'node:crypto';
import { adapterModule, LIST_RESTARTS, parseOrbiwiseConfig } from '@joinery/adapter-orbiwise';
import { AdapterError, listAllDevices, parseEUI64, refreshMarginMs, type AdapterDevice, type NetworkServerAdapter } from '@joinery/core';
import { startOrbiwiseFake, type OrbiwiseFake } from './fake-orbiwise';

const device = (): AdapterDevice => ({ devEUI: parseEUI64(randomBytes(8).toString('hex')), joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4' });

/** n nodes created straight in the fake (as OrbiWAN would hold them). */
function seed(fake: OrbiwiseFake, n: number): string[] {
  const euis = Array.from({ length: n }, () => randomBytes(8).toString('hex').toUpperCase());
  for (const e of euis) fake.nodes.set(e, { DevEUI: e, device_profile_uuid: fake.deviceProfileId, service_profile_uuid: fake.serviceProfileId });
  return euis.map((e) => e.toLowerCase()).sort();
}

async function listByPages(a: NetworkServerAdapter, between: (pageNumber: number) => void = () => undefined): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await a.listDevices(token === undefined ? { pageSize: 100 } : { pageSize: 100, pageToken: token });
    pages.push(page.devices.map((d) => d.devEUI));
    token = page.nextPageToken;
    between(pages.length);
  } while (token !== undefined);
  return pages;
}

const query = (body: string): URLSearchParams => new URLSearchParams(body.split('\n')[0]);

describe('orbiwise/adapter', () => {
  let fake: OrbiwiseFake;
  beforeEach(async () => (fake = await startOrbiwiseFake()));
  afterEach(() => fake.stop());
  const tokenRequests = (): Array<Record<string, string>> =>
    fake
      .requests()
      .filter((r) => r.tokenExchange)
      .map((r) => Object.fromEntries(new URLSearchParams(r.body.split('\n')[1])));

  it('creates nodes with DevEUI, both profiles and the JoinEUI as joineui, no key; finds them by DevEUI', async () => {
    const a = fake.adapter();
    const d = device();
    expect(await a.registerDevice(d)).toEqual({ created: true });
    expect(fake.nodes.get(d.devEUI.toUpperCase())).toEqual({
      DevEUI: d.devEUI.toUpperCase(),
      device_profile_uuid: fake.deviceProfileId,
      service_profile_uuid: fake.serviceProfileId,
      joineui: '70B3D57ED0000000',
      comment: d.devEUI,
    });
    expect(await a.getDevice(d.devEUI)).toEqual({ devEUI: d.devEUI, joinEUI: d.joinEUI, name: d.devEUI, remoteID: d.devEUI });
    // Older releases spell it deveui: still read.
    fake.nodeSpelling = 'deveui';
    expect((await a.getDevice(d.devEUI))?.devEUI).toBe(d.devEUI);
  });

  it('lists 250 nodes over three pages (paged_results, limit, page_state), each once', async () => {
    const euis = seed(fake, 250);
    const a = fake.adapter();
    const pages = await listByPages(a);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(pages.flat().sort()).toEqual(euis);
    const lists = fake
      .requests()
      .filter((r) => r.operation === 'GET /rest/nodes')
      .map((r) => query(r.body));
    expect(lists.map((q) => [q.get('paged_results'), q.get('limit'), q.has('page_state')])).toEqual([
      ['true', '100', false],
      ['true', '100', true],
      ['true', '100', true],
    ]);
    expect((await listAllDevices(a)).map((d) => d.devEUI).sort()).toEqual(euis);
  });

  it('an expired page state (410) starts the listing again; listAllDevices still has every node once; a listing that keeps expiring fails', async () => {
    const euis = seed(fake, 250);
    const a = fake.adapter();
    const pages = await listByPages(a, (n) => n === 2 && fake.expirePageStates());
    expect(pages.map((p) => p.length)).toEqual([100, 100, 100, 100, 50]);
    expect(new Set(pages.flat()).size).toBe(250);
    const listed = await (async () => {
      let calls = 0;
      const wrapped: NetworkServerAdapter = {
        ...a,
        vendor: a.vendor,
        listDevices: async (p) => {
          if (++calls === 2) fake.expirePageStates();
          return a.listDevices(p);
        },
      } as NetworkServerAdapter;
      return listAllDevices(wrapped);
    })();
    expect(listed.map((d) => d.devEUI).sort()).toEqual(euis);
    const first = await a.listDevices({ pageSize: 10 });
    let token = first.nextPageToken!;
    for (let i = 0; i < LIST_RESTARTS; i++) {
      fake.expirePageStates();
      token = (await a.listDevices({ pageSize: 10, pageToken: token })).nextPageToken!;
    }
    fake.expirePageStates();
    await expect(a.listDevices({ pageSize: 10, pageToken: token })).rejects.toMatchObject({ status: 410 });
  });

  it('--auth-scheme token: password grant once, bearer on every call; a token expiring mid-listing is refreshed once and the listing completes', async () => {
    const euis = seed(fake, 250);
    const a = fake.adapter({ apiKey: fake.userPassword, options: { authScheme: 'token' } });
    const [user, password] = [fake.userPassword.slice(0, fake.userPassword.indexOf(':')), fake.userPassword.slice(fake.userPassword.indexOf(':') + 1)];
    const pages = await listByPages(a, (n) => n === 1 && fake.expireTokens());
    expect(pages.flat().sort()).toEqual(euis);
    const grants = tokenRequests();
    expect(grants[0]).toEqual({ grant_type: 'password', username: user, password });
    expect(grants).toHaveLength(2);
    const calls = fake.requests().filter((r) => !r.tokenExchange);
    expect(calls).toHaveLength(4); // page 1, page 2 refused (401), page 2 again, page 3
    for (const r of calls) expect(r.authorization).toMatch(/^Bearer /);
    for (const r of calls) expect(`${r.authorization}\n${r.body}`).not.toContain(password);
  });

  it('--auth-scheme token: refreshed with the refresh token before expiry, without a 401', async () => {
    fake.tokenLifetimeSeconds = 43_200;
    const a = fake.adapter({ apiKey: fake.userPassword, options: { authScheme: 'token' } });
    await a.getDevice(device().devEUI);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 43_200_000 - refreshMarginMs(43_200_000) + 1_000);
    try {
      fake.tokenLifetimeSeconds = 43_200 * 2; // the clock moved; tokens issued now outlive it
      await a.getDevice(device().devEUI);
    } finally {
      clock.mockRestore();
    }
    const grants = tokenRequests();
    expect(grants.map((g) => g['grant_type'])).toEqual(['password', 'refresh_token']);
    expect(fake.requests().filter((r) => !r.tokenExchange)).toHaveLength(2);
  });

  it('a wrong password is refused at the token endpoint (not retried); Basic works until OrbiWAN disables it', async () => {
    const wrong = fake.adapter({ apiKey: 'joinery:wrong', options: { authScheme: 'token' } });
    await expect(wrong.getDevice(device().devEUI)).rejects.toMatchObject({ status: 401, retryable: false, message: expect.stringContaining('invalid_grant') });
    const b = fake.adapter({ apiKey: fake.userPassword, options: { authScheme: 'basic' } });
    const d = device();
    await b.registerDevice(d);
    expect((await listAllDevices(b)).map((x) => x.devEUI)).toEqual([d.devEUI]);
    fake.basicEnabled = false;
    await expect(b.getDevice(d.devEUI)).rejects.toMatchObject({ status: 401, retryable: false });
  });

  it('asks for RFC 7807 problems and keeps their text: a refused create names the bad parameter', async () => {
    const a = fake.adapter({ options: { serviceProfileId: 'not-a-profile' } });
    const err = await a.registerDevice(device()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toMatchObject({ status: 404, retryable: false });
    expect(String(err)).toContain('Missing or invalid parameter: service_profile_uuid');
    expect(fake.requests().filter((r) => r.operation === 'POST /rest/nodes')).toHaveLength(1);
  });

  it('a re-registration right after a delete is tried again until OrbiWAN takes it (by this adapter or another)', async () => {
    fake.reregisterBlockMs = 400;
    const a = fake.adapter();
    const d = device();
    await a.registerDevice(d);
    expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: true });
    expect(await a.registerDevice(d)).toEqual({ created: true });
    expect(fake.nodes.has(d.devEUI.toUpperCase())).toBe(true);
    const posts = fake.requests().filter((r) => r.operation === 'POST /rest/nodes');
    expect(posts.length).toBeGreaterThan(2);
    // Deleted by someone else: the 409 with no node to show is the same window.
    await fake.adapter().deregisterDevice(d.devEUI);
    expect(await a.registerDevice(d)).toEqual({ created: true });
    // A node that is really there stays "already there" at once.
    const before = fake.requests().length;
    expect(await a.registerDevice(d)).toEqual({ created: false });
    expect(fake.requests().length - before).toBe(2); // the 409 and the GET that finds it
  });

  it('config: both profiles required, token and basic need user:password, clear errors before any call', () => {
    const base = { apiUrl: 'https://owa.example.com', apiKey: 'tok', options: { deviceProfileId: 'dp-1', serviceProfileId: 'sp-1' } };
    expect(parseOrbiwiseConfig(base)).toMatchObject({ baseURL: 'https://owa.example.com/rest', auth: { kind: 'fixed', authorization: 'Bearer tok' }, deviceProfileId: 'dp-1', serviceProfileId: 'sp-1' });
    expect(parseOrbiwiseConfig({ ...base, apiKey: 'u:p:q', options: { ...base.options, authScheme: 'token' } }).auth).toEqual({ kind: 'password-grant', username: 'u', password: 'p:q' });
    expect(parseOrbiwiseConfig({ ...base, apiUrl: 'https://owa.example.com/api/rest/' }).baseURL).toBe('https://owa.example.com/api/rest');
    expect(() => adapterModule.createAdapter({ ...base, options: { serviceProfileId: 'sp-1' } })).toThrow(/--device-profile-id.*required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { deviceProfileId: 'dp-1' } })).toThrow(/--service-profile-id.*required/);
    expect(() => adapterModule.createAdapter({ ...base, apiKey: '' })).toThrow(/--api-key.*token is required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, authScheme: 'basic' } })).toThrow(/--api-key.*user:password/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, authScheme: 'token' } })).toThrow(/--api-key.*user:password/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, authScheme: 'digest' } })).toThrow(/--auth-scheme/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, serviceProfileId: 'a b' } })).toThrow(/--service-profile-id/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://u:p@owa.example.com' })).toThrow(/--api-url.*credentials/);
  });
});

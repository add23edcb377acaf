import { randomBytes } from 'node:crypto';
import { adapterModule, parseOrbiwiseConfig } from '@joinery/adapter-orbiwise';
import { listAllDevices, parseEUI64, type AdapterDevice } from '@joinery/core';
import { startOrbiwiseFake, type OrbiwiseFake } from './fake-orbiwise';

const device = (): AdapterDevice => ({ devEUI: parseEUI64(randomBytes(8).toString('hex')), joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.1' });

describe('orbiwise/adapter', () => {
  let fake: OrbiwiseFake;
  beforeEach(async () => (fake = await startOrbiwiseFake()));
  afterEach(() => fake.stop());

  it('creates nodes with the service profile and no key; lists by page_state', async () => {
    const a = fake.adapter();
    const ds = [device(), device(), device()];
    for (const d of ds) await a.registerDevice(d);
    expect(fake.nodes.get(ds[0]!.devEUI)).toEqual({ deveui: ds[0]!.devEUI, appeui: '70b3d57ed0000000', comment: ds[0]!.devEUI, lora_device_class: 0, service_profile_uuid: fake.serviceProfileId });
    const first = await a.listDevices({ pageSize: 2 });
    expect(first.devices).toHaveLength(2);
    const second = await a.listDevices({ pageSize: 2, pageToken: first.nextPageToken! });
    expect(second.devices).toHaveLength(1);
    expect(second.nextPageToken).toBeUndefined();
    expect(new URLSearchParams(fake.requests().at(-1)!.body.split('\n')[0]).get('page_state')).toBe(first.nextPageToken);
  });

  it('HTTP Basic with --auth-scheme basic (user:password)', async () => {
    const a = fake.adapter({ apiKey: fake.basicCredentials, options: { authScheme: 'basic' } });
    const d = device();
    await a.registerDevice(d);
    expect((await listAllDevices(a)).map((x) => x.devEUI)).toEqual([d.devEUI]);
    for (const r of fake.requests()) expect(r.authorization).toBe(`Basic ${Buffer.from(fake.basicCredentials).toString('base64')}`);
    const wrong = fake.adapter({ apiKey: 'joinery:wrong', options: { authScheme: 'basic' } });
    await expect(wrong.getDevice(d.devEUI)).rejects.toMatchObject({ status: 401, retryable: false });
  });

  it('config: clear errors before any call', () => {
    const base = { apiUrl: 'https://owa.example.com', apiKey: 'tok', options: {} };
    expect(parseOrbiwiseConfig(base)).toMatchObject({ baseURL: 'https://owa.example.com/rest', authorization: 'Bearer tok', serviceProfileId: null });
    expect(parseOrbiwiseConfig({ ...base, apiUrl: 'https://owa.example.com/api/rest/' }).baseURL).toBe('https://owa.example.com/api/rest');
    expect(() => adapterModule.createAdapter({ ...base, apiKey: '' })).toThrow(/--api-key.*token is required/);
    expect(() => adapterModule.createAdapter({ ...base, options: { authScheme: 'basic' } })).toThrow(/--api-key.*user:password/);
    expect(() => adapterModule.createAdapter({ ...base, options: { authScheme: 'digest' } })).toThrow(/--auth-scheme/);
    expect(() => adapterModule.createAdapter({ ...base, options: { serviceProfileId: 'a b' } })).toThrow(/--service-profile-id/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'https://u:p@owa.example.com' })).toThrow(/--api-url.*credentials/);
  });
});

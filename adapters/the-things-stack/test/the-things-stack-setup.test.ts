import { parse } from 'yaml';
import { adapterModule } from '@joinery/adapter-the-things-stack';
import { parseEUI64, parseJoinEUIPrefix, type AdapterSetupInput } from '@joinery/core';
import { startTTSFake, type TTSFake } from './fake-the-things-stack';

const input: AdapterSetupInput = {
  name: 'acme-tts',
  netID: '000013',
  nsID: '70b3d57ed0000001',
  biURL: 'https://js.example.com:8003/bi/acme-tts',
  joinEUIPrefixes: [parseJoinEUIPrefix('70b3d57ed0000000/40')],
  kek: { label: 'ns:000013:tts.example.com', kekHex: '00112233445566778899aabbccddeeff' },
  installDir: '/etc/tts/interop/joinery-acme-tts',
  authorizationHeader: null,
  asyncAnswers: null,
};

describe('the-things-stack/setup', () => {
  it('config.yml, js.yml, key-vault: the keys TTS reads', () => {
    const setup = adapterModule.renderSetup(input);
    const file = (n: string) => setup.files.find((f) => f.name === n)!;
    expect(parse(file('config.yml').content)).toEqual({
      'join-servers': [{ file: './joinery-acme-tts/js.yml', components: ['ns', 'as'], 'join-euis': ['70B3D57ED0000000/40'] }],
    });
    expect(parse(file('js.yml').content)).toEqual({
      fqdn: 'js.example.com',
      port: 8003,
      protocol: 'BI1.1',
      paths: { join: 'bi/acme-tts', rejoin: 'bi/acme-tts', 'app-s-key': 'bi/acme-tts', 'home-ns': 'bi/acme-tts' },
      'sender-ns-id': '70B3D57ED0000001',
      tls: { source: 'file', 'root-ca': 'ca.crt', certificate: 'client.crt', key: 'client.key' },
    });
    expect(parse(file('key-vault.yml').content)).toEqual({ 'key-vault': { provider: 'static', static: { 'ns:000013:tts.example.com': '00112233445566778899AABBCCDDEEFF' } } });
    expect(file('key-vault.yml').secret).toBe(true);
    expect(file('js.yml').content).not.toContain('00112233445566778899');
  });

  it('js.yml/BI1.0 without an NSID, and then no sender-ns-id (TTS refuses it with BI1.0)', () => {
    const js = parse(adapterModule.renderSetup({ ...input, nsID: null }).files.find((f) => f.name === 'js.yml')!.content);
    expect(js.protocol).toBe('BI1.0');
    expect(js).not.toHaveProperty('sender-ns-id');
  });
});

describe('the-things-stack/registration', () => {
  let fake: TTSFake;
  beforeEach(async () => (fake = await startTTSFake()));
  afterEach(() => fake.stop());

  it('three steps IS → NS → AS with field masks and no join_server_address; deletion in reverse', async () => {
    const a = fake.adapter();
    const devEUI = parseEUI64('0011223344556677');
    await a.registerDevice({ devEUI, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4' });
    const ops = fake.requests().map((r) => r.operation);
    const app = fake.applicationId;
    expect(ops).toEqual([`POST /api/v3/applications/${app}/devices`, `PUT /api/v3/ns/applications/${app}/devices/eui-0011223344556677`, `PUT /api/v3/as/applications/${app}/devices/eui-0011223344556677`]);
    const isBody = JSON.parse(fake.requests()[0]!.body.split('\n')[1]!);
    expect(isBody.end_device).not.toHaveProperty('join_server_address');
    expect(isBody.field_mask.paths).not.toContain('join_server_address');
    expect(fake.ns.get('eui-0011223344556677')).toMatchObject({ supports_join: true, lorawan_version: 'MAC_V1_0_4', lorawan_phy_version: 'RP002_V1_0_1', frequency_plan_id: 'EU_863_870_TTN' });
    await a.deregisterDevice(devEUI);
    expect(
      fake
        .requests()
        .slice(3)
        .map((r) => r.operation),
    ).toEqual([
      `DELETE /api/v3/as/applications/${app}/devices/eui-0011223344556677`,
      `DELETE /api/v3/ns/applications/${app}/devices/eui-0011223344556677`,
      `DELETE /api/v3/applications/${app}/devices/eui-0011223344556677`,
    ]);
    expect(fake.is.size + fake.ns.size + fake.as.size).toBe(0);
  });

  it('a half-done registration (IS only) is completed by registering again', async () => {
    const a = fake.adapter();
    const d = { devEUI: parseEUI64('0011223344556678'), joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.1' as const };
    expect(await a.registerDevice(d)).toEqual({ created: true });
    expect(fake.ns.get('eui-0011223344556678')).toMatchObject({ lorawan_version: 'MAC_V1_1', lorawan_phy_version: 'PHY_V1_1_REV_B' });
    // As if an earlier run stopped after the Identity Server step.
    fake.ns.clear();
    fake.as.clear();
    expect(await a.registerDevice(d)).toEqual({ created: false });
    expect(fake.ns.size).toBe(1);
    expect(fake.as.size).toBe(1);
  });

  it('config/bad options are clear errors', () => {
    const base = { apiUrl: 'https://tts.example.com', apiKey: 'NNSXS.X', options: { applicationId: 'app1' } };
    expect(() => adapterModule.createAdapter({ ...base, options: {} })).toThrow(/--application-id/);
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'nope' })).toThrow(/--api-url/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, frequencyPlanId: 'eu 868' } })).toThrow(/--frequency-plan-id/);
  });
});

describe('the-things-stack/watch', () => {
  // Open-source TTS (the fake's default, and the conformance suite's) names MQTT users and topics by
  // the bare application id; TTS Cloud / Enterprise by `{app}@{tenant}`.
  it('with --tenant-id, the MQTT user and topics are {app}@{tenant}', async () => {
    const fake = await startTTSFake({ tenantId: 'acme' });
    try {
      const a = fake.adapter();
      const devEUI = parseEUI64('0011223344556699');
      const w = a.watch!([devEUI]);
      try {
        await w.ready;
        await fake.publishEvent!('up', devEUI, Buffer.from('hi'), 3);
        const first = await w[Symbol.asyncIterator]().next();
        expect(first.value).toMatchObject({ kind: 'up', devEUI, fCnt: 3 });
        expect(first.value.topic).toContain(`/${fake.applicationId}@acme/devices/`);
      } finally {
        await w.close();
      }
    } finally {
      await fake.stop();
    }
  });

  it('a tenant id is optional; a bad one is refused', () => {
    const base = { apiUrl: 'https://tts.example.com', apiKey: 'NNSXS.X', options: { applicationId: 'app1' } };
    expect(() => adapterModule.createAdapter(base)).not.toThrow();
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, tenantId: 'Not A Tenant' } })).toThrow(/--tenant-id/);
  });
});

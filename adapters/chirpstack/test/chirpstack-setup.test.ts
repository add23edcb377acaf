import type * as SmolTOML from 'smol-toml' with { 'resolution-mode': 'require' };
import { adapterModule } from '@joinery/adapter-chirpstack';
import { parseJoinEUIPrefix, type AdapterSetupInput } from '@joinery/core';

// smol-toml ships CommonJS for require() but declares ESM types only.
const { parse } = require('smol-toml') as typeof SmolTOML;

const input: AdapterSetupInput = {
  name: 'acme-cs',
  netID: '000013',
  nsID: null,
  biURL: 'https://js.example.com:8003/bi/acme-cs',
  joinEUIPrefixes: [parseJoinEUIPrefix('70b3d57ed0000000/40'), parseJoinEUIPrefix('0016c001fffe0001')],
  kek: { label: '000013', kekHex: '00112233445566778899aabbccddeeff' },
  installDir: '/etc/chirpstack/joinery',
  authorizationHeader: null,
  asyncAnswers: null,
};

describe('chirpstack/setup', () => {
  it('chirpstack.toml/parses as TOML with the keys ChirpStack v4 reads', () => {
    const setup = adapterModule.renderSetup(input);
    const file = setup.files.find((f) => f.name === 'chirpstack.toml');
    expect(file?.secret).toBe(true); // it carries the KEK
    const toml = parse(file!.content) as any;
    const servers = toml.join_server.servers as any[];
    expect(servers).toHaveLength(2);
    expect(servers[0]).toEqual({
      join_eui_prefix: '70b3d57ed0000000/40',
      server: 'https://js.example.com:8003/bi/acme-cs',
      async_timeout: '0s',
      ca_cert: '/etc/chirpstack/joinery/ca.crt',
      tls_cert: '/etc/chirpstack/joinery/client.crt',
      tls_key: '/etc/chirpstack/joinery/client.key',
    });
    expect(servers[1].join_eui_prefix).toBe('0016c001fffe0001/64'); // always PREFIX/N
    expect(toml.keks).toEqual([{ label: '000013', kek: '00112233445566778899aabbccddeeff' }]);
    expect(file!.content).not.toContain('async_interface');
    expect(file!.content).not.toMatch(/^\s*join_eui\s*=/m); // the v3 key
    expect(setup.instructions.join('\n')).toContain('/etc/chirpstack/joinery');
  });

  it('chirpstack.toml/refuses a relative install directory and no JoinEUI range', () => {
    expect(() => adapterModule.renderSetup({ ...input, installDir: 'etc/x' })).toThrow(/absolute/);
    expect(() => adapterModule.renderSetup({ ...input, joinEUIPrefixes: [] })).toThrow(/JoinEUI/);
  });

  it('config/bad options are clear errors', () => {
    const base = { apiUrl: 'http://127.0.0.1:8080', apiKey: 'k', options: { applicationId: '3b4f9f1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', tenantId: '3b4f9f1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f' } };
    expect(() => adapterModule.createAdapter({ ...base, apiUrl: 'ftp://x' })).toThrow(/--api-url/);
    expect(() => adapterModule.createAdapter({ ...base, apiKey: '' })).toThrow(/--api-key/);
    expect(() => adapterModule.createAdapter({ ...base, options: { tenantId: base.options.tenantId } })).toThrow(/--application-id/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, region: 'MARS' } })).toThrow(/--region/);
    expect(() => adapterModule.createAdapter({ ...base, options: { ...base.options, color: 'red' } })).toThrow(/unknown ChirpStack option/);
  });
});

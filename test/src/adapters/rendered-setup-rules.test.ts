import type * as SmolTOML from 'smol-toml' with { 'resolution-mode': 'require' };
import { parse as parseYAML } from 'yaml';
import { adapterModule as chirpstack } from '@joinery/adapter-chirpstack';
import { adapterModule as tts } from '@joinery/adapter-the-things-stack';
import { checkVendorPeerSettings, parseJoinEUIPrefix, type AdapterSetupInput } from '@joinery/core';
import { chirpStackConfigProblems } from './vendor-rules/chirpstack-config-rules';
import { ttsConfigProblems } from './vendor-rules/tts-config-rules';

const { parse: parseTOML } = require('smol-toml') as typeof SmolTOML;

const BUNDLE_FILES = ['ca.crt', 'client.crt', 'client.key'];
const HEADER = 'Bearer 3f7c1a9e5b2d4c6e8f0a1b2c';

/** Every combination the issue names: one EUI or ranges, header on/off, async on/off, BI 1.0/1.1, default or custom KEK label. */
function combinations(kekLabels: readonly string[]): AdapterSetupInput[] {
  const out: AdapterSetupInput[] = [];
  for (const prefixes of [['70b3d57ed0000001'], ['70b3d57ed0000000/40', '0016c001fffe0001']]) {
    for (const authorizationHeader of [null, HEADER]) {
      for (const asyncAnswers of [null, { url: 'https://ns.example.com:8001/', listenerCertificate: 'bundle' as const }, { url: 'https://ns.example.com/', listenerCertificate: 'own' as const }]) {
        for (const nsID of [null, '70b3d57ed00000aa']) {
          for (const label of kekLabels) {
            out.push({
              name: 'acme',
              netID: '000013',
              nsID,
              biURL: 'https://js.example.com:8003/bi/acme',
              joinEUIPrefixes: prefixes.map((p) => parseJoinEUIPrefix(p)),
              kek: { label, kekHex: '00112233445566778899aabbccddeeff' },
              installDir: '/etc/chirpstack/joinery-acme',
              authorizationHeader,
              asyncAnswers,
            });
          }
        }
      }
    }
  }
  return out;
}

const describeInput = (i: AdapterSetupInput): string =>
  `prefixes ${i.joinEUIPrefixes.map((p) => p.text).join(',')}, header ${i.authorizationHeader ? 'on' : 'off'}, async ${i.asyncAnswers ? i.asyncAnswers.listenerCertificate : 'off'}, ${i.nsID ? 'BI1.1' : 'BI1.0'}, label ${i.kek.label}`;

describe('rendered setup/ChirpStack loads every combination as rendered', () => {
  const inputs = combinations(['000013', 'joinery-acme-kek']);
  it.each(inputs.map((i) => [describeInput(i), i] as const))('%s', (_name, input) => {
    const rendered = chirpstack.renderSetup(input);
    const file = rendered.files.find((f) => f.name === 'chirpstack.toml')!;
    expect(chirpStackConfigProblems(file.content)).toEqual([]);
    expect(file.secret).toBe(true);
    const toml = parseTOML(file.content) as any;
    const servers = toml.join_server.servers as any[];
    expect(servers.map((s) => s.join_eui_prefix)).toEqual(input.joinEUIPrefixes.map((p) => p.text));
    for (const s of servers) {
      expect(s.async_timeout).toBe(input.asyncAnswers ? '1s' : '0s');
      if (input.authorizationHeader) expect(s.authorization_header).toBe(input.authorizationHeader);
      else expect(s).not.toHaveProperty('authorization_header');
    }
    if (input.asyncAnswers) {
      expect(toml.backend_interfaces).toEqual({
        bind: input.asyncAnswers.url.includes(':8001') ? '0.0.0.0:8001' : '0.0.0.0:443',
        ca_cert: '/etc/chirpstack/joinery-acme/ca.crt',
        tls_cert: '/etc/chirpstack/joinery-acme/async-listener.crt',
        tls_key: '/etc/chirpstack/joinery-acme/async-listener.key',
      });
      expect(rendered.instructions.join('\n')).toContain('async-listener.crt');
    } else {
      expect(toml).not.toHaveProperty('backend_interfaces');
    }
    expect(toml.keks).toEqual([{ label: input.kek.label, kek: input.kek.kekHex }]);
  });
});

describe('rendered setup/The Things Stack loads every combination as rendered', () => {
  const inputs = combinations(['000013', 'ns:000013:js-acme']);
  it.each(inputs.map((i) => [describeInput(i), i] as const))('%s', (_name, input) => {
    if (input.asyncAnswers) {
      expect(() => tts.renderSetup(input)).toThrow(/synchronous/);
      return;
    }
    const rendered = tts.renderSetup(input);
    const file = (n: string) => rendered.files.find((f) => f.name === n)!;
    expect(ttsConfigProblems({ configYml: file('config.yml').content, jsYml: file('js.yml').content, keyVaultYml: file('key-vault.yml').content }, BUNDLE_FILES)).toEqual([]);
    const config = parseYAML(file('config.yml').content);
    expect(config['join-servers'][0]['join-euis']).toEqual(input.joinEUIPrefixes.map((p) => p.text.toUpperCase()));
    const js = parseYAML(file('js.yml').content);
    if (input.authorizationHeader) {
      expect(js.headers).toEqual({ Authorization: input.authorizationHeader });
      expect(file('js.yml').secret).toBe(true);
    } else {
      expect(js).not.toHaveProperty('headers');
      expect(file('js.yml').secret).toBe(false);
    }
    expect(js.paths).toEqual({ join: 'bi/acme', rejoin: 'bi/acme', 'app-s-key': 'bi/acme', 'home-ns': 'bi/acme' });
    expect(file('key-vault.yml').secret).toBe(true);
    expect(file('config.yml').content).not.toContain('00112233445566778899');
  });
});

describe('rendered setup/the validators refuse what the vendors refuse', () => {
  const goodTOML = chirpstack.renderSetup(combinations(['000013'])[0]!).files[0]!.content;
  const goodTTS = tts.renderSetup(combinations(['000013'])[0]!);
  const ttsFiles = { configYml: goodTTS.files[0]!.content, jsYml: goodTTS.files[1]!.content, keyVaultYml: goodTTS.files[2]!.content };

  it('ChirpStack: async without a listener, a listener bound to a host name, a misspelt key', () => {
    expect(chirpStackConfigProblems(goodTOML)).toEqual([]);
    expect(chirpStackConfigProblems(goodTOML.replace('async_timeout = "0s"', 'async_timeout = "1s"')).join('\n')).toMatch(/no \[backend_interfaces\] listener/);
    expect(chirpStackConfigProblems(`${goodTOML}\n[backend_interfaces]\n  bind = "ns.example.com:8001"\n  ca_cert = "/a"\n  tls_cert = "/b"\n  tls_key = "/c"\n`).join('\n')).toMatch(/bind/);
    expect(chirpStackConfigProblems(goodTOML.replace('tls_key', 'tls_keyfile')).join('\n')).toMatch(/unknown key tls_keyfile/);
  });

  it('The Things Stack: a bare EUI, an upper-case label, sender-ns-id with BI1.0, an unknown key', () => {
    expect(ttsConfigProblems(ttsFiles, BUNDLE_FILES)).toEqual([]);
    expect(ttsConfigProblems({ ...ttsFiles, configYml: ttsFiles.configYml.replace('70B3D57ED0000001/64', '70B3D57ED0000001') }, BUNDLE_FILES).join('\n')).toMatch(/not <16 hex>\/<N>/);
    expect(ttsConfigProblems({ ...ttsFiles, keyVaultYml: 'key-vault:\n  provider: static\n  static:\n    NS-000013: 00112233445566778899AABBCCDDEEFF\n' }, BUNDLE_FILES).join('\n')).toMatch(/lower-cased/);
    expect(ttsConfigProblems({ ...ttsFiles, keyVaultYml: 'key-vault:\n  provider: static\n  static:\n    ns.000013: 00112233445566778899AABBCCDDEEFF\n' }, BUNDLE_FILES).join('\n')).toMatch(/split on/);
    expect(ttsConfigProblems({ ...ttsFiles, jsYml: `${ttsFiles.jsYml}sender-ns-id: 70B3D57ED00000AA\n` }, BUNDLE_FILES).join('\n')).toMatch(/sender-ns-id with BI1.0/);
    expect(ttsConfigProblems({ ...ttsFiles, jsYml: `${ttsFiles.jsYml}timeout: 5s\n` }, BUNDLE_FILES).join('\n')).toMatch(/unknown key timeout/);
  });
});

describe('rendered setup/what a vendor cannot use is refused before anything is registered', () => {
  it('The Things Stack: an upper-case or dotted KEK label, asynchronous answers', () => {
    expect(() => checkVendorPeerSettings('the-things-stack', { kekLabel: 'NS-000013' })).toThrow(/--kek-label: the-things-stack cannot find the KEK label "NS-000013": its configuration loader lower-cases/);
    expect(() => checkVendorPeerSettings('the-things-stack', { kekLabel: 'ns.000013' })).toThrow(/splits them on "\."/);
    expect(() => checkVendorPeerSettings('the-things-stack', { kekLabel: 'ns:000013:js-acme' })).not.toThrow();
    expect(() => checkVendorPeerSettings('the-things-stack', { asyncAnswers: true })).toThrow(/--async-answer-url: the-things-stack reads every answer from the HTTP response/);
  });

  it('ChirpStack takes any label and asynchronous answers', () => {
    expect(() => checkVendorPeerSettings('chirpstack', { kekLabel: 'NS.Mixed', asyncAnswers: true })).not.toThrow();
  });
});

import { parse } from 'yaml';
import { adapterModule } from '@joinery/adapter-the-things-stack';
import { parseJoinEUIPrefix, type AdapterSetupInput } from '@joinery/core';
import { dcsConfigProblems, type DCSFiles } from '../../../test/src/adapters/vendor-rules/tts-dcs-config-rules';

const base: AdapterSetupInput = {
  name: 'acme',
  netID: '00001a',
  nsID: '70b3d57ed00000aa',
  biURL: 'https://js.example.com:8003/bi/acme',
  joinEUIPrefixes: [parseJoinEUIPrefix('70b3d57ed0000000/40')],
  kek: { label: 'ns:00001a:acme', kekHex: '00112233445566778899aabbccddeeff' },
  installDir: '/etc/joinery-acme',
  authorizationHeader: null,
  asyncAnswers: null,
};
const TLS_FILES = ['ca.crt', 'client.crt', 'client.key'];

/** The rendered files as the Device Claiming Server finds them in its directory. */
function dcsFiles(input: AdapterSetupInput): DCSFiles {
  const files = adapterModule.renderSetup(input).files;
  const content = (n: string): string => files.find((f) => f.name === n)!.content;
  return {
    stackYml: content('dcs.yml'),
    configYml: content('dcs-config.yml'),
    joinServerYmls: { [`./joinery-${input.name}.yml`]: content(`joinery-${input.name}.yml`) },
    directoryFiles: [...TLS_FILES, `joinery-${input.name}.yml`, 'config.yml'],
  };
}

describe('the-things-stack/device claiming setup', () => {
  const inputs = [base, { ...base, nsID: null }, { ...base, biURL: 'https://js.example.com/bi/acme', joinEUIPrefixes: [parseJoinEUIPrefix('70b3d57ed0000001'), parseJoinEUIPrefix('0016c001fffe0000/48')] }];
  it.each(inputs.map((i) => [`${i.nsID ? 'with' : 'without'} NSID, ${i.biURL}, ${i.joinEUIPrefixes.length} prefix(es)`, i] as const))('loads as rendered: %s', (_name, input) => {
    const f = dcsFiles(input);
    expect(dcsConfigProblems(f)).toEqual([]);
    const edcs = parse(f.stackYml).dcs.edcs;
    expect(edcs).toEqual({ 'net-id': '00001A', ...(input.nsID ? { 'ns-id': input.nsID.toUpperCase() } : {}), source: 'directory', directory: '/etc/joinery-acme' });
    // The listener's root: TTS appends /api/v2/devices/... itself.
    expect(parse(f.joinServerYmls['./joinery-acme.yml']!).url).toBe(new URL(input.biURL).origin);
    expect(parse(f.configYml)['join-servers'][0]['join-euis']).toEqual(input.joinEUIPrefixes.map((p) => p.text.toUpperCase()));
    // Nothing secret in them: the key stays in client.key; the KEK in key-vault.yml.
    for (const file of adapterModule.renderSetup(input).files.filter((x) => x.name.startsWith('dcs') || x.name === 'joinery-acme.yml')) {
      expect(file.secret).toBe(false);
      expect(file.content).not.toContain('00112233445566778899');
    }
  });
});

describe('the-things-stack/the DCS validator refuses what TTS refuses', () => {
  const good = dcsFiles(base);
  const js = good.joinServerYmls['./joinery-acme.yml']!;
  const withJS = (text: string): DCSFiles => ({ ...good, joinServerYmls: { './joinery-acme.yml': text } });

  it('components in a join-servers entry, a missing type, a bare EUI', () => {
    expect(dcsConfigProblems({ ...good, configYml: good.configYml.replace('type: ttjsv2', 'type: ttjsv2\n    components: [ns, as]') }).join('\n')).toMatch(/unknown key components/);
    expect(dcsConfigProblems({ ...good, configYml: good.configYml.replace('type: ttjsv2', '') }).join('\n')).toMatch(/not ttjsv2/);
    expect(dcsConfigProblems({ ...good, configYml: good.configYml.replace('70B3D57ED0000000/40', '70B3D57ED0000000') }).join('\n')).toMatch(/not <16 hex>\/<N>/);
  });

  it("a url with a trailing slash, an unknown key, TLS without a source, a TLS file outside the entry's directory", () => {
    expect(dcsConfigProblems(withJS(js.replace(/^url: (.*)$/m, 'url: $1/'))).join('\n')).toMatch(/ends with "\/"/);
    expect(dcsConfigProblems(withJS(`${js}timeout: 5s\n`)).join('\n')).toMatch(/unknown key timeout/);
    expect(dcsConfigProblems(withJS(js.replace('source: file', 'source: ""'))).join('\n')).toMatch(/empty source/);
    expect(dcsConfigProblems(withJS(js.replace('root-ca: ca.crt', 'root-ca: /etc/joinery-acme/ca.crt'))).join('\n')).toMatch(/not in the directory \(looked for etc\/joinery-acme\/ca.crt\)/);
  });

  it('net-id left at 000000, no source', () => {
    expect(dcsConfigProblems({ ...good, stackYml: good.stackYml.replace('00001A', '"000000"') }).join('\n')).toMatch(/000000/);
    expect(dcsConfigProblems({ ...good, stackYml: good.stackYml.replace('source: directory', 'source: dir') }).join('\n')).toMatch(/no claimer/);
  });
});

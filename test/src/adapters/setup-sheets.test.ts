import { adapterModule as actility } from '@joinery/adapter-actility';
import { adapterModule as loriot } from '@joinery/adapter-loriot';
import { adapterModule as orbiwise } from '@joinery/adapter-orbiwise';
import { parseJoinEUIPrefix, type AdapterModule, type AdapterSetupInput, type SetupSheet } from '@joinery/core';

const PEM = (what: string): string => `-----BEGIN CERTIFICATE-----\nMIIB${what}Q2VydGlmaWNhdGUgYm9keQ==\n-----END CERTIFICATE-----\n`;
const KEK = '00112233445566778899aabbccddeeff';

const input: AdapterSetupInput = {
  name: 'acme-ns',
  netID: '000013',
  nsID: '70b3d57ed0000001',
  biURL: 'https://js.example.com:8003/bi/acme-ns',
  joinEUIPrefixes: [parseJoinEUIPrefix('70b3d57ed0000000/40'), parseJoinEUIPrefix('0016c001fffe0001')],
  kek: { label: '000013', kekHex: KEK },
  installDir: '/etc/joinery-acme-ns',
  caCertificatePEM: PEM('CA'),
  clientCertificatePEM: PEM('CLIENT'),
  authorizationHeader: null,
  asyncAnswers: null,
};

const VENDORS: Array<[string, AdapterModule]> = [
  ['actility', actility],
  ['loriot', loriot],
  ['orbiwise', orbiwise],
];

describe.each(VENDORS)('%s/setup sheet', (vendor, module) => {
  const setup = module.renderSetup(input);
  const md = setup.files.find((f) => f.name === 'setup-sheet.md')!;
  const json = setup.files.find((f) => f.name === 'setup-sheet.json')!;

  it('renders as Markdown and JSON, both secret (they hold the KEK)', () => {
    expect(setup.files.map((f) => f.name)).toEqual(['setup-sheet.md', 'setup-sheet.json']);
    expect(md.secret && json.secret).toBe(true);
    expect(setup.instructions[0]).toMatch(/secure channel/);
  });

  it('holds every value the operator enters: URL, protocol, NetID/NSID, JoinEUI ranges, CA, client certificate, KEK label and KEK', () => {
    const sheet = JSON.parse(json.content) as SetupSheet;
    expect(sheet).toMatchObject({
      vendor,
      peer: 'acme-ns',
      joinServer: { url: input.biURL, protocol: 'BI1.1' },
      networkServer: { netID: '000013', nsID: '70B3D57ED0000001' },
      joinEUIRanges: [
        { prefix: '70B3D57ED0000000/40', first: '70B3D57ED0000000', last: '70B3D57ED0FFFFFF' },
        { prefix: '0016C001FFFE0001/64', first: '0016C001FFFE0001', last: '0016C001FFFE0001' },
      ],
      tls: { caCertificate: { file: 'ca.crt', pem: PEM('CA') }, clientCertificate: { file: 'client.crt', pem: PEM('CLIENT') }, clientKey: { file: 'client.key' } },
      kek: { label: '000013', kek: KEK.toUpperCase() },
    });
    for (const value of [input.biURL, '000013', '70B3D57ED0000001', '70B3D57ED0000000/40', '70B3D57ED0FFFFFF', '0016C001FFFE0001', PEM('CA').trim(), PEM('CLIENT').trim(), KEK.toUpperCase(), 'Backend Interfaces 1.1']) {
      expect(md.content).toContain(value);
    }
  });

  it('holds no root key and no private key: the KEK is the only key in it', () => {
    for (const f of setup.files) {
      const keys = f.content.match(/\b[0-9a-fA-F]{32}\b/g) ?? [];
      expect(new Set(keys.map((k) => k.toUpperCase()))).toEqual(new Set([KEK.toUpperCase()]));
      expect(f.content).not.toMatch(/PRIVATE KEY/);
    }
    expect(setup.instructions.join('\n')).not.toContain(KEK.toUpperCase());
  });

  it('names the bundle files when the PEMs are not given; BI 1.0 without an NSID', () => {
    const { caCertificatePEM: _ca, clientCertificatePEM: _client, ...bare } = input;
    const s = module.renderSetup({ ...bare, nsID: null });
    const sheet = JSON.parse(s.files[1]!.content) as SetupSheet;
    expect(sheet.tls.caCertificate.pem).toBeNull();
    expect(sheet.joinServer.protocol).toBe('BI1.0');
    expect(s.files[0]!.content).toContain('`ca.crt`');
    expect(s.files[0]!.content).not.toContain('SenderNSID');
  });

  it('refuses no JoinEUI range and a plain-http Join Server URL', () => {
    expect(() => module.renderSetup({ ...input, joinEUIPrefixes: [] })).toThrow(/JoinEUI/);
    expect(() => module.renderSetup({ ...input, biURL: 'http://js.example.com/bi/x' })).toThrow(/https/);
  });
});

describe('loriot/setup sheet of a configured adapter', () => {
  it("carries the application's joinServerId", async () => {
    const a = loriot.createAdapter({ apiUrl: 'eu1', apiKey: 'k', options: { applicationId: 'BE7A0001', joinServerId: '70B3D57ED0000001' } });
    const sheet = JSON.parse(a.renderSetup(input).files[1]!.content) as SetupSheet;
    expect(sheet.vendorSettings).toEqual({ joinServerId: '70B3D57ED0000001' });
    await a.close();
  });
});

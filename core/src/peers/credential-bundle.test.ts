import { createPrivateKey, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CAMaterial, createCA, issueClientCertificate } from '../pki/certificate-authority';
import { type CredentialBundle, CredentialBundleError, type PeerDescriptor, bundleReadme, readCredentialBundle, writeCredentialBundle } from './credential-bundle';

const CS: PeerDescriptor = { kind: 'ns', name: 'acme-cs', netID: '000013', vendor: 'chirpstack', biURL: 'https://js.example.com:8003/bi/acme-cs' };
const TTS: PeerDescriptor = { kind: 'ns', name: 'acme-tts', netID: '000013', vendor: 'the-things-stack', biURL: 'https://js.example.com:8003/bi/acme-tts' };
const TTS11: PeerDescriptor = { ...TTS, nsID: '70b3d57ed0000001' };
const AS: PeerDescriptor = { kind: 'as', name: 'billing', asID: 'as.example.com', biURL: 'https://js.example.com:8003/bi/billing' };

let ca: CAMaterial;
let root: string;
beforeAll(async () => {
  ca = await createCA();
});
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-bundle-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function bundleFor(peer: PeerDescriptor, label = '000013'): Promise<CredentialBundle> {
  const client = await issueClientCertificate(ca, peer.name, { organizationalUnit: peer.kind === 'ns' ? 'network-server' : 'application-server' });
  return {
    caPem: ca.certPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    kek: { label, kekHex: randomBytes(16).toString('hex') },
    peer,
    readme: bundleReadme(peer, label),
  };
}

async function mode(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

describe('peers/credential bundle', () => {
  test('peers/credential bundle/writes every file, keys 0600, into a new 0700 directory', async () => {
    const dir = path.join(root, 'bundles', 'acme-cs');
    const bundle = await bundleFor(CS);
    const written = await writeCredentialBundle(dir, bundle);
    const names = ['ca.crt', 'client.crt', 'client.key', 'kek.json', 'peer.json', 'README.txt'];
    expect(written).toEqual(names.map((n) => path.join(dir, n)));
    expect((await fs.readdir(dir)).sort()).toEqual([...names].sort());
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, 'client.key'))).toBe(0o600);
    expect(await mode(path.join(dir, 'kek.json'))).toBe(0o600);
    expect(await mode(path.join(dir, 'client.crt'))).toBe(0o644);

    const key = await fs.readFile(path.join(dir, 'client.key'), 'utf8');
    expect(key.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(createPrivateKey(key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(JSON.parse(await fs.readFile(path.join(dir, 'kek.json'), 'utf8'))).toEqual({ label: '000013', kek: bundle.kek.kekHex });
    expect(JSON.parse(await fs.readFile(path.join(dir, 'peer.json'), 'utf8'))).toEqual(CS);
    const readme = await fs.readFile(path.join(dir, 'README.txt'), 'utf8');
    expect(readme).toBe(bundle.readme);
    expect(readme.toLowerCase()).not.toContain(bundle.kek.kekHex);
  });

  test('peers/credential bundle/reads back what it wrote', async () => {
    const bundle = await bundleFor(TTS11, 'ns:000013:js.example.com');
    await writeCredentialBundle(root, bundle);
    expect(await readCredentialBundle(root)).toEqual(bundle);
  });

  test('peers/credential bundle/never overwrites existing credentials', async () => {
    const first = await bundleFor(CS);
    await writeCredentialBundle(root, first);
    const second = await bundleFor(CS);
    await expect(writeCredentialBundle(root, second)).rejects.toThrow(/client\.key already exists: refusing to overwrite/);
    expect(await readCredentialBundle(root)).toEqual(first);
  });

  test('peers/credential bundle/a directory with other files but no client.key is fine', async () => {
    await fs.writeFile(path.join(root, 'notes.txt'), 'hello');
    await writeCredentialBundle(root, await bundleFor(AS, 'as:as.example.com'));
    expect((await fs.readdir(root)).sort()).toEqual(['README.txt', 'ca.crt', 'client.crt', 'client.key', 'kek.json', 'notes.txt', 'peer.json']);
  });

  test('peers/credential bundle/refuses bad material before writing anything', async () => {
    const good = await bundleFor(CS);
    const other = await issueClientCertificate(ca, 'other');
    const dir = path.join(root, 'b');
    await expect(writeCredentialBundle(dir, { ...good, kek: { label: 'x', kekHex: 'abcd' } })).rejects.toThrow(/32 hex/);
    await expect(writeCredentialBundle(dir, { ...good, clientKeyPem: other.keyPem })).rejects.toThrow(/matching the client certificate/);
    await expect(writeCredentialBundle(dir, { ...good, peer: { ...CS, netID: 'zz' } })).rejects.toThrow(/netID/);
    await expect(fs.stat(dir)).rejects.toThrow();
  });

  test('peers/credential bundle/read errors name the missing or bad file', async () => {
    await writeCredentialBundle(root, await bundleFor(CS));
    const file = (n: string): string => path.join(root, n);
    const kek = await fs.readFile(file('kek.json'), 'utf8');

    await fs.writeFile(file('kek.json'), '{"label": "000013", "kek": "00"}');
    await expect(readCredentialBundle(root)).rejects.toThrow(`${file('kek.json')}: "kek" must be 32 hex digits`);
    await fs.writeFile(file('kek.json'), 'not json');
    await expect(readCredentialBundle(root)).rejects.toThrow(`${file('kek.json')}: not valid JSON`);
    await fs.writeFile(file('kek.json'), kek);

    await fs.writeFile(file('peer.json'), '{"kind": "gateway"}');
    await expect(readCredentialBundle(root)).rejects.toThrow(file('peer.json'));
    await fs.writeFile(file('peer.json'), JSON.stringify(CS));

    await fs.writeFile(file('client.crt'), 'garbage');
    await expect(readCredentialBundle(root)).rejects.toThrow(`${file('client.crt')}: not a PEM certificate`);

    await fs.rm(file('ca.crt'));
    const err = await readCredentialBundle(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialBundleError);
    expect((err as CredentialBundleError).file).toBe(file('ca.crt'));
    expect((err as Error).message).toBe(`credential bundle: ${file('ca.crt')}: missing (the Joinery CA certificate)`);

    await expect(readCredentialBundle(path.join(root, 'nowhere'))).rejects.toThrow(/ca\.crt: missing/);
  });

  test("peers/credential bundle/a key that is not the certificate's is reported", async () => {
    await writeCredentialBundle(root, await bundleFor(CS));
    await fs.writeFile(path.join(root, 'client.key'), (await issueClientCertificate(ca, 'x')).keyPem);
    await expect(readCredentialBundle(root)).rejects.toThrow(/client\.key: not the private key of .*client\.crt/);
  });
});

describe('peers/credential bundle/readme', () => {
  test('peers/credential bundle/readme/chirpstack gets a chirpstack.toml excerpt', () => {
    const readme = bundleReadme(CS, '000013');
    expect(readme).toContain('[[join_server.servers]]');
    expect(readme).toMatch(/join_eui_prefix="<JoinEUI>\/<bits>" +# REPLACE/);
    expect(readme).toContain('server="https://js.example.com:8003/bi/acme-cs"');
    expect(readme).toContain('async_timeout="0s"');
    expect(readme).toContain('ca_cert="/etc/chirpstack/joinery-acme-cs/ca.crt"');
    expect(readme).toContain('tls_cert="/etc/chirpstack/joinery-acme-cs/client.crt"');
    expect(readme).toContain('tls_key="/etc/chirpstack/joinery-acme-cs/client.key"');
    expect(readme).toMatch(/\[\[keks\]\]\n +label="000013"\n +kek="<32 hex digits>" +# REPLACE with the "kek" value from kek.json/);
    expect(readme).not.toContain('async_interface');
    expect(readme).not.toMatch(/^ *\[network\]/m);
    expect(readme).toContain("it also issued\n              the Join Server's own TLS server certificate");
  });

  test('peers/credential bundle/readme/the things stack without NSID uses BI1.0', () => {
    const readme = bundleReadme(TTS, 'ns:000013:js.example.com');
    expect(readme).toContain('join-servers:\n    - file: ./joinery-acme-tts/js.yml\n      components: [ns, as]\n      join-euis: ["<JoinEUI>/<bits>"]');
    expect(readme).toContain(
      '  fqdn: "js.example.com"\n  port: 8003\n  protocol: BI1.0\n  paths: {join: "bi/acme-tts", rejoin: "bi/acme-tts", app-s-key: "bi/acme-tts", home-ns: "bi/acme-tts"}\n  tls: {source: file, root-ca: ca.crt, certificate: client.crt, key: client.key}',
    );
    expect(readme).not.toContain('sender-ns-id:');
    expect(readme).toContain('key-vault:\n    provider: static\n    static:\n      "ns:000013:js.example.com": "<32 hex digits>"');
  });

  test('peers/credential bundle/readme/with the vendor setup rendered, the same steps and files as SETUP.txt', () => {
    const setup = { files: [{ name: 'chirpstack.toml', content: '', secret: true }], instructions: ['Copy ca.crt to /opt/cs/joinery.', 'Merge chirpstack.toml.'] };
    const readme = bundleReadme(CS, '000013', setup);
    expect(readme).toContain('SETTING UP CHIRPSTACK (the same steps are in SETUP.txt)\n\n1. Copy ca.crt to /opt/cs/joinery.\n2. Merge chirpstack.toml.');
    expect(readme).toContain('  chirpstack.toml  SECRET');
    expect(readme).not.toContain('REPLACE');
    expect(readme).not.toContain('/etc/chirpstack/joinery-acme-cs');
  });

  test('peers/credential bundle/readme/the things stack with NSID uses BI1.1 and sender-ns-id', () => {
    const readme = bundleReadme(TTS11, 'ns:000013:js.example.com');
    expect(readme).toContain('protocol: BI1.1');
    expect(readme).toContain('sender-ns-id: "70b3d57ed0000001"');
    expect(readme).toContain('70b3d57ed0000001 (SenderNSID');
  });

  test('peers/credential bundle/readme/the things stack on the default port at the URL root', () => {
    const readme = bundleReadme({ ...TTS, biURL: 'https://js.example.com/' }, 'l');
    expect(readme).toContain('port: 443');
    expect(readme).not.toContain('paths: {');
  });

  test.each(['actility', 'loriot', 'orbiwise', 'generic'])('peers/credential bundle/readme/%s gets a setup sheet', (vendor) => {
    const readme = bundleReadme({ ...CS, vendor }, '000013');
    expect(readme).toContain('SETUP SHEET');
    expect(readme).toContain('https://js.example.com:8003/bi/acme-cs');
    expect(readme).toMatch(/KEK label +000013/);
    expect(readme).toMatch(/KEK +the "kek" value in kek.json/);
    expect(readme).toMatch(/Server CA \(trust anchor\) +ca\.crt/);
    expect(readme).toMatch(/Client certificate \/ key +client\.crt \/ client\.key/);
    expect(readme).not.toContain('[[join_server.servers]]');
    expect(readme).not.toContain('join-servers:');
  });

  test('peers/credential bundle/readme/an application server gets its AS-ID, URL and KEK label', () => {
    const readme = bundleReadme(AS, 'as:as.example.com');
    expect(readme).toContain('APPLICATION SERVER "billing"');
    expect(readme).toMatch(/AS-ID +as\.example\.com \(the SenderID of your AppSKeyReq/);
    expect(readme).toMatch(/AppSKeyReq URL +https:\/\/js\.example\.com:8003\/bi\/billing/);
    expect(readme).toMatch(/KEK label +as:as\.example\.com/);
    expect(readme).toContain('wrapped with your KEK');
    expect(readme).not.toContain('NetID');
  });
});

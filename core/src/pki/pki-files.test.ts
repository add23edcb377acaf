import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCA, issueServerCertificate } from './certificate-authority';
import { loadOrCreatePKI } from './pki-files';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-pki-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function mode(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

function sans(certPem: string): string | undefined {
  return new X509Certificate(certPem).subjectAltName;
}

describe('pki/files', () => {
  test('pki/files/first start creates the CA and the server certificate in a new 0700 directory', async () => {
    const dataDir = path.join(root, 'data', 'joinery');
    const pki = await loadOrCreatePKI(dataDir, ['localhost', '127.0.0.1']);
    expect(pki.created).toEqual({ ca: true, server: true });
    expect(await mode(dataDir)).toBe(0o700);
    expect((await fs.readdir(dataDir)).sort()).toEqual(['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    expect(await mode(path.join(dataDir, 'ca.key'))).toBe(0o600);
    expect(await mode(path.join(dataDir, 'server.key'))).toBe(0o600);
    expect(await mode(path.join(dataDir, 'ca.crt'))).toBe(0o644);
    expect(await fs.readFile(path.join(dataDir, 'ca.crt'), 'utf8')).toBe(pki.ca.certPem);
    expect(await fs.readFile(path.join(dataDir, 'ca.key'), 'utf8')).toBe(pki.ca.keyPem);
    expect(await fs.readFile(path.join(dataDir, 'server.crt'), 'utf8')).toBe(pki.server.certPem);
    expect(await fs.readFile(path.join(dataDir, 'server.key'), 'utf8')).toBe(pki.server.keyPem);
    expect(pki.ca.keyPem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    expect(pki.server.keyPem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    expect(sans(pki.server.certPem)).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(new X509Certificate(pki.server.certPem).checkIssued(new X509Certificate(pki.ca.certPem))).toBe(true);
  });

  test('pki/files/next start reuses both', async () => {
    const first = await loadOrCreatePKI(root, ['localhost', '127.0.0.1']);
    const second = await loadOrCreatePKI(root, ['127.0.0.1', 'LOCALHOST']);
    expect(second.created).toEqual({ ca: false, server: false });
    expect(second.ca).toEqual(first.ca);
    expect(second.server).toEqual(first.server);
  });

  test('pki/files/a new public host re-issues the server certificate, keeping the CA', async () => {
    const first = await loadOrCreatePKI(root, ['localhost', '127.0.0.1']);
    const second = await loadOrCreatePKI(root, ['localhost', '127.0.0.1', 'js.example.com', '[2001:db8:0::1]']);
    expect(second.created).toEqual({ ca: false, server: true });
    expect(second.ca).toEqual(first.ca);
    expect(second.server.certPem).not.toBe(first.server.certPem);
    expect(sans(second.server.certPem)).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:js.example.com, IP Address:2001:DB8:0:0:0:0:0:1');
    expect(await fs.readFile(path.join(root, 'server.crt'), 'utf8')).toBe(second.server.certPem);
    expect(await fs.readFile(path.join(root, 'server.key'), 'utf8')).toBe(second.server.keyPem);
    expect(await mode(path.join(root, 'server.key'))).toBe(0o600);
    // and it sticks
    const third = await loadOrCreatePKI(root, ['js.example.com', '2001:db8::1']);
    expect(third.created).toEqual({ ca: false, server: false });
    expect(third.server).toEqual(second.server);
  });

  test('pki/files/a re-issued server certificate keeps the names of the one it replaces', async () => {
    await loadOrCreatePKI(root, ['localhost', '127.0.0.1', '::1']);
    const other = await loadOrCreatePKI(root, ['js.example.com']);
    expect(other.created.server).toBe(true);
    expect(new X509Certificate(other.server.certPem).subject).toBe('CN=js.example.com');
    expect(sans(other.server.certPem)).toBe('DNS:js.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    // so the listener asking for its own hosts again changes nothing
    expect((await loadOrCreatePKI(root, ['localhost', '127.0.0.1', '::1'])).created.server).toBe(false);
  });

  test('pki/files/no hosts means localhost and 127.0.0.1', async () => {
    const pki = await loadOrCreatePKI(root, []);
    expect(sans(pki.server.certPem)).toBe('DNS:localhost, IP Address:127.0.0.1');
  });

  test('pki/files/a missing or mismatched server key re-issues the server certificate', async () => {
    const first = await loadOrCreatePKI(root, ['localhost']);
    await fs.rm(path.join(root, 'server.key'));
    const second = await loadOrCreatePKI(root, ['localhost']);
    expect(second.created).toEqual({ ca: false, server: true });
    expect(second.server.certPem).not.toBe(first.server.certPem);

    await fs.writeFile(path.join(root, 'server.key'), first.server.keyPem);
    const third = await loadOrCreatePKI(root, ['localhost']);
    expect(third.created.server).toBe(true);
    expect(new X509Certificate(third.server.certPem).checkPrivateKey(createPrivateKey(third.server.keyPem))).toBe(true);
  });

  test('pki/files/a server certificate from another CA is re-issued', async () => {
    const pki = await loadOrCreatePKI(root, ['localhost']);
    const foreign = await issueServerCertificate(await createCA('Elsewhere'), ['localhost']);
    await fs.writeFile(path.join(root, 'server.crt'), foreign.certPem);
    await fs.writeFile(path.join(root, 'server.key'), foreign.keyPem);
    const again = await loadOrCreatePKI(root, ['localhost']);
    expect(again.created).toEqual({ ca: false, server: true });
    expect(new X509Certificate(again.server.certPem).checkIssued(new X509Certificate(pki.ca.certPem))).toBe(true);
    expect(sans(again.server.certPem)).toBe('DNS:localhost');
  });

  test('pki/files/never overwrites an existing CA, even half of one', async () => {
    const pki = await loadOrCreatePKI(root, ['localhost']);
    await fs.rm(path.join(root, 'ca.key'));
    await expect(loadOrCreatePKI(root, ['localhost'])).rejects.toThrow(/incomplete CA: .*ca\.crt exists but .*ca\.key does not/);
    expect(await fs.readFile(path.join(root, 'ca.crt'), 'utf8')).toBe(pki.ca.certPem);
    expect((await fs.readdir(root)).sort()).toEqual(['ca.crt', 'server.crt', 'server.key']);
  });

  test("pki/files/refuses a CA key that is not the CA certificate's", async () => {
    await loadOrCreatePKI(root, ['localhost']);
    const other = await createCA();
    await fs.writeFile(path.join(root, 'ca.key'), other.keyPem);
    await expect(loadOrCreatePKI(root, ['localhost'])).rejects.toThrow(/ca\.key is not the private key of .*ca\.crt/);
  });

  test('pki/files/an existing data directory keeps its mode and other files, and no temp files are left', async () => {
    await fs.chmod(root, 0o750);
    await fs.writeFile(path.join(root, 'joinery.db'), 'x');
    await loadOrCreatePKI(root, ['localhost']);
    await loadOrCreatePKI(root, ['localhost', 'js.example.com']);
    expect(await mode(root)).toBe(0o750);
    expect((await fs.readdir(root)).sort()).toEqual(['ca.crt', 'ca.key', 'joinery.db', 'server.crt', 'server.key']);
  });
});

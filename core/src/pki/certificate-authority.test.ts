import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type CAMaterial, certificateFingerprint, createCA, issueClientCertificate, issueServerCertificate } from './certificate-authority';
import { x509 } from './x509';

const DAY_MS = 24 * 60 * 60 * 1000;

function ext<T extends x509.Extension>(pem: string, type: new (raw: ArrayBuffer) => T): T {
  const found = new x509.X509Certificate(pem).getExtension(type);
  if (!found) throw new Error(`extension ${type.name} missing`);
  return found;
}

function expectP256PKCS8(keyPem: string): void {
  expect(keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
  const key = createPrivateKey(keyPem);
  expect(key.asymmetricKeyType).toBe('ec');
  expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
}

function expectSerial(cert: X509Certificate): void {
  expect(cert.serialNumber).toMatch(/^[0-9A-F]{32}$/);
  // positive, and no leading zero byte (minimal DER)
  expect(parseInt(cert.serialNumber.slice(0, 2), 16) & 0xc0).toBe(0x40);
}

function validityDays(cert: X509Certificate): number {
  return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS;
}

let ca: CAMaterial;
beforeAll(async () => {
  ca = await createCA();
});

describe('pki/ca', () => {
  test('pki/ca/is a self-signed P-256 CA with critical basic constraints and key usage', async () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=Joinery CA');
    expect(cert.issuer).toBe('CN=Joinery CA');
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expectP256PKCS8(ca.keyPem);
    expectSerial(cert);

    const parsed = new x509.X509Certificate(ca.certPem);
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    const bc = ext(ca.certPem, x509.BasicConstraintsExtension);
    expect(bc.critical).toBe(true);
    expect(bc.ca).toBe(true);
    expect(bc.pathLength).toBe(0);
    const ku = ext(ca.certPem, x509.KeyUsagesExtension);
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ext(ca.certPem, x509.SubjectKeyIdentifierExtension).keyId).toMatch(/^[0-9a-f]{40}$/);
  });

  test('pki/ca/is valid for ten years from a minute ago', () => {
    const cert = new X509Certificate(ca.certPem);
    const from = Date.parse(cert.validFrom);
    expect(from).toBeLessThan(Date.now() - 30_000);
    expect(from).toBeGreaterThan(Date.now() - 5 * 60_000);
    expect(validityDays(cert)).toBeGreaterThanOrEqual(3650);
    expect(validityDays(cert)).toBeLessThan(3654);
  });

  test('pki/ca/takes a common name and random serials', async () => {
    const other = await createCA('Acme Join Server CA');
    expect(new X509Certificate(other.certPem).subject).toBe('CN=Acme Join Server CA');
    expect(new X509Certificate(other.certPem).serialNumber).not.toBe(new X509Certificate(ca.certPem).serialNumber);
    expect(other.keyPem).not.toBe(ca.keyPem);
  });
});

describe('pki/server certificate', () => {
  test('pki/server certificate/IP hosts become IP SANs, names DNS SANs, the first host the CN', async () => {
    const server = await issueServerCertificate(ca, ['js.example.com', '127.0.0.1', '[::1]', 'localhost', 'JS.example.com']);
    const cert = new X509Certificate(server.certPem);
    expect(cert.subject).toBe('CN=js.example.com');
    expect(cert.subjectAltName).toBe('DNS:js.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBeDefined();
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expectP256PKCS8(server.keyPem);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expectSerial(cert);
  });

  test('pki/server certificate/digitalSignature key usage, authority key id of the CA, 825 days', async () => {
    const server = await issueServerCertificate(ca, ['localhost']);
    const ku = ext(server.certPem, x509.KeyUsagesExtension);
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(ext(server.certPem, x509.AuthorityKeyIdentifierExtension).keyId).toBe(ext(ca.certPem, x509.SubjectKeyIdentifierExtension).keyId);
    expect(Math.round(validityDays(new X509Certificate(server.certPem)) - 1 / 1440)).toBe(825);
  });

  test('pki/server certificate/needs a host', async () => {
    await expect(issueServerCertificate(ca, [])).rejects.toThrow(/at least one host/);
    await expect(issueServerCertificate(ca, [' '])).rejects.toThrow(/empty host/);
  });
});

describe('pki/client certificate', () => {
  test('pki/client certificate/CN is the peer, OU its kind, clientAuth, two years', async () => {
    const client = await issueClientCertificate(ca, 'acme-cs', { organizationalUnit: 'network-server' });
    const cert = new X509Certificate(client.certPem);
    expect(cert.subject).toBe('OU=network-server\nCN=acme-cs');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(ext(client.certPem, x509.KeyUsagesExtension).usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(ext(client.certPem, x509.AuthorityKeyIdentifierExtension).keyId).toBe(ext(ca.certPem, x509.SubjectKeyIdentifierExtension).keyId);
    expect(Math.round(validityDays(cert) - 1 / 1440)).toBe(730);
    expectP256PKCS8(client.keyPem);
    expect(cert.checkPrivateKey(createPrivateKey(client.keyPem))).toBe(true);
    expect(client.fingerprint).toBe(createHash('sha256').update(cert.raw).digest('hex'));
    expect(client.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  test('pki/client certificate/without an OU', async () => {
    const client = await issueClientCertificate(ca, 'billing-as');
    expect(new X509Certificate(client.certPem).subject).toBe('CN=billing-as');
  });

  test('pki/client certificate/identifies the peer over mTLS', async () => {
    const server = await issueServerCertificate(ca, ['127.0.0.1', 'localhost']);
    const client = await issueClientCertificate(ca, 'acme-cs', { organizationalUnit: 'network-server' });
    const otherCA = await createCA('Not Joinery');
    const stranger = await issueClientCertificate(otherCA, 'acme-cs', { organizationalUnit: 'network-server' });

    const seen: Array<{ authorized: boolean; fingerprint: string; viaHelper: string; cn: string }> = [];
    const httpsServer = https.createServer({ cert: server.certPem, key: server.keyPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      seen.push({
        authorized: socket.authorized,
        fingerprint: createHash('sha256').update(peer.raw).digest('hex'),
        viaHelper: certificateFingerprint(peer.raw),
        cn: String(peer.subject.CN),
      });
      res.end('ok');
    });
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpsServer.address() as AddressInfo;
    const get = (host: string, creds: { cert?: string; key?: string }): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host, port, path: '/', method: 'GET', ca: ca.certPem, agent: false, ...creds }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    try {
      // the client verifies the server certificate by IP and by name
      await expect(get('127.0.0.1', { cert: client.certPem, key: client.keyPem })).resolves.toBe('ok');
      await expect(get('localhost', { cert: client.certPem, key: client.keyPem })).resolves.toBe('ok');
      expect(seen).toHaveLength(2);
      for (const s of seen) {
        expect(s).toEqual({ authorized: true, fingerprint: client.fingerprint, viaHelper: client.fingerprint, cn: 'acme-cs' });
      }

      // a certificate from another CA, and no certificate at all, are refused in the handshake
      await expect(get('127.0.0.1', { cert: stranger.certPem, key: stranger.keyPem })).rejects.toThrow();
      await expect(get('127.0.0.1', {})).rejects.toThrow();
      expect(seen).toHaveLength(2);
    } finally {
      httpsServer.closeAllConnections();
      await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
    }
  });
});

describe('pki/fingerprint', () => {
  test('pki/fingerprint/PEM and DER give the same lower-case SHA-256', async () => {
    const client = await issueClientCertificate(ca, 'acme-tts');
    const der = new X509Certificate(client.certPem).raw;
    expect(certificateFingerprint(client.certPem)).toBe(client.fingerprint);
    expect(certificateFingerprint(der)).toBe(client.fingerprint);
    expect(certificateFingerprint(ca.certPem)).toBe(createHash('sha256').update(new X509Certificate(ca.certPem).raw).digest('hex'));
  });

  test('pki/fingerprint/rejects what is not a certificate', () => {
    expect(() => certificateFingerprint('not a certificate')).toThrow();
    expect(() => certificateFingerprint(Buffer.from('00', 'hex'))).toThrow();
  });
});

describe('pki/issuing', () => {
  test('pki/issuing/refuses a CA key that is not P-256', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(issueClientCertificate({ certPem: ca.certPem, keyPem: rsa }, 'x')).rejects.toThrow(/P-256/);
  });

  test('pki/issuing/refuses a CA key that does not belong to the CA certificate', async () => {
    const other = await createCA();
    await expect(issueServerCertificate({ certPem: ca.certPem, keyPem: other.keyPem }, ['localhost'])).rejects.toThrow(/does not belong/);
  });
});

import { KeyObject, X509Certificate, createHash, createPrivateKey, randomBytes, type webcrypto as WebCrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { EC_KEY_ALGORITHM, EC_SIGNING_ALGORITHM, webcrypto, x509 } from './x509';

/**
 * Joinery's own certificate authority. It issues the Backend Interfaces listener's server
 * certificate and one client certificate per peer (network server or application server);
 * a peer is identified by the SHA-256 fingerprint of its certificate.
 *
 * Everything is ECDSA P-256 with SHA-256, private keys are PKCS#8 PEM: what rustls
 * (ChirpStack), Go (The Things Stack) and node all accept.
 */
export interface CAMaterial {
  readonly certPem: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string;
}

export interface IssuedCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string;
}

export interface IssuedClientCertificate extends IssuedCertificate {
  /** SHA-256 of the certificate's DER, lower-case hex: the peer's identity. */
  readonly fingerprint: string;
  /** The end of its validity. */
  readonly notAfter: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Issued certificates are valid from a minute ago, so a peer whose clock lags a little accepts them. */
const BACKDATE_MS = 60 * 1000;
export const CA_VALIDITY_DAYS = 3652;
/** 825 days: the longest lifetime clients that follow the CA/Browser Forum limits accept. */
export const SERVER_VALIDITY_DAYS = 825;
export const CLIENT_VALIDITY_DAYS = 730;

export async function createCA(commonName = 'Joinery CA'): Promise<CAMaterial> {
  requireName(commonName, 'CA common name');
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validity(CA_VALIDITY_DAYS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: exportPrivateKey(keys.privateKey) };
}

/**
 * A TLS server certificate for the Backend Interfaces listener. Each host that is an IP
 * address (v4 or v6, brackets allowed) becomes an IP SAN, any other a DNS SAN; the first host
 * is also the subject's CN.
 */
export async function issueServerCertificate(ca: CAMaterial, hosts: string[]): Promise<IssuedCertificate> {
  const names = normalizeHosts(hosts);
  const first = names[0];
  if (first === undefined) throw new Error('a server certificate needs at least one host name or IP address');
  return issue(ca, {
    subject: [{ CN: [first.value] }],
    validityDays: SERVER_VALIDITY_DAYS,
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    subjectAltNames: names,
  });
}

/**
 * A client certificate for a peer. The CN is the peer's name, the OU what it is
 * (`network-server`, `application-server`); the fingerprint returned is what the BI listener
 * will see for this peer.
 */
export async function issueClientCertificate(ca: CAMaterial, commonName: string, opts: { organizationalUnit?: string } = {}): Promise<IssuedClientCertificate> {
  requireName(commonName, 'client certificate common name');
  const subject: x509.JsonName = [];
  if (opts.organizationalUnit !== undefined) {
    requireName(opts.organizationalUnit, 'organizational unit');
    subject.push({ OU: [opts.organizationalUnit] });
  }
  subject.push({ CN: [commonName] });
  const issued = await issue(ca, {
    subject,
    validityDays: CLIENT_VALIDITY_DAYS,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    subjectAltNames: [],
  });
  return { ...issued, fingerprint: certificateFingerprint(issued.certPem), notAfter: new Date(new X509Certificate(issued.certPem).validTo) };
}

/**
 * SHA-256 of a certificate's DER, lower-case hex. A string is PEM (the first certificate in
 * it counts), a Buffer is DER. Equals the hash of `tls.TLSSocket#getPeerCertificate().raw`.
 */
export function certificateFingerprint(certPemOrDer: string | Buffer): string {
  const der = new X509Certificate(certPemOrDer).raw;
  return createHash('sha256').update(der).digest('hex');
}

interface IssueOptions {
  readonly subject: x509.JsonName;
  readonly validityDays: number;
  readonly extendedKeyUsage: x509.ExtendedKeyUsage;
  readonly subjectAltNames: readonly x509.JsonGeneralName[];
}

async function issue(ca: CAMaterial, o: IssueOptions): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importCAKey(ca);
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validity(o.validityDays);
  if (notAfter > caCert.notAfter) {
    throw new Error(`the CA certificate expires on ${caCert.notAfter.toISOString()}: it cannot issue a certificate valid until ${notAfter.toISOString()}`);
  }
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([o.extendedKeyUsage]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    new x509.AuthorityKeyIdentifierExtension(await caKeyIdentifier(caCert)),
  ];
  if (o.subjectAltNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension([...o.subjectAltNames]));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: o.subject,
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: exportPrivateKey(keys.privateKey) };
}

/** The CA's subject key identifier, as its own certificate states it (computed if absent). */
async function caKeyIdentifier(caCert: x509.X509Certificate): Promise<string> {
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return ski.keyId;
  return (await x509.SubjectKeyIdentifierExtension.create(caCert.publicKey)).keyId;
}

async function generateKeyPair(): Promise<WebCrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']) as Promise<WebCrypto.CryptoKeyPair>;
}

function exportPrivateKey(key: WebCrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The CA's signing key, once it is known to be a P-256 key that belongs to the CA certificate. */
async function importCAKey(ca: CAMaterial): Promise<WebCrypto.CryptoKey> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(ca.keyPem);
  } catch (err) {
    throw new Error(`the CA private key cannot be read: ${(err as Error).message}`);
  }
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the CA private key must be an ECDSA P-256 key');
  }
  const caCert = new X509Certificate(ca.certPem);
  if (!caCert.ca) throw new Error('the CA certificate is not a CA certificate (basicConstraints CA:true)');
  if (!caCert.checkPrivateKey(keyObject)) throw new Error('the CA private key does not belong to the CA certificate');
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY_ALGORITHM, false, ['sign']);
}

/**
 * 16 random bytes, positive and minimally encoded in DER: the top bit clear (positive) and the
 * next one set (so no leading zero byte that strict parsers reject).
 */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

function requireName(value: string, what: string): void {
  if (value.trim() === '') throw new Error(`${what} must not be empty`);
}

/** Hosts as SAN entries, in order, without duplicates; IPv6 may be given in brackets. */
function normalizeHosts(hosts: readonly string[]): x509.JsonGeneralName[] {
  const out: x509.JsonGeneralName[] = [];
  const seen = new Set<string>();
  for (const raw of hosts) {
    let host = raw.trim();
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (host === '') throw new Error('empty host name for the server certificate');
    const name: x509.JsonGeneralName = isIP(host) ? { type: 'ip', value: canonicalIP(host) } : { type: 'dns', value: host.toLowerCase() };
    const key = `${name.type}:${name.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/** IPv6 in its shortest form (`0:0::1` → `::1`), so one address is one SAN; IPv4 as is. */
function canonicalIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

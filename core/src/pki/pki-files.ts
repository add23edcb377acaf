import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { ensureDirectory, readFileIfExists, writeFileAtomic } from './atomic-file';
import { type CAMaterial, type IssuedCertificate, createCA, issueServerCertificate } from './certificate-authority';
import { x509 } from './x509';

/**
 * The PKI in Joinery's data directory:
 *
 *   ca.crt, ca.key          Joinery's CA (created once, never overwritten)
 *   server.crt, server.key  the Backend Interfaces listener's certificate, issued by that CA
 *
 * Keys are PKCS#8 PEM with mode 0600; a new data directory gets mode 0700.
 */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
} as const;

/** Hosts the server certificate covers when none are asked for. */
export const DEFAULT_SERVER_HOSTS: readonly string[] = ['localhost', '127.0.0.1'];

/** A server certificate is renewed when it has less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface LoadedPKI {
  readonly ca: CAMaterial;
  readonly server: IssuedCertificate;
  /** What this call created: `server` is also true when the certificate was re-issued. */
  readonly created: { readonly ca: boolean; readonly server: boolean };
}

/**
 * Loads the data directory's CA and server certificate, creating what is missing. The CA is
 * reused whenever it exists. The server certificate is (re-)issued when it is missing, when a
 * requested host is not among its SANs (so a changed `--public-host` takes effect), when it
 * was not issued by this CA or does not match its key, and when it expires within 30 days.
 * A re-issued certificate covers the requested hosts (the first is its CN) and keeps the
 * names of the one it replaces when that one was issued by this CA.
 */
export async function loadOrCreatePKI(dataDir: string, hosts: string[]): Promise<LoadedPKI> {
  const wanted = hosts.length > 0 ? hosts : [...DEFAULT_SERVER_HOSTS];
  await ensureDirectory(dataDir, 0o700);
  const file = (name: string): string => path.join(dataDir, name);

  const { ca, created: caCreated } = await loadOrCreateCA(file(PKI_FILES.caCert), file(PKI_FILES.caKey));

  const serverCertPem = await readFileIfExists(file(PKI_FILES.serverCert));
  const serverKeyPem = await readFileIfExists(file(PKI_FILES.serverKey));
  if (serverCertPem !== undefined && serverKeyPem !== undefined && serverCertificateReason(ca, { certPem: serverCertPem, keyPem: serverKeyPem }, wanted) === undefined) {
    return { ca, server: { certPem: serverCertPem, keyPem: serverKeyPem }, created: { ca: caCreated, server: false } };
  }

  // Names the old certificate (from this CA) covered stay covered, so that commands asking
  // for different hosts (the server's listener, `ns add --public-url`) do not undo each other.
  const previous = serverCertPem !== undefined ? hostsOfCertificateFrom(ca, serverCertPem) : [];
  const server = await issueServerCertificate(ca, [...wanted, ...previous]);
  // Key first: a crash in between leaves a key that does not match the old certificate,
  // which the next start detects and repairs by issuing again.
  await writeFileAtomic(file(PKI_FILES.serverKey), server.keyPem, { mode: 0o600, replace: true });
  await writeFileAtomic(file(PKI_FILES.serverCert), server.certPem, { mode: 0o644, replace: true });
  return { ca, server, created: { ca: caCreated, server: true } };
}

async function loadOrCreateCA(certFile: string, keyFile: string): Promise<{ ca: CAMaterial; created: boolean }> {
  const certPem = await readFileIfExists(certFile);
  const keyPem = await readFileIfExists(keyFile);
  if (certPem !== undefined && keyPem !== undefined) {
    const ca = { certPem, keyPem };
    checkCA(ca, certFile, keyFile);
    return { ca, created: false };
  }
  if (certPem !== undefined || keyPem !== undefined) {
    const [present, missing] = certPem !== undefined ? [certFile, keyFile] : [keyFile, certFile];
    throw new Error(`incomplete CA: ${present} exists but ${missing} does not. Joinery never replaces a CA ` + '(every peer certificate was issued by it): restore the missing file, or move both away to start a new CA');
  }
  const ca = await createCA();
  try {
    await writeFileAtomic(keyFile, ca.keyPem, { mode: 0o600, replace: false });
    await writeFileAtomic(certFile, ca.certPem, { mode: 0o644, replace: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`another process created a CA in ${path.dirname(certFile)} at the same time; start again to use it`);
    }
    throw err;
  }
  return { ca, created: true };
}

function checkCA(ca: CAMaterial, certFile: string, keyFile: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.certPem);
  } catch (err) {
    throw new Error(`${certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  if (!cert.ca) throw new Error(`${certFile} is not a CA certificate`);
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(ca.keyPem));
  } catch (err) {
    throw new Error(`${keyFile} is not a usable private key: ${(err as Error).message}`);
  }
  if (!matches) throw new Error(`${keyFile} is not the private key of ${certFile}`);
}

/** Why the server certificate must be issued again, or `undefined` when it is fine. */
function serverCertificateReason(ca: CAMaterial, server: IssuedCertificate, hosts: readonly string[]): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(server.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(server.keyPem))) return 'key does not match';
  } catch {
    return 'unreadable';
  }
  const caCert = new X509Certificate(ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not issued by this CA';
  if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return 'expires soon';
  for (const raw of hosts) {
    const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
    const covered = isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: 'never' }) !== undefined;
    if (!covered) return `host ${host} not covered`;
  }
  return undefined;
}

/** The DNS names and IP addresses in a server certificate's SANs, if this CA issued it. */
function hostsOfCertificateFrom(ca: CAMaterial, certPem: string): string[] {
  try {
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return [];
    const san = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
    return (san?.names.toJSON() ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value);
  } catch {
    return [];
  }
}

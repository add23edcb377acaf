import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as path from 'node:path';
import { readFileIfExists, writeFileAtomic } from './atomic-file';
import { issueClientCertificate, type CAMaterial, type IssuedCertificate } from './certificate-authority';

export const JOIN_SERVER_CLIENT_FILES = { cert: 'js-client.crt', key: 'js-client.key' } as const;

/** A client certificate needs this much validity left, else it is issued again. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The Join Server's own client certificate, issued by its CA: what it presents when it calls a
 * network server (async answers to its Backend Interfaces listener). A network server that
 * checks client certificates trusts Joinery's `ca.crt`. Files `js-client.crt` and
 * `js-client.key` (0600) in the data directory, issued again when missing, foreign or expiring.
 */
export async function loadOrCreateJoinServerClientIdentity(dataDir: string, ca: CAMaterial): Promise<IssuedCertificate> {
  const certFile = path.join(dataDir, JOIN_SERVER_CLIENT_FILES.cert);
  const keyFile = path.join(dataDir, JOIN_SERVER_CLIENT_FILES.key);
  const certPem = await readFileIfExists(certFile);
  const keyPem = await readFileIfExists(keyFile);
  if (certPem !== undefined && keyPem !== undefined && usable(ca, certPem, keyPem)) return { certPem, keyPem };
  const issued = await issueClientCertificate(ca, 'joinery-join-server', { organizationalUnit: 'join-server' });
  await writeFileAtomic(keyFile, issued.keyPem, { mode: 0o600, replace: true });
  await writeFileAtomic(certFile, issued.certPem, { mode: 0o644, replace: true });
  return { certPem: issued.certPem, keyPem: issued.keyPem };
}

function usable(ca: CAMaterial, certPem: string, keyPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    return cert.checkPrivateKey(createPrivateKey(keyPem)) && cert.checkIssued(caCert) && cert.verify(caCert.publicKey) && Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

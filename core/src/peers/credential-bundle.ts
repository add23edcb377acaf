import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensureDirectory, writeFileAtomic } from '../pki/atomic-file';
import { type PeerDescriptor, bundleReadme } from './credential-bundle-readme';

export { type PeerDescriptor, bundleReadme };

/**
 * Everything a peer (network server or application server) needs to talk to Joinery: the CA
 * that verifies the Join Server, its client certificate and key, its KEK, what Joinery knows
 * about it, and a README saying where each piece goes.
 *
 * On disk it is a directory:
 *
 *   ca.crt      the Joinery CA certificate            (0644)
 *   client.crt  the peer's client certificate         (0644)
 *   client.key  its private key, PKCS#8 PEM           (0600)
 *   kek.json    {"label": ..., "kek": <32 hex>}       (0600)
 *   peer.json   the PeerDescriptor                    (0644)
 *   README.txt  bundleReadme(peer, kek.label)          (0644; never contains the KEK)
 */
export interface CredentialBundle {
  caPem: string;
  clientCertPem: string;
  /** PKCS#8 PEM. */
  clientKeyPem: string;
  kek: { label: string; kekHex: string };
  peer: PeerDescriptor;
  readme: string;
}

export const BUNDLE_FILES = {
  ca: 'ca.crt',
  clientCert: 'client.crt',
  clientKey: 'client.key',
  kek: 'kek.json',
  peer: 'peer.json',
  readme: 'README.txt',
} as const;

const WHAT: Record<string, string> = {
  [BUNDLE_FILES.ca]: 'the Joinery CA certificate',
  [BUNDLE_FILES.clientCert]: 'the client certificate',
  [BUNDLE_FILES.clientKey]: 'the client private key',
  [BUNDLE_FILES.kek]: 'the KEK',
  [BUNDLE_FILES.peer]: 'the peer description',
  [BUNDLE_FILES.readme]: 'the README',
};

/** A credential bundle file that is missing or not what it must be; `file` is its path. */
export class CredentialBundleError extends Error {
  override readonly name = 'CredentialBundleError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`credential bundle: ${file}: ${reason}`);
  }
}

const KEK_HEX = /^[0-9a-f]{32}$/;

/**
 * Writes a credential bundle into `dir` (created with mode 0700 if missing) and returns the
 * paths written. Refuses, without writing anything, when `dir` already holds a client.key:
 * someone's credentials are never overwritten.
 */
export async function writeCredentialBundle(dir: string, bundle: CredentialBundle): Promise<string[]> {
  const file = (name: string): string => path.join(dir, name);
  const keyFile = file(BUNDLE_FILES.clientKey);

  // Check everything before touching the disk.
  const kekHex = normalizeKEKHex(bundle.kek.kekHex);
  if (kekHex === undefined) throw new Error('credential bundle: the KEK must be 16 bytes (32 hex digits)');
  if (bundle.kek.label === '') throw new Error('credential bundle: the KEK label must not be empty');
  const keyPem = pkcs8Pem(bundle.clientKeyPem);
  const clientCert = parseCertificate(bundle.clientCertPem);
  if (keyPem === undefined || clientCert === undefined || !clientCert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error('credential bundle: the client key is not a private key matching the client certificate');
  }
  if (parseCertificate(bundle.caPem) === undefined) throw new Error('credential bundle: the CA certificate is not a PEM certificate');
  checkDescriptor(bundle.peer, 'credential bundle: peer');

  if (await exists(keyFile)) {
    throw new Error(`${keyFile} already exists: refusing to overwrite existing credentials (choose another directory, or move the old bundle away)`);
  }
  await ensureDirectory(dir, 0o700);
  try {
    // The key goes first and never replaces a file: if another writer got there in between, stop.
    await writeFileAtomic(keyFile, keyPem, { mode: 0o600, replace: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`${keyFile} already exists: refusing to overwrite existing credentials`);
    }
    throw err;
  }
  const rest: Array<[string, string, number]> = [
    [BUNDLE_FILES.ca, withNewline(bundle.caPem), 0o644],
    [BUNDLE_FILES.clientCert, withNewline(bundle.clientCertPem), 0o644],
    [BUNDLE_FILES.kek, JSON.stringify({ label: bundle.kek.label, kek: kekHex }, null, 2) + '\n', 0o600],
    [BUNDLE_FILES.peer, JSON.stringify(bundle.peer, null, 2) + '\n', 0o644],
    [BUNDLE_FILES.readme, withNewline(bundle.readme), 0o644],
  ];
  for (const [name, data, mode] of rest) await writeFileAtomic(file(name), data, { mode, replace: true });
  return [file(BUNDLE_FILES.ca), file(BUNDLE_FILES.clientCert), keyFile, file(BUNDLE_FILES.kek), file(BUNDLE_FILES.peer), file(BUNDLE_FILES.readme)];
}

/** Reads a bundle written by writeCredentialBundle; errors name the missing or bad file. */
export async function readCredentialBundle(dir: string): Promise<CredentialBundle> {
  const read = async (name: string): Promise<{ file: string; text: string }> => {
    const file = path.join(dir, name);
    try {
      return { file, text: await fs.readFile(file, 'utf8') };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CredentialBundleError(file, `missing (${WHAT[name] ?? name})`);
      throw new CredentialBundleError(file, `cannot be read: ${(err as Error).message}`);
    }
  };

  const ca = await read(BUNDLE_FILES.ca);
  if (parseCertificate(ca.text) === undefined) throw new CredentialBundleError(ca.file, 'not a PEM certificate');

  const cert = await read(BUNDLE_FILES.clientCert);
  const clientCert = parseCertificate(cert.text);
  if (clientCert === undefined) throw new CredentialBundleError(cert.file, 'not a PEM certificate');

  const key = await read(BUNDLE_FILES.clientKey);
  if (pkcs8Pem(key.text) === undefined) throw new CredentialBundleError(key.file, 'not a PEM private key');
  if (!clientCert.checkPrivateKey(createPrivateKey(key.text))) {
    throw new CredentialBundleError(key.file, `not the private key of ${cert.file}`);
  }

  const kekFile = await read(BUNDLE_FILES.kek);
  const kekJSON = parseJSON(kekFile.file, kekFile.text);
  const label = kekJSON['label'];
  const kekHex = normalizeKEKHex(kekJSON['kek']);
  if (typeof label !== 'string' || label === '') throw new CredentialBundleError(kekFile.file, '"label" must be a non-empty string');
  if (kekHex === undefined) throw new CredentialBundleError(kekFile.file, '"kek" must be 32 hex digits (a 16-byte KEK)');

  const peerFile = await read(BUNDLE_FILES.peer);
  const peer = parseJSON(peerFile.file, peerFile.text);
  const problem = descriptorProblem(peer);
  if (problem !== undefined) throw new CredentialBundleError(peerFile.file, problem);

  const readme = await read(BUNDLE_FILES.readme);
  return {
    caPem: ca.text,
    clientCertPem: cert.text,
    clientKeyPem: key.text,
    kek: { label, kekHex },
    peer: peer as PeerDescriptor,
    readme: readme.text,
  };
}

function parseCertificate(pem: string): X509Certificate | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The key as PKCS#8 PEM (converted if given in another PEM form), or undefined if it is none. */
function pkcs8Pem(pem: string): string | undefined {
  if (!pem.includes('PRIVATE KEY-----')) return undefined;
  try {
    return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch {
    return undefined;
  }
}

function normalizeKEKHex(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = value.trim().toLowerCase();
  return KEK_HEX.test(hex) ? hex : undefined;
}

function parseJSON(file: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CredentialBundleError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CredentialBundleError(file, 'must be a JSON object');
  return value as Record<string, unknown>;
}

function checkDescriptor(value: unknown, what: string): void {
  const problem = descriptorProblem(value);
  if (problem !== undefined) throw new Error(`${what}: ${problem}`);
}

function descriptorProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'must be an object';
  const d = value as Record<string, unknown>;
  const str = (k: string): boolean => typeof d[k] === 'string' && d[k] !== '';
  if (!str('name')) return '"name" must be a non-empty string';
  if (!str('biURL')) return '"biURL" must be a URL';
  try {
    new URL(d['biURL'] as string);
  } catch {
    return `"biURL" is not a URL: ${String(d['biURL'])}`;
  }
  if (d['kind'] === 'ns') {
    if (typeof d['netID'] !== 'string' || !/^[0-9a-fA-F]{6}$/.test(d['netID'])) return '"netID" must be 6 hex digits';
    if (d['nsID'] !== undefined && (typeof d['nsID'] !== 'string' || !/^[0-9a-fA-F]{16}$/.test(d['nsID']))) {
      return '"nsID", when present, must be 16 hex digits';
    }
    if (!str('vendor')) return '"vendor" must be a non-empty string';
    return undefined;
  }
  if (d['kind'] === 'as') {
    if (!str('asID')) return '"asID" must be a non-empty string';
    return undefined;
  }
  return '"kind" must be "ns" or "as"';
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : s + '\n';
}

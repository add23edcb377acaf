import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { KeyVault } from '../keys/key-vault';
import { kekContext } from '../join/vault-contexts';
import type { EUI64, NetID } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { CAMaterial } from '../pki/certificate-authority';
import { issueClientCertificate } from '../pki/certificate-authority';
import { auditEvent, type AuditContext } from '../store/audit-event';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { OPERATOR_TENANT, type TenantID } from '../tenants/tenant';
import { BUNDLE_FILES, bundleReadme, writeCredentialBundle, type PeerDescriptor } from './credential-bundle';
import { firstCertificate } from './peer-certificates';
import { PEER_NAME, type Peer } from './peer';
import type { PeerSettings } from './peer-settings';
import { DEFAULT_PEER_SETTINGS } from './peer-settings';
import type { Vendor } from './vendor';
import { checkVendorPeerSettings } from './vendor-dialect';

export type PeerRegistration = (
  | { readonly kind: 'ns'; readonly name: string; readonly netID: NetID; readonly nsID: EUI64 | null; readonly vendor: Vendor; readonly kekLabel?: string; readonly settings?: PeerSettings }
  | { readonly kind: 'as'; readonly name: string; readonly asID: string; readonly kekLabel?: string; readonly settings?: PeerSettings }
) & {
  /** The tenant that registers it (default: the operator's). */
  readonly tenantID?: TenantID;
};

export interface RegisteredPeer {
  readonly peer: Peer;
  /** The files of the credential bundle, as written. */
  readonly files: readonly string[];
}

export class BundleDirectoryInUseError extends Error {
  override readonly name = 'BundleDirectoryInUseError';
}

/**
 * Registers a network server or application server: issues its client certificate from
 * Joinery's CA, generates its KEK inside the vault (sealed in the store; its clear value goes
 * only into the bundle's kek.json), writes its credential bundle, and stores the peer.
 *
 * KEK labels default to what each side already uses: a network server's NetID (the label the
 * ChirpStack-family Join Server uses), an application server's AS-ID.
 */
export async function registerPeer(
  deps: { readonly store: PeerRegistry; readonly vault: KeyVault; readonly ca: CAMaterial },
  registration: PeerRegistration,
  outDir: string,
  biURL: string,
  audit?: AuditContext,
): Promise<RegisteredPeer> {
  if (!PEER_NAME.test(registration.name)) {
    throw new ParseError('--name', 'expected 1-63 characters: lower-case letters, digits and "-", starting with a letter or digit');
  }
  const kekLabel = registration.kekLabel ?? (registration.kind === 'ns' ? registration.netID : registration.asID);
  if (kekLabel.trim() === '') throw new ParseError('--kek-label', 'must not be empty (an empty KEK label means "not wrapped")');
  if (registration.kind === 'ns') {
    checkVendorPeerSettings(registration.vendor, { kekLabel, asyncAnswers: (registration.settings?.asyncAnswers ?? null) !== null });
  }
  if (existsSync(path.join(outDir, BUNDLE_FILES.clientKey))) {
    throw new BundleDirectoryInUseError(`${outDir} already holds a credential bundle (client.key); choose another --out directory`);
  }
  if (await deps.store.getPeer(registration.name)) {
    throw new ParseError('--name', `a peer named ${registration.name} already exists`);
  }

  const client = await issueClientCertificate(deps.ca, registration.name, {
    organizationalUnit: registration.kind === 'ns' ? 'network-server' : 'application-server',
  });
  const kek = await deps.vault.generateKey();
  try {
    const sealedKEK = await deps.vault.sealKey(kek, kekContext(registration.name));
    const createdAt = new Date();
    const lifecycle = { certFingerprint: client.fingerprint, certificates: firstCertificate(client.fingerprint, createdAt, client.notAfter), state: 'enabled' as const };
    const settings: PeerSettings = registration.settings ?? DEFAULT_PEER_SETTINGS;
    const tenantID = registration.tenantID ?? OPERATOR_TENANT;
    const peer: Peer =
      registration.kind === 'ns'
        ? { kind: 'ns', name: registration.name, netID: registration.netID, nsID: registration.nsID, vendor: registration.vendor, ...lifecycle, kekLabel, sealedKEK, settings, tenantID, createdAt }
        : { kind: 'as', name: registration.name, asID: registration.asID, ...lifecycle, kekLabel, sealedKEK, settings, tenantID, createdAt };
    const descriptor: PeerDescriptor =
      peer.kind === 'ns' ? { kind: 'ns', name: peer.name, netID: peer.netID, ...(peer.nsID ? { nsID: peer.nsID } : {}), vendor: peer.vendor, biURL } : { kind: 'as', name: peer.name, asID: peer.asID, biURL };
    // The bundle first, then the peer: a bundle that cannot be written (a bad --out) must not
    // leave a registered peer nobody has credentials for, whose name a retry could not reuse.
    const outDirExisted = existsSync(outDir);
    const kekHex = (await deps.vault.exportKey(kek)).unsafeBytes().toString('hex');
    const files = await writeCredentialBundle(outDir, {
      caPem: deps.ca.certPem,
      clientCertPem: client.certPem,
      clientKeyPem: client.keyPem,
      kek: { label: kekLabel, kekHex },
      peer: descriptor,
      readme: bundleReadme(descriptor, kekLabel),
    });
    try {
      const detail: Record<string, string | null> =
        peer.kind === 'ns' ? { name: peer.name, kind: peer.kind, netID: peer.netID, nsID: peer.nsID, vendor: peer.vendor } : { name: peer.name, kind: peer.kind, asID: peer.asID };
      await deps.store.insertPeer(peer, audit ? auditEvent(audit, 'peer.add', null, detail) : undefined);
    } catch (err) {
      // Not registered after all (another process took the name meanwhile): take back the credentials.
      await Promise.all(files.map((f) => fs.rm(f, { force: true })));
      if (!outDirExisted) await fs.rmdir(outDir).catch(() => undefined);
      throw err;
    }
    return { peer, files };
  } finally {
    deps.vault.release(kek);
  }
}

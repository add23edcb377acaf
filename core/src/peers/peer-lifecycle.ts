import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { kekContext } from '../join/vault-contexts';
import type { KeyHandle, KeyVault } from '../keys/key-vault';
import { ParseError } from '../lorawan/parse-error';
import type { CAMaterial } from '../pki/certificate-authority';
import { issueClientCertificate } from '../pki/certificate-authority';
import { auditEvent, type AuditContext } from '../store/audit-event';
import type { PeerDeletion, PeerRegistry } from '../store/ports/peer-registry';
import { BUNDLE_FILES, bundleReadme, writeCredentialBundle, type PeerDescriptor } from './credential-bundle';
import type { Peer, PeerCertificate, PeerState } from './peer';
import { withRenewedCertificate, withRetiredCertificates } from './peer-certificates';
import { BundleDirectoryInUseError } from './register-peer';
import { checkVendorPeerSettings } from './vendor-dialect';

/*
 * A registered peer's life after `add`: its state, its client certificates, its KEK, its end.
 * Every change is one store write with its audit entry; other instances see it from their next
 * turn (the peers' change counter).
 *
 * Joinery never keeps a peer's private key (only the bundle holds it), so every bundle written
 * after `add` carries a new client certificate: the ones before keep working until retired.
 */

export interface LifecycleDeps {
  readonly store: PeerRegistry;
  readonly vault: KeyVault;
  readonly ca: CAMaterial;
}

/** The peer as it is now; a ParseError naming it when there is none of that kind. */
export async function existingPeer(store: PeerRegistry, kind: Peer['kind'], name: string): Promise<Peer> {
  const peer = await store.getPeer(name);
  if (!peer || peer.kind !== kind) throw new ParseError('NAME', `no ${kind === 'ns' ? 'network' : 'application'} server named ${name}`);
  return peer;
}

/** Enables or disables a peer (a disabled one is UnknownSender at once; its devices keep their binding). */
export async function setPeerState(store: PeerRegistry, peer: Peer, state: PeerState, audit: AuditContext): Promise<void> {
  await store.updatePeer(peer.name, { state }, auditEvent(audit, state === 'enabled' ? 'peer.enable' : 'peer.disable', null, { name: peer.name, kind: peer.kind }));
}

export class PeerStillBoundError extends Error {
  override readonly name = 'PeerStillBoundError';
  constructor(
    readonly peerName: string,
    readonly devices: number,
  ) {
    super(`${peerName} still has ${devices} device(s) bound to it: move them first (joinery migrate), or delete with --unbind-devices`);
  }
}

/** Deletes a peer; refused (PeerStillBoundError) while devices are bound to it unless `unbindDevices`. */
export async function deletePeer(store: PeerRegistry, peer: Peer, unbindDevices: boolean, audit: AuditContext): Promise<Extract<PeerDeletion, { kind: 'deleted' }>> {
  const outcome = await store.deletePeer(peer.name, unbindDevices, auditEvent(audit, 'peer.delete', null, { name: peer.name, kind: peer.kind, unbindDevices }));
  if (outcome.kind === 'bound') throw new PeerStillBoundError(peer.name, outcome.devices);
  if (outcome.kind === 'not-found') throw new ParseError('NAME', `no peer named ${peer.name}`);
  return outcome;
}

/** What a new bundle does besides carrying a new client certificate. */
export type BundleIssue =
  /** `bundle`: the certificates before keep working (until retired). */
  | { readonly kind: 'bundle' }
  /** `renew-certificate`: the certificates before are refused from `retireOthersAt` on (null: until retired explicitly). */
  | { readonly kind: 'renew'; readonly retireOthersAt: Date | null }
  /** `rotate-kek`: a new KEK under a new label; answers use it at once. */
  | { readonly kind: 'rotate-kek'; readonly kekLabel: string };

export interface IssuedBundle {
  readonly peer: Peer;
  readonly files: readonly string[];
  readonly certificate: PeerCertificate;
}

const AUDIT_ACTION: Record<BundleIssue['kind'], string> = { bundle: 'peer.bundle', renew: 'peer.certificate.renew', 'rotate-kek': 'peer.kek.rotate' };

/**
 * Writes a new credential bundle for a registered peer into `outDir` (which must not hold one):
 * a new client certificate, the peer's KEK (or a new one, for `rotate-kek`), then stores the
 * change. A bundle whose change cannot be stored (the peer deleted meanwhile) is taken back.
 */
export async function issuePeerBundle(deps: LifecycleDeps, peer: Peer, issue: BundleIssue, outDir: string, biURL: string, audit: AuditContext): Promise<IssuedBundle> {
  if (issue.kind === 'rotate-kek') {
    if (issue.kekLabel.trim() === '') throw new ParseError('--kek-label', 'must not be empty (an empty KEK label means "not wrapped")');
    if (issue.kekLabel === peer.kekLabel) throw new ParseError('--kek-label', `${peer.name}'s KEK is already labelled ${peer.kekLabel}: a new KEK needs a new label (the network server holds both during the switch)`);
    if (peer.kind === 'ns') checkVendorPeerSettings(peer.vendor, { kekLabel: issue.kekLabel });
  }
  if (existsSync(path.join(outDir, BUNDLE_FILES.clientKey))) {
    throw new BundleDirectoryInUseError(`${outDir} already holds a credential bundle (client.key); choose another --out directory`);
  }
  const client = await issueClientCertificate(deps.ca, peer.name, { organizationalUnit: peer.kind === 'ns' ? 'network-server' : 'application-server' });
  const certificate: PeerCertificate = { fingerprint: client.fingerprint, issuedAt: new Date(), notAfter: client.notAfter, retiresAt: null };
  const retireOthersAt = issue.kind === 'renew' ? issue.retireOthersAt : null;
  const certificates = withRenewedCertificate(peer, certificate, retireOthersAt);
  const kekLabel = issue.kind === 'rotate-kek' ? issue.kekLabel : peer.kekLabel;
  const kek: KeyHandle = issue.kind === 'rotate-kek' ? await deps.vault.generateKey() : await deps.vault.openKey(peer.sealedKEK, kekContext(peer.name));
  try {
    const sealedKEK = issue.kind === 'rotate-kek' ? await deps.vault.sealKey(kek, kekContext(peer.name)) : peer.sealedKEK;
    const descriptor: PeerDescriptor =
      peer.kind === 'ns' ? { kind: 'ns', name: peer.name, netID: peer.netID, ...(peer.nsID ? { nsID: peer.nsID } : {}), vendor: peer.vendor, biURL } : { kind: 'as', name: peer.name, asID: peer.asID, biURL };
    const outDirExisted = existsSync(outDir);
    const files = await writeCredentialBundle(outDir, {
      caPem: deps.ca.certPem,
      clientCertPem: client.certPem,
      clientKeyPem: client.keyPem,
      kek: { label: kekLabel, kekHex: (await deps.vault.exportKey(kek)).unsafeBytes().toString('hex') },
      peer: descriptor,
      readme: bundleReadme(descriptor, kekLabel),
    });
    const detail = {
      name: peer.name,
      kind: peer.kind,
      fingerprint: certificate.fingerprint,
      notAfter: client.notAfter.toISOString(),
      ...(issue.kind === 'renew' ? { retireOthersAt: retireOthersAt?.toISOString() ?? null } : {}),
      ...(issue.kind === 'rotate-kek' ? { kekLabel, previousKEKLabel: peer.kekLabel } : {}),
    };
    const change = { certificates, certFingerprint: certificate.fingerprint, ...(issue.kind === 'rotate-kek' ? { kek: { label: kekLabel, sealedKEK } } : {}) };
    if (!(await deps.store.updatePeer(peer.name, change, auditEvent(audit, AUDIT_ACTION[issue.kind], null, detail)))) {
      await Promise.all(files.map((f) => fs.rm(f, { force: true })));
      if (!outDirExisted) await fs.rmdir(outDir).catch(() => undefined);
      throw new ParseError('NAME', `no peer named ${peer.name} (deleted meanwhile)`);
    }
    return { peer: { ...peer, ...change, kekLabel, sealedKEK }, files, certificate };
  } finally {
    deps.vault.release(kek);
  }
}

/**
 * Retires certificates of a peer at once (revokes them): every one but the current, or the one
 * of `fingerprint`. The current certificate cannot be retired (renew with --retire-old instead).
 */
export async function retirePeerCertificates(store: PeerRegistry, peer: Peer, fingerprint: string | undefined, audit: AuditContext): Promise<PeerCertificate[]> {
  if (fingerprint !== undefined) {
    if (!peer.certificates.some((c) => c.fingerprint === fingerprint)) throw new ParseError('--fingerprint', `${peer.name} has no certificate ${fingerprint}`);
    if (fingerprint === peer.certFingerprint) throw new ParseError('--fingerprint', `${fingerprint} is ${peer.name}'s current certificate: renew it with --retire-old instead`);
  }
  const now = new Date();
  const certificates = withRetiredCertificates(peer, now, fingerprint);
  const retired = certificates.filter((c, i) => c !== peer.certificates[i]).map((c) => c.fingerprint);
  await store.updatePeer(peer.name, { certificates }, auditEvent(audit, 'peer.certificate.retire', null, { name: peer.name, kind: peer.kind, fingerprints: retired.join(',') }));
  return certificates.filter((c) => retired.includes(c.fingerprint));
}

/** `000013` → `000013-2`, `000013-2` → `000013-3`. */
export function nextKEKLabel(label: string): string {
  const m = /^(.*)-(\d+)$/.exec(label);
  return m ? `${m[1]}-${Number(m[2]) + 1}` : `${label}-2`;
}

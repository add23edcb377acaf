import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KeyVault } from '../keys/key-vault';
import type { CAMaterial } from '../pki/certificate-authority';
import type { Store } from '../store/store';
import { isInstanceAdmin, notFound, requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import { PeerExistsError } from '../store/store';
import { ParseError } from '../lorawan/parse-error';
import type { Peer } from './peer';
import { registerPeer, type PeerRegistration } from './register-peer';

/** What the admin API shows of a peer: never its KEK. */
export interface PeerView {
  readonly name: string;
  readonly kind: 'ns' | 'as';
  readonly tenant: string;
  readonly netID?: string;
  readonly nsID?: string | null;
  readonly vendor?: string;
  readonly asID?: string;
  readonly kekLabel: string;
  readonly createdAt: string;
}

export function peerView(peer: Peer): PeerView {
  const base = { name: peer.name, kind: peer.kind, tenant: peer.tenantID, kekLabel: peer.kekLabel, createdAt: peer.createdAt.toISOString() };
  return peer.kind === 'ns' ? { ...base, netID: peer.netID, nsID: peer.nsID, vendor: peer.vendor } : { ...base, asID: peer.asID };
}

/**
 * Network and application servers of a tenant: registered through the admin API, they get
 * their credential bundle in the answer (the files `joinery ns add --out` writes), once.
 */
export class PeerService {
  constructor(
    private readonly store: Store,
    private readonly vault: KeyVault,
    /** Joinery's CA (loaded when first needed). */
    private readonly ca: () => Promise<CAMaterial>,
    /** Where peers reach the BI listener (`https://host:port`), known once it listens. */
    private readonly publicURL: () => string,
  ) {}

  async list(p: Principal, kind: Peer['kind']): Promise<Peer[]> {
    requireScopeOf(p, 'peers');
    return (await this.store.listPeers(isInstanceAdmin(p) ? undefined : p.tenantID)).filter((peer) => peer.kind === kind);
  }

  async get(p: Principal, kind: Peer['kind'], name: string): Promise<Peer> {
    requireScopeOf(p, 'peers');
    const peer = await this.store.getPeer(name);
    if (!peer || peer.kind !== kind || (!isInstanceAdmin(p) && peer.tenantID !== p.tenantID)) throw notFound(`${kind === 'ns' ? 'network' : 'application'} server ${name}`);
    return peer;
  }

  async register(p: Principal, registration: PeerRegistration): Promise<{ peer: Peer; bundle: Record<string, string> }> {
    requireScopeOf(p, 'peers');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-bundle-'));
    try {
      const base = this.publicURL();
      const biURL = new URL(`bi/${registration.name}`, base.endsWith('/') ? base : `${base}/`).href;
      const out = path.join(dir, 'bundle');
      const { peer, files } = await registerPeer({ store: this.store, vault: this.vault, ca: await this.ca() }, { ...registration, tenantID: p.tenantID }, out, biURL, p);
      const bundle: Record<string, string> = {};
      for (const f of files) bundle[path.basename(f)] = await fs.readFile(f, 'utf8');
      return { peer, bundle };
    } catch (err) {
      if (err instanceof PeerExistsError) throw new Refusal('conflict', err.message);
      if (err instanceof ParseError) throw new Refusal(/already exists/.test(err.reason) ? 'conflict' : 'bad-request', err.message);
      throw err;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

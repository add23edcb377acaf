import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KeyVault } from '../keys/key-vault';
import type { CAMaterial } from '../pki/certificate-authority';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { isInstanceAdmin, notFound, requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import { PeerExistsError } from '../store/store-errors';
import { ParseError } from '../lorawan/parse-error';
import type { Peer } from './peer';
import { registerPeer, type PeerRegistration } from './register-peer';
import type { AdapterSetupInput, RenderedSetup } from '../adapters/adapter-setup';
import { configureAdapter, joinEUIPrefixesFrom, setupInputFromBundle, setupInstallDir, type AdapterConfiguration, type ConfiguredAdapter } from '../adapters/configure-adapter';
import { AdapterNotInstalledError, loadAdapter } from '../adapters/load-adapter';
import { writeAdapterAPIKey } from '../adapters/adapter-api-key-store';
import type { JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { DEFAULT_PEER_SETTINGS } from './peer-settings';
import type { PeerState } from './peer';
import { authorizationDigest } from '../backend-interfaces/caller';
import { deletePeer, issuePeerBundle, PeerStillBoundError, retirePeerCertificates, setPeerState, type BundleIssue } from './peer-lifecycle';
import { fullPeerSummary, peerSummary, type PeerSummary } from './peer-summary';

/** What the admin API takes besides the registration to set a network server up. */
export interface NetworkServerSetupRequest {
  /** The management API (makes the network server syncable and migratable); the key is write-only. */
  readonly adapter?: AdapterConfiguration;
  /** JoinEUI ranges the network server sends to Joinery (default all). */
  readonly joinEUIPrefixes?: readonly string[];
  /** Where the bundle's files will sit on the network server's host (absolute). */
  readonly installDir?: string;
}

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
    private readonly store: PeerRegistry,
    private readonly vault: KeyVault,
    /** Joinery's CA (loaded when first needed). */
    private readonly ca: () => Promise<CAMaterial>,
    /** Where peers reach the BI listener (`https://host:port`), known once it listens. */
    private readonly publicURL: () => string,
    /** The data directory, where a network server's management API key is kept (0600); without it, no adapter configuration is taken. */
    private readonly dataDir?: string,
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

  /**
   * Registers a network server with its vendor setup: the setup files and instructions its
   * adapter renders (null when the vendor's adapter package is not installed), and, when given,
   * the adapter's management configuration (kept in the peer's settings; the API key in the data
   * directory, mode 0600, as `joinery ns add` keeps it). Everything is checked before anything is
   * written: a bad option, prefix or directory is a bad request.
   */
  async registerNetworkServer(
    p: Principal,
    registration: Extract<PeerRegistration, { kind: 'ns' }>,
    setup: NetworkServerSetupRequest,
  ): Promise<{ peer: Peer; bundle: Record<string, string>; setup: RenderedSetup | null; adapterConfigured: boolean }> {
    requireScopeOf(p, 'peers');
    let configured: ConfiguredAdapter | null = null;
    let render: ((input: AdapterSetupInput) => RenderedSetup) | null = null;
    let prefixes: JoinEUIPrefix[];
    let installDir: string;
    try {
      prefixes = joinEUIPrefixesFrom(setup.joinEUIPrefixes, 'joinEUIPrefixes');
      installDir = setupInstallDir(registration.vendor, registration.name, setup.installDir, 'installDir');
      if (setup.adapter) {
        if (this.dataDir === undefined) throw new ParseError('adapter', 'this server keeps no adapter configuration');
        configured = await configureAdapter(registration.vendor, setup.adapter, (o) => `adapter.options.${o}`);
        render = configured.render;
      } else {
        try {
          const module = loadAdapter(registration.vendor);
          render = (input) => module.renderSetup(input);
        } catch (err) {
          if (!(err instanceof AdapterNotInstalledError)) throw err;
        }
      }
    } catch (err) {
      if (err instanceof ParseError || err instanceof AdapterNotInstalledError) throw new Refusal('bad-request', err.message);
      throw err;
    }
    const settings = configured ? { ...(registration.settings ?? DEFAULT_PEER_SETTINGS), adapter: configured.settings } : registration.settings;
    const { peer, bundle, biURL } = await this.#register(p, { ...registration, ...(settings ? { settings } : {}) });
    if (configured && setup.adapter && this.dataDir !== undefined) await writeAdapterAPIKey(this.dataDir, peer.name, setup.adapter.apiKey);
    const rendered =
      render === null || peer.kind !== 'ns'
        ? null
        : render(
            setupInputFromBundle(
              { kekJSON: bundle['kek.json'] ?? '', caCertificatePEM: bundle['ca.crt'] ?? '', clientCertificatePEM: bundle['client.crt'] ?? '' },
              { name: peer.name, netID: peer.netID, nsID: peer.nsID, biURL },
              // Registered here without a header secret or asynchronous answers (`joinery ns set` adds them).
              { authorizationHeader: null, asyncAnswers: null },
              prefixes,
              installDir,
            ),
          );
    return { peer, bundle, setup: rendered, adapterConfigured: configured !== null };
  }

  async register(p: Principal, registration: PeerRegistration): Promise<{ peer: Peer; bundle: Record<string, string> }> {
    requireScopeOf(p, 'peers');
    const { peer, bundle } = await this.#register(p, registration);
    return { peer, bundle };
  }

  async #register(p: Principal, registration: PeerRegistration): Promise<{ peer: Peer; bundle: Record<string, string>; biURL: string }> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-bundle-'));
    try {
      const base = this.publicURL();
      const biURL = new URL(`bi/${registration.name}`, base.endsWith('/') ? base : `${base}/`).href;
      const out = path.join(dir, 'bundle');
      const { peer, files } = await registerPeer({ store: this.store, vault: this.vault, ca: await this.ca() }, { ...registration, tenantID: p.tenantID }, out, biURL, p);
      const bundle: Record<string, string> = {};
      for (const f of files) bundle[path.basename(f)] = await fs.readFile(f, 'utf8');
      return { peer, bundle, biURL };
    } catch (err) {
      if (err instanceof PeerExistsError) throw new Refusal('conflict', err.message);
      if (err instanceof ParseError) throw new Refusal(/already exists/.test(err.reason) ? 'conflict' : 'bad-request', err.message);
      throw err;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** What `ns show` tells: state, certificates, devices bound, last join (never a key). */
  async summary(p: Principal, kind: Peer['kind'], name: string): Promise<PeerSummary> {
    return fullPeerSummary(this.store, await this.get(p, kind, name));
  }

  async summaries(p: Principal, kind: Peer['kind']): Promise<PeerSummary[]> {
    const peers = await this.list(p, kind);
    const usage = await this.store.peerUsage();
    return peers.map((peer) => peerSummary(peer, usage.get(peer.name)));
  }

  async setState(p: Principal, kind: Peer['kind'], name: string, state: PeerState): Promise<PeerSummary> {
    await setPeerState(this.store, await this.get(p, kind, name), state, p);
    return this.summary(p, kind, name);
  }

  /** Deletes a peer; a conflict while devices are bound to it, unless `unbindDevices`. */
  async delete(p: Principal, kind: Peer['kind'], name: string, unbindDevices: boolean): Promise<{ unbound: number }> {
    try {
      return { unbound: (await deletePeer(this.store, await this.get(p, kind, name), unbindDevices, p)).unbound };
    } catch (err) {
      if (err instanceof PeerStillBoundError) throw new Refusal('conflict', err.message);
      throw err;
    }
  }

  async retireCertificates(p: Principal, kind: Peer['kind'], name: string, fingerprint: string | undefined): Promise<PeerSummary> {
    try {
      await retirePeerCertificates(this.store, await this.get(p, kind, name), fingerprint, p);
    } catch (err) {
      if (err instanceof ParseError) throw new Refusal('bad-request', err.message);
      throw err;
    }
    return this.summary(p, kind, name);
  }

  /**
   * A new credential bundle of a registered peer (`bundle`, `renew`, `rotate-kek`: see
   * peer-lifecycle.ts), with its vendor's setup rendered again for a network server. A network
   * server with a header secret needs it again (`authorizationHeader`, checked against the
   * stored digest), as its vendor files carry it.
   */
  async issueBundle(
    p: Principal,
    kind: Peer['kind'],
    name: string,
    issue: BundleIssue,
    setup: NetworkServerSetupRequest & { readonly authorizationHeader?: string },
  ): Promise<{ peer: Peer; bundle: Record<string, string>; setup: RenderedSetup | null }> {
    const peer = await this.get(p, kind, name);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-bundle-'));
    try {
      let render: ((input: AdapterSetupInput) => RenderedSetup) | null = null;
      let prefixes: JoinEUIPrefix[] = [];
      let installDir = '';
      const header = setup.authorizationHeader ?? null;
      if (peer.kind === 'ns') {
        prefixes = joinEUIPrefixesFrom(setup.joinEUIPrefixes, 'joinEUIPrefixes');
        installDir = setupInstallDir(peer.vendor, peer.name, setup.installDir, 'installDir');
        try {
          const module = loadAdapter(peer.vendor);
          render = (input) => module.renderSetup(input);
        } catch (err) {
          if (!(err instanceof AdapterNotInstalledError)) throw err;
        }
        if (render !== null && peer.settings.authorizationSHA256 !== null && (header === null || authorizationDigest(header) !== peer.settings.authorizationSHA256)) {
          throw new ParseError(
            'authorizationHeader',
            `${peer.name} sends an Authorization header: give the one it is configured with (Joinery keeps only its digest; this one ${header === null ? 'is missing' : 'does not match'})`,
          );
        }
      }
      const base = this.publicURL();
      const biURL = new URL(`bi/${peer.name}`, base.endsWith('/') ? base : `${base}/`).href;
      const issued = await issuePeerBundle({ store: this.store, vault: this.vault, ca: await this.ca() }, peer, issue, path.join(dir, 'bundle'), biURL, p);
      const bundle: Record<string, string> = {};
      for (const f of issued.files) bundle[path.basename(f)] = await fs.readFile(f, 'utf8');
      const answers = issued.peer.settings.asyncAnswers;
      const rendered =
        render === null || issued.peer.kind !== 'ns'
          ? null
          : render(
              setupInputFromBundle(
                { kekJSON: bundle['kek.json'] ?? '', caCertificatePEM: bundle['ca.crt'] ?? '', clientCertificatePEM: bundle['client.crt'] ?? '' },
                { name: issued.peer.name, netID: issued.peer.netID, nsID: issued.peer.nsID, biURL },
                { authorizationHeader: header, asyncAnswers: answers ? { url: answers.url, listenerCertificate: 'own' } : null },
                prefixes,
                installDir,
              ),
            );
      return { peer: issued.peer, bundle, setup: rendered };
    } catch (err) {
      if (err instanceof ParseError) throw new Refusal('bad-request', err.message);
      throw err;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

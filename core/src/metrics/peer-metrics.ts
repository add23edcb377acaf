import { Gauge, type Registry } from 'prom-client';
import { PEER_STATES, type Peer } from '../peers/peer';
import { ChangeWatch } from '../store/change-watch';

/**
 * The registered peers, read from the store at a scrape (a peer changed by another instance or
 * the CLI shows at the next scrape): when each one's current client certificate expires, and
 * how many there are of each kind in each state. A failed read keeps the last values.
 */
export class PeerMetrics {
  #read: (() => Promise<readonly Peer[]>) | null = null;

  readonly certificateExpiry: Gauge<'peer'>;
  readonly peers: Gauge<'kind' | 'state'>;

  constructor(registry: Registry) {
    this.certificateExpiry = new Gauge({
      name: 'joinery_peer_certificate_expiry_timestamp_seconds',
      help: 'When the current client certificate of each peer expires (Unix time; absent when unknown, a peer registered before Joinery kept it)',
      labelNames: ['peer'] as const,
      registers: [registry],
      collect: () => this.#scrape.current(),
    });
    this.peers = new Gauge({
      name: 'joinery_peers',
      help: 'Registered peers, by kind (ns, as) and state (enabled, disabled)',
      labelNames: ['kind', 'state'] as const,
      registers: [registry],
      collect: () => this.#scrape.current(),
    });
  }

  /** One read of the peers sets both gauges: shared by the two collects of a scrape. */
  readonly #scrape = new ChangeWatch(() => this.#collect());

  /** Where the peers are read at a scrape. */
  watch(read: () => Promise<readonly Peer[]>): void {
    this.#read = read;
  }

  async #collect(): Promise<void> {
    if (this.#read === null) return;
    let peers: readonly Peer[];
    try {
      peers = await this.#read();
    } catch {
      return;
    }
    this.certificateExpiry.reset();
    for (const peer of peers) {
      const notAfter = peer.certificates.find((c) => c.fingerprint === peer.certFingerprint)?.notAfter;
      if (notAfter) this.certificateExpiry.set({ peer: peer.name }, Math.floor(notAfter.getTime() / 1000));
    }
    for (const kind of ['ns', 'as'] as const) {
      for (const state of PEER_STATES) this.peers.set({ kind, state }, peers.filter((p) => p.kind === kind && p.state === state).length);
    }
  }
}

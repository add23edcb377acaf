import { JoineryMetrics } from './metrics';
import type { Peer } from '../peers/peer';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { OPERATOR_TENANT } from '../tenants/tenant';

const peer = (name: string, kind: 'ns' | 'as', state: Peer['state'], notAfter: Date | null): Peer => {
  const base = {
    name,
    certFingerprint: `${name}-fp`,
    certificates: [{ fingerprint: `${name}-fp`, issuedAt: new Date(0), notAfter, retiresAt: null }],
    state,
    kekLabel: 'k',
    sealedKEK: Buffer.alloc(8),
    settings: DEFAULT_PEER_SETTINGS,
    tenantID: OPERATOR_TENANT,
    createdAt: new Date(0),
  };
  return kind === 'as' ? { ...base, kind, asID: `${name}.example` } : { ...base, kind, netID: '000013' as never, nsID: null, vendor: 'generic' };
};

describe('metrics/peers', () => {
  test('the current certificate expiry of each peer, and peers by kind and state, read at the scrape', async () => {
    const m = new JoineryMetrics({ processMetrics: false });
    let peers: Peer[] = [peer('ns-a', 'ns', 'enabled', new Date(1_800_000_000_000)), peer('ns-b', 'ns', 'disabled', null), peer('as-1', 'as', 'enabled', new Date(1_900_000_000_500))];
    m.peers.watch(async () => peers);
    const lines = async (): Promise<string[]> => (await m.registry.metrics()).split('\n').filter((l) => /^joinery_peer(s|_certificate)/.test(l));
    expect(await lines()).toEqual([
      'joinery_peer_certificate_expiry_timestamp_seconds{peer="ns-a"} 1800000000',
      'joinery_peer_certificate_expiry_timestamp_seconds{peer="as-1"} 1900000000',
      'joinery_peers{kind="ns",state="enabled"} 1',
      'joinery_peers{kind="ns",state="disabled"} 1',
      'joinery_peers{kind="as",state="enabled"} 1',
      'joinery_peers{kind="as",state="disabled"} 0',
    ]);
    // A deleted peer's series goes (from the next turn of the event loop: one scrape, one read).
    await new Promise((resolve) => setImmediate(resolve));
    peers = [peers[0]!];
    expect((await lines()).filter((l) => l.startsWith('joinery_peer_certificate'))).toEqual(['joinery_peer_certificate_expiry_timestamp_seconds{peer="ns-a"} 1800000000']);
  });

  test('joinery_ready follows the readiness check at each scrape', async () => {
    const m = new JoineryMetrics({ processMetrics: false });
    let fail = false;
    m.watchReadiness(async () => {
      if (fail) throw new Error('store down');
    });
    const line = async (): Promise<string | undefined> => (await m.registry.metrics()).split('\n').find((l) => l.startsWith('joinery_ready '));
    expect(await line()).toBe('joinery_ready 1');
    fail = true;
    expect(await line()).toBe('joinery_ready 0');
  });
});

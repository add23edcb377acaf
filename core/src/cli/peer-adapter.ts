import { readAdapterAPIKey } from '../adapters/adapter-api-key-store';
import { loadAdapter } from '../adapters/load-adapter';
import type { NetworkServerAdapter } from '../adapters/network-server-adapter';
import { ParseError } from '../lorawan/parse-error';
import type { NetworkServerPeer } from '../peers/peer';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { note } from './output';

/**
 * The management API adapter of a registered network server, as `ns add --api-url` or
 * `ns set --api-url` configured it (its key from this data directory); its warnings go to
 * stderr. The caller closes it.
 */
export async function openNetworkServerAdapter(store: PeerRegistry, dataDir: string, name: string): Promise<{ peer: NetworkServerPeer; adapter: NetworkServerAdapter }> {
  const peer = await store.getPeer(name);
  if (!peer || peer.kind !== 'ns') throw new ParseError('NAME', `no network server named ${name}`);
  const config = peer.settings.adapter;
  if (!config) throw new ParseError('NAME', `network server ${name} has no management API configured (joinery ns set ${name} --api-url ...)`);
  const module = loadAdapter(peer.vendor);
  const apiKey = await readAdapterAPIKey(dataDir, name);
  return { peer, adapter: module.createAdapter({ apiUrl: config.apiUrl, apiKey, options: config.options, warn: (m) => note(`warning: ${m}`) }) };
}

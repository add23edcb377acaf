import { loadAdapter } from '../adapters/load-adapter';
import type { NetworkServerAdapter } from '../adapters/network-server-adapter';
import type { NetworkServerPeer } from '../peers/peer';
import { MigrationError } from './migration-error';

/** A migration's two network servers, through their vendor adapters. */
export interface MigrationAdapters {
  readonly source: NetworkServerAdapter;
  readonly target: NetworkServerAdapter;
  close(): Promise<void>;
}

/** Where the management API keys are (the data directory's adapter-keys, kept apart from the store). */
export type APIKeyReader = (peerName: string) => Promise<string>;

/**
 * One adapter per peer, configured as `ns add` stored it. Each call is tried once by the
 * adapter: the migration retries (with backoff, paced by its rate limits, a 429 slowing it down
 * rather than counting as a failure) and parks what keeps failing.
 */
export async function openMigrationAdapters(source: NetworkServerPeer, target: NetworkServerPeer, apiKeyOf: APIKeyReader): Promise<MigrationAdapters> {
  const open = async (peer: NetworkServerPeer): Promise<NetworkServerAdapter> => {
    const config = peer.settings.adapter;
    if (!config) throw new MigrationError('no-adapter', `network server ${peer.name} has no adapter configured (ns add ... --api-url)`);
    const module = loadAdapter(peer.vendor);
    return module.createAdapter({ apiUrl: config.apiUrl, apiKey: await apiKeyOf(peer.name), options: config.options, retry: { attempts: 1, timeoutMs: 15_000 } });
  };
  const s = await open(source);
  let t: NetworkServerAdapter;
  try {
    t = await open(target);
  } catch (err) {
    await s.close();
    throw err;
  }
  return {
    source: s,
    target: t,
    async close() {
      await Promise.all([s.close(), t.close()]);
    },
  };
}

import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import type { Peer } from '../peers/peer';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { firstCertificate } from '../peers/peer-certificates';
import { PeerCache } from './peer-cache';

const peer = (name: string, certFingerprint: string, kekLabel = 'kek'): Peer => ({
  kind: 'as',
  name,
  certFingerprint,
  certificates: firstCertificate(certFingerprint, new Date(0), null),
  state: 'enabled',
  kekLabel,
  sealedKEK: Buffer.alloc(8),
  settings: DEFAULT_PEER_SETTINGS,
  tenantID: OPERATOR_TENANT,
  createdAt: new Date(0),
  asID: `${name}.example`,
});

describe('PeerCache', () => {
  let version = 0;
  const readVersion = jest.fn(async () => version);
  const cache = (): PeerCache => new PeerCache(readVersion);
  beforeEach(() => {
    version = 0;
    readVersion.mockClear();
  });

  test('a peer read once is served from memory, by name and by fingerprint, while the change counter stays', async () => {
    const c = cache();
    const read = jest.fn(async () => peer('a', 'fa'));
    expect(await c.byName('a', read)).toMatchObject({ name: 'a' });
    expect(await c.byFingerprint('fa', async () => null)).toMatchObject({ name: 'a' });
    expect(await c.byName('a', read)).toMatchObject({ name: 'a' });
    expect(read).toHaveBeenCalledTimes(1);
    version = 1; // another process wrote to peers
    read.mockResolvedValueOnce(peer('a', 'fa', 'kek-2'));
    expect(await c.byName('a', read)).toMatchObject({ kekLabel: 'kek-2' });
    expect(read).toHaveBeenCalledTimes(2);
    expect(await c.byFingerprint('fa', async () => null)).toMatchObject({ kekLabel: 'kek-2' });
  });

  test('clear drops everything; a peer gone from the store is not served again', async () => {
    const c = cache();
    await c.byName('a', async () => peer('a', 'fa'));
    c.clear();
    expect(await c.byName('a', async () => null)).toBeNull();
    expect(await c.byFingerprint('fa', async () => null)).toBeNull();
  });

  test('unknown names are read every time, never cached', async () => {
    const c = cache();
    const read = jest.fn(async () => null);
    await c.byName('nobody', read);
    await c.byName('nobody', read);
    expect(read).toHaveBeenCalledTimes(2);
  });

  test('a read that started before a write (clear) does not keep what it read', async () => {
    const c = cache();
    let release!: (p: Peer) => void;
    const slow = c.byName('a', () => new Promise<Peer>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 1)); // the read is in flight
    c.clear(); // a write through this store lands meanwhile
    release(peer('a', 'fa', 'old'));
    expect(await slow).toMatchObject({ kekLabel: 'old' });
    const read = jest.fn(async () => peer('a', 'fa', 'new'));
    expect(await c.byName('a', read)).toMatchObject({ kekLabel: 'new' });
    expect(read).toHaveBeenCalledTimes(1);
  });
});

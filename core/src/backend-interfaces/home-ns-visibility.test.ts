import type { NetworkServerPeer } from '../peers/peer';
import type { Device } from '../store/device';
import type { TenantID } from '../tenants/tenant';
import { maySeeHome, type HomeNSAnswers } from './home-ns-visibility';

const ns = (name: string, tenant: string): NetworkServerPeer => ({ name, tenantID: tenant as TenantID, kind: 'ns' }) as NetworkServerPeer;
const device = (owner: string | null, nsPeer: string | null, overlapNsPeer: string | null = null): Pick<Device, 'nsPeer' | 'overlapNsPeer' | 'ownership'> =>
  ({ nsPeer, overlapNsPeer, ownership: { owner: owner as TenantID | null } }) as Pick<Device, 'nsPeer' | 'overlapNsPeer' | 'ownership'>;

describe('backend-interfaces/home-ns-visibility', () => {
  const peers = [ns('a1', 'alice'), ns('a2', 'alice'), ns('b1', 'bob'), ns('op', 'operator')];
  const seers = (mode: HomeNSAnswers, d: ReturnType<typeof device>): string[] => peers.filter((p) => maySeeHome(mode, d, p)).map((p) => p.name);

  test('bound: the bound network server and an overlap migration target only', () => {
    expect(seers('bound', device('alice', 'a1'))).toEqual(['a1']);
    expect(seers('bound', device('alice', 'a1', 'b1'))).toEqual(['a1', 'b1']);
    expect(seers('bound', device(null, null))).toEqual([]);
  });

  test("tenant: the owner's network servers and the operator's; an unclaimed device only the operator's", () => {
    expect(seers('tenant', device('alice', 'a1'))).toEqual(['a1', 'a2', 'op']);
    expect(seers('tenant', device(null, null))).toEqual(['op']);
  });

  test('any: every network server', () => {
    expect(seers('any', device(null, null))).toEqual(['a1', 'a2', 'b1', 'op']);
  });
});

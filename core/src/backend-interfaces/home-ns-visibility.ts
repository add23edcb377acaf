import type { NetworkServerPeer } from '../peers/peer';
import { mayJoinThrough, type Device } from '../store/device';
import { OPERATOR_TENANT } from '../tenants/tenant';

/**
 * Which network servers a HomeNSReq is answered to (`serve --home-ns-answers`):
 * - `bound`: only the one the device is bound to (or its overlap migration target);
 * - `tenant`: any network server of the device owner's tenant, or of the operator's;
 * - `any`: every registered network server.
 * Any other is answered as for a device that does not exist.
 */
export const HOME_NS_ANSWERS = ['bound', 'tenant', 'any'] as const;
export type HomeNSAnswers = (typeof HOME_NS_ANSWERS)[number];

/** Whether `peer` may learn that `device` exists and where its home network server is. */
export function maySeeHome(mode: HomeNSAnswers, device: Pick<Device, 'nsPeer' | 'overlapNsPeer' | 'ownership'>, peer: NetworkServerPeer): boolean {
  const owner = device.ownership.owner;
  switch (mode) {
    case 'any':
      return true;
    case 'tenant':
      // An unclaimed device has no owner: only the operator's network servers see it.
      return peer.tenantID === OPERATOR_TENANT || (owner !== null && peer.tenantID === owner);
    case 'bound':
      // An unclaimed device is bound to no network server.
      return owner !== null && mayJoinThrough(device, peer.name);
  }
}

import type { Device } from '../store/device';
import type { JoinRecord } from '../store/join-record';

/** What the admin API and the CLI show of a device: identities, ownership, binding, last join. Never a key, never a token. */
export interface DeviceView {
  readonly devEUI: string;
  readonly joinEUI: string;
  readonly macVersion: string;
  readonly profileID: string;
  readonly manufacturer: string;
  readonly owner: string | null;
  readonly claimed: boolean;
  readonly locked: boolean;
  readonly networkServer: string | null;
  readonly applicationServer: string | null;
  readonly claimedAt: string | null;
  readonly activatedAt: string | null;
  readonly lastJoinAt: string | null;
  readonly lastJoinNetworkServer: string | null;
  readonly createdAt: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function deviceView(d: Device): DeviceView {
  return {
    devEUI: d.devEUI,
    joinEUI: d.joinEUI,
    macVersion: d.macVersion,
    profileID: d.ownership.profileID,
    manufacturer: d.ownership.manufacturer,
    owner: d.ownership.owner,
    claimed: d.ownership.owner !== null,
    locked: d.ownership.locked,
    networkServer: d.nsPeer,
    applicationServer: d.asPeer,
    claimedAt: iso(d.ownership.claimedAt),
    activatedAt: iso(d.ownership.activatedAt),
    lastJoinAt: iso(d.lastJoinAt),
    lastJoinNetworkServer: d.lastJoinPeer,
    createdAt: d.createdAt.toISOString(),
  };
}

/** A device's join state (for the network operator chasing a join problem): nonces, last join. Never a key. */
export interface DeviceSessionView {
  readonly devEUI: string;
  readonly lastDevNonce: number | null;
  readonly usedDevNonces: number;
  readonly lastJoinNonce: number | null;
  readonly lastRJCount1: number | null;
  readonly lastJoinAt: string | null;
  readonly lastJoinNetworkServer: string | null;
  readonly activatedAt: string | null;
}

export function deviceSessionView(d: Device): DeviceSessionView {
  return {
    devEUI: d.devEUI,
    lastDevNonce: d.nonces.lastDevNonce,
    usedDevNonces: d.nonces.usedDevNonces.length,
    lastJoinNonce: d.nonces.lastJoinNonce,
    lastRJCount1: d.nonces.lastRJCount1,
    lastJoinAt: iso(d.lastJoinAt),
    lastJoinNetworkServer: d.lastJoinPeer,
    activatedAt: iso(d.ownership.activatedAt),
  };
}

/** One entry of a device's join history: when, through which network server, what came of it. Never a key. */
export interface JoinRecordView {
  readonly at: string;
  readonly networkServer: string;
  readonly joinEUI: string;
  readonly joinType: string;
  readonly macVersion: string;
  readonly result: string;
  readonly description: string | null;
  readonly devNonce: number | null;
  readonly joinNonce: number | null;
}

export function joinRecordView(r: JoinRecord): JoinRecordView {
  return {
    at: r.at.toISOString(),
    networkServer: r.peer,
    joinEUI: r.joinEUI,
    joinType: r.joinType,
    macVersion: r.macVersion,
    result: r.result,
    description: r.description,
    devNonce: r.devNonce,
    joinNonce: r.joinNonce,
  };
}

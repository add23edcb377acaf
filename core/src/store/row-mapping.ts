import { parseEUI64, parseNetID } from '../lorawan/identifiers';
import { parseMACVersion } from '../lorawan/mac-version';
import { devNonce, joinNonce } from '../lorawan/nonces';
import type { Peer } from '../peers/peer';
import { parsePeerSettings, serializePeerSettings } from '../peers/peer-settings';
import { parseVendor } from '../peers/vendor';
import type { Device } from './device';
import type { SessionRecord } from './session';

/**
 * The rows every SQL store reads, once its driver's own types are normalised (numbers as
 * numbers, times as Dates): parsed here into the branded types, so both stores map rows the
 * same way and a corrupt row fails the same way.
 */
export interface DeviceRowValues {
  readonly dev_eui: string;
  readonly join_eui: string;
  readonly mac_version: string;
  readonly sealed_root_keys: Buffer;
  readonly vault_kind: string;
  readonly ns_peer: string | null;
  readonly as_peer: string | null;
  readonly last_dev_nonce: number | null;
  readonly used_dev_nonces: readonly number[];
  readonly last_join_nonce: number | null;
  readonly last_rj_count1: number | null;
  readonly version: number;
  readonly last_join_at: Date | null;
  readonly last_join_peer: string | null;
  readonly created_at: Date;
}

export function deviceFromRow(row: DeviceRowValues): Device {
  return {
    devEUI: parseEUI64(row.dev_eui, 'devices.dev_eui'),
    joinEUI: parseEUI64(row.join_eui, 'devices.join_eui'),
    macVersion: parseMACVersion(row.mac_version, 'devices.mac_version'),
    sealedRootKeys: row.sealed_root_keys,
    vaultKind: row.vault_kind,
    nsPeer: row.ns_peer,
    asPeer: row.as_peer,
    nonces: {
      lastDevNonce: row.last_dev_nonce === null ? null : devNonce(row.last_dev_nonce, 'devices.last_dev_nonce'),
      usedDevNonces: row.used_dev_nonces.map((n) => devNonce(n, 'devices.used_dev_nonces')),
      lastJoinNonce: row.last_join_nonce === null ? null : joinNonce(row.last_join_nonce, 'devices.last_join_nonce'),
      lastRJCount1: row.last_rj_count1,
    },
    version: row.version,
    lastJoinAt: row.last_join_at,
    lastJoinPeer: row.last_join_peer,
    createdAt: row.created_at,
  };
}

export interface SessionRowValues {
  readonly dev_eui: string;
  readonly session_key_id: string;
  readonly join_nonce: number;
  readonly ns_peer: string;
  readonly as_peer: string | null;
  readonly sealed_app_s_key: Buffer;
  readonly created_at: Date;
}

export function sessionFromRow(row: SessionRowValues): SessionRecord {
  return {
    devEUI: parseEUI64(row.dev_eui, 'sessions.dev_eui'),
    sessionKeyID: row.session_key_id,
    joinNonce: joinNonce(row.join_nonce, 'sessions.join_nonce'),
    nsPeer: row.ns_peer,
    asPeer: row.as_peer,
    sealedAppSKey: row.sealed_app_s_key,
    createdAt: row.created_at,
  };
}

export interface PeerRowValues {
  readonly name: string;
  readonly kind: string;
  readonly cert_fingerprint: string;
  readonly kek_label: string;
  readonly sealed_kek: Buffer;
  readonly net_id: string | null;
  readonly ns_id: string | null;
  readonly vendor: string | null;
  readonly as_id: string | null;
  readonly settings: string;
  readonly created_at: Date;
}

export function peerFromRow(row: PeerRowValues): Peer {
  const base = {
    name: row.name,
    certFingerprint: row.cert_fingerprint,
    kekLabel: row.kek_label,
    sealedKEK: row.sealed_kek,
    settings: parsePeerSettings(row.settings),
    createdAt: row.created_at,
  };
  if (row.kind === 'ns') {
    return {
      ...base,
      kind: 'ns',
      netID: parseNetID(row.net_id, 'peers.net_id'),
      nsID: row.ns_id === null ? null : parseEUI64(row.ns_id, 'peers.ns_id'),
      vendor: parseVendor(row.vendor, 'peers.vendor'),
    };
  }
  if (row.kind === 'as') {
    if (row.as_id === null) throw new Error(`peer ${row.name}: application server without as_id`);
    return { ...base, kind: 'as', asID: row.as_id };
  }
  throw new Error(`peer ${row.name}: unknown kind "${row.kind}"`);
}

/** The peers table's columns, in the order `peerRowValues` gives their values. */
export const PEER_COLUMNS = ['name', 'kind', 'cert_fingerprint', 'kek_label', 'sealed_kek', 'net_id', 'ns_id', 'vendor', 'as_id', 'created_at', 'settings'] as const;

/** The inverse of `peerFromRow`: a peer's column values, in `PEER_COLUMNS` order. */
export function peerRowValues(peer: Peer): Array<PeerRowValues[(typeof PEER_COLUMNS)[number]]> {
  const ns = peer.kind === 'ns' ? peer : null;
  const row: PeerRowValues = {
    name: peer.name,
    kind: peer.kind,
    cert_fingerprint: peer.certFingerprint,
    kek_label: peer.kekLabel,
    sealed_kek: peer.sealedKEK,
    net_id: ns ? ns.netID : null,
    ns_id: ns ? ns.nsID : null,
    vendor: ns ? ns.vendor : null,
    as_id: peer.kind === 'as' ? peer.asID : null,
    created_at: peer.createdAt,
    settings: serializePeerSettings(peer.settings),
  };
  return PEER_COLUMNS.map((c) => row[c]);
}

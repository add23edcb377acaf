import { parseEUI64, parseNetID } from '../../lorawan/identifiers';
import { PEER_STATES, type Peer, type PeerState } from '../../peers/peer';
import { parsePeerCertificates, serializePeerCertificates } from '../../peers/peer-certificates';
import { parsePeerSettings, serializePeerSettings, type PeerSettings } from '../../peers/peer-settings';
import { parseVendor } from '../../peers/vendor';
import type { TenantID } from '../../tenants/tenant';
import type { AuditEvent } from '../audit-event';
import type { PeerChange, PeerDeletion, PeerRegistry, PeerUsage } from '../ports/peer-registry';
import { PeerExistsError } from '../store-errors';
import { audited } from './audit-log-sql';
import { asDate, asInt, count, firstRow, placeholders, rows, type SqlInt, type SqlRunner, type SqlTime, type Work } from './sql-work';

/** A peers row as either database gives it. */
interface PeerRow {
  readonly name: string;
  readonly kind: string;
  readonly cert_fingerprint: string;
  readonly kek_label: string;
  readonly sealed_kek: Buffer;
  readonly net_id: string | null;
  readonly ns_id: string | null;
  readonly vendor: string | null;
  readonly as_id: string | null;
  readonly created_at: SqlTime;
  readonly settings: string;
  readonly tenant_id: string;
  readonly state: string;
  readonly certificates: string;
}

const PEER_COLUMNS = ['name', 'kind', 'cert_fingerprint', 'kek_label', 'sealed_kek', 'net_id', 'ns_id', 'vendor', 'as_id', 'created_at', 'settings', 'tenant_id', 'state', 'certificates'] as const;
const PEER_COLUMN_LIST = PEER_COLUMNS.join(', ');

function peerFromRow(row: PeerRow): Peer {
  const base = {
    name: row.name,
    certFingerprint: row.cert_fingerprint,
    kekLabel: row.kek_label,
    sealedKEK: row.sealed_kek,
    settings: parsePeerSettings(row.settings),
    tenantID: row.tenant_id as TenantID,
    createdAt: asDate(row.created_at),
    state: parsePeerState(row.state, row.name),
    certificates: parsePeerCertificates(row.certificates, row.name),
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

/** The inverse of `peerFromRow`: a peer's column values, in `PEER_COLUMNS` order. */
function peerRowValues(peer: Peer): unknown[] {
  const ns = peer.kind === 'ns' ? peer : null;
  const row: Record<(typeof PEER_COLUMNS)[number], unknown> = {
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
    tenant_id: peer.tenantID,
    state: peer.state,
    certificates: serializePeerCertificates(peer.certificates),
  };
  return PEER_COLUMNS.map((c) => row[c]);
}

/** The peers columns a change writes, with their values (at least one: an empty change is a programming error). */
function peerChangeColumns(change: PeerChange): Array<[column: string, value: string | Buffer]> {
  const columns: Array<[string, string | Buffer]> = [];
  if (change.state !== undefined) columns.push(['state', change.state]);
  if (change.certificates !== undefined) columns.push(['certificates', serializePeerCertificates(change.certificates)]);
  if (change.certFingerprint !== undefined) columns.push(['cert_fingerprint', change.certFingerprint]);
  if (change.kek !== undefined) columns.push(['kek_label', change.kek.label], ['sealed_kek', change.kek.sealedKEK]);
  if (columns.length === 0) throw new Error('a peer change that changes nothing');
  return columns;
}

function parsePeerState(state: string, peerName: string): PeerState {
  if (!(PEER_STATES as readonly string[]).includes(state)) throw new Error(`peer ${peerName}: unknown state "${state}"`);
  return state as PeerState;
}

/** Removes every binding to the peer: an overlap network server becomes the device's network server; otherwise it is unbound. */
const UNBIND_FROM_PEER_SQL = [
  'UPDATE devices SET ns_peer = overlap_ns_peer, overlap_ns_peer = NULL, version = version + 1 WHERE ns_peer = ?',
  'UPDATE devices SET overlap_ns_peer = NULL, version = version + 1 WHERE overlap_ns_peer = ?',
  'UPDATE devices SET as_peer = NULL, version = version + 1 WHERE as_peer = ?',
] as const;

/** Devices bound to each peer, in any role. */
const BOUND_PER_PEER_SQL = `SELECT peer, COUNT(*) AS n FROM (
    SELECT ns_peer AS peer FROM devices WHERE ns_peer IS NOT NULL
    UNION ALL SELECT overlap_ns_peer FROM devices WHERE overlap_ns_peer IS NOT NULL
    UNION ALL SELECT as_peer FROM devices WHERE as_peer IS NOT NULL
  ) AS bound GROUP BY peer`;

/** The last accepted join through each peer. */
const LAST_JOIN_PER_PEER_SQL = 'SELECT last_join_peer AS peer, MAX(last_join_at) AS at FROM devices WHERE last_join_peer IS NOT NULL GROUP BY last_join_peer';

/**
 * The peers, the same SQL on both databases (the read-through cache in front of it is
 * CachedPeerRegistry, peer-cache.ts). Every write to peers bumps the peers' change counter in
 * its transaction, which other processes' caches check.
 */
export class SqlPeerRegistry implements PeerRegistry {
  constructor(private readonly sql: SqlRunner) {}

  async insertPeer(peer: Peer, audit?: AuditEvent): Promise<void> {
    const dialect = this.sql.dialect;
    const write = function* (): Work<boolean> {
      if ((yield* count(`INSERT INTO peers (${PEER_COLUMN_LIST}) VALUES ${placeholders(PEER_COLUMNS.length)}`, peerRowValues(peer))) !== 1) return false;
      for (const c of peer.certificates) yield* count('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES (?, ?)', [c.fingerprint, peer.name]);
      for (const s of dialect.bumpPeerChanges) yield s;
      return true;
    };
    try {
      await this.sql.transaction('adding a peer', () => audited(dialect, write(), audit));
    } catch (err) {
      if (dialect.isDuplicate(err)) throw new PeerExistsError(peer.name);
      throw err;
    }
  }

  async getPeer(name: string): Promise<Peer | null> {
    const row = await this.sql.run('reading a peer', firstRow<PeerRow>(`SELECT ${PEER_COLUMN_LIST} FROM peers WHERE name = ?`, [name]));
    return row ? peerFromRow(row) : null;
  }

  async getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    const sql = `SELECT ${PEER_COLUMNS.map((c) => `p.${c}`).join(', ')} FROM peer_fingerprints f JOIN peers p ON p.name = f.peer_name WHERE f.fingerprint = ?`;
    const row = await this.sql.run('reading a peer', firstRow<PeerRow>(sql, [certFingerprint]));
    return row ? peerFromRow(row) : null;
  }

  async updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    const dialect = this.sql.dialect;
    return this.sql.transaction('updating peer settings', () =>
      (function* (): Work<boolean> {
        if ((yield* count('UPDATE peers SET settings = ? WHERE name = ?', [serializePeerSettings(settings), name])) === 0) return false;
        for (const s of dialect.bumpPeerChanges) yield s;
        return true;
      })(),
    );
  }

  async updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean> {
    const dialect = this.sql.dialect;
    const columns = peerChangeColumns(change);
    const write = function* (): Work<boolean> {
      const sql = `UPDATE peers SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE name = ?`;
      if ((yield* count(sql, [...columns.map(([, v]) => v), name])) !== 1) return false;
      for (const c of change.certificates ?? []) {
        yield* count('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES (?, ?) ON CONFLICT (fingerprint) DO NOTHING', [c.fingerprint, name]);
      }
      for (const s of dialect.bumpPeerChanges) yield s;
      return true;
    };
    return this.sql.transaction('changing a peer', () => audited(dialect, write(), audit));
  }

  async deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion> {
    const dialect = this.sql.dialect;
    let outcome: PeerDeletion = { kind: 'not-found' };
    const write = function* (): Work<boolean> {
      // The peer's row locked first (PostgreSQL): a concurrent binding to it waits, or is seen by the count.
      if ((yield* firstRow(`SELECT name FROM peers WHERE name = ?${dialect.forUpdate}`, [name])) === undefined) return false;
      const bound = yield* firstRow<{ n: SqlInt }>('SELECT COUNT(*) AS n FROM devices WHERE ns_peer = ? OR overlap_ns_peer = ? OR as_peer = ?', [name, name, name]);
      const devices = asInt(bound?.n ?? 0, 'COUNT(*)');
      if (devices > 0 && !unbindDevices) {
        outcome = { kind: 'bound', devices };
        return false;
      }
      for (const sql of UNBIND_FROM_PEER_SQL) yield* count(sql, [name]);
      yield* count('DELETE FROM peer_fingerprints WHERE peer_name = ?', [name]);
      yield* count('DELETE FROM peers WHERE name = ?', [name]);
      for (const s of dialect.bumpPeerChanges) yield s;
      outcome = { kind: 'deleted', unbound: devices };
      return true;
    };
    await this.sql.transaction('deleting a peer', () => audited(dialect, write(), audit));
    return outcome;
  }

  async peerUsage(): Promise<Map<string, PeerUsage>> {
    const bound = await this.sql.run('counting devices per peer', rows<{ peer: string; n: SqlInt }>(BOUND_PER_PEER_SQL));
    const lastJoins = await this.sql.run('reading last joins per peer', rows<{ peer: string; at: SqlTime }>(LAST_JOIN_PER_PEER_SQL));
    const usage = new Map<string, PeerUsage>();
    for (const b of bound) usage.set(b.peer, { boundDevices: Number(b.n), lastJoinAt: null });
    for (const j of lastJoins) usage.set(j.peer, { boundDevices: usage.get(j.peer)?.boundDevices ?? 0, lastJoinAt: asDate(j.at) });
    return usage;
  }

  async peerJoinResults(name: string, since: Date): Promise<Record<string, number>> {
    const found = await this.sql.run(
      "reading a peer's join results",
      rows<{ result: string; n: SqlInt }>('SELECT result, COUNT(*) AS n FROM device_joins WHERE peer = ? AND at >= ? GROUP BY result ORDER BY result', [name, since]),
    );
    return Object.fromEntries(found.map((r) => [r.result, Number(r.n)]));
  }

  async listPeers(tenantID?: TenantID): Promise<Peer[]> {
    const order = `ORDER BY ${this.sql.dialect.text('name')}`;
    const found =
      tenantID === undefined
        ? await this.sql.run('listing peers', rows<PeerRow>(`SELECT ${PEER_COLUMN_LIST} FROM peers ${order}`))
        : await this.sql.run('listing peers', rows<PeerRow>(`SELECT ${PEER_COLUMN_LIST} FROM peers WHERE tenant_id = ? ${order}`, [tenantID]));
    return found.map(peerFromRow);
  }
}

import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import { joinNonce } from '../../lorawan/nonces';
import type { SessionRecord } from '../session';
import { asDate, asInt, firstRow, type SqlInt, type SqlTime, type Work } from './sql-work';

/** A sessions row as either database gives it. */
interface SessionRow {
  readonly dev_eui: string;
  readonly session_key_id: string;
  readonly join_nonce: SqlInt;
  readonly ns_peer: string;
  readonly as_peer: string | null;
  readonly sealed_app_s_key: Buffer;
  readonly created_at: SqlTime;
}

/** The sessions columns, in the order a session is inserted (`sessionValues`). */
export const SESSION_COLUMNS = 'dev_eui, session_key_id, join_nonce, ns_peer, as_peer, sealed_app_s_key, created_at';

export function sessionValues(s: SessionRecord): unknown[] {
  return [s.devEUI, s.sessionKeyID, s.joinNonce, s.nsPeer, s.asPeer, s.sealedAppSKey, s.createdAt];
}

function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    devEUI: parseEUI64(row.dev_eui, 'sessions.dev_eui'),
    sessionKeyID: row.session_key_id,
    joinNonce: joinNonce(asInt(row.join_nonce, 'sessions.join_nonce'), 'sessions.join_nonce'),
    nsPeer: row.ns_peer,
    asPeer: row.as_peer,
    sealedAppSKey: row.sealed_app_s_key,
    createdAt: asDate(row.created_at),
  };
}

/** A session, by its device and SessionKeyID (the AppSKey requests): the same SQL on both databases. */
export function* getSession(devEUI: EUI64, sessionKeyID: string): Work<SessionRecord | null> {
  const row = yield* firstRow<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE dev_eui = ? AND session_key_id = ?`, [devEUI, sessionKeyID]);
  return row ? sessionFromRow(row) : null;
}

/** A `keep` that is not a positive integer is a programming error. */
export function checkKeep(operation: string, keep: number): void {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`${operation}: keep must be a positive integer, got ${keep}`);
}

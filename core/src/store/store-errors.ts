import type { EUI64 } from '../lorawan/identifiers';

/**
 * What a store refuses, the same from both stores (SQLite and PostgreSQL): one base class whose
 * `kind` names the refusal, and a subclass per kind, so a consumer matches either way
 * (`err instanceof PeerExistsError`, or `err instanceof StoreError && err.kind === ...`).
 * Nothing of the request was written when one is thrown.
 */
export type StoreErrorKind = 'device-exists' | 'peer-exists' | 'migration-conflict';

export abstract class StoreError extends Error {
  abstract readonly kind: StoreErrorKind;
}

/** A device import hit a DevEUI that already exists: nothing of the batch was written. */
export class DeviceExistsError extends StoreError {
  override readonly name = 'DeviceExistsError';
  readonly kind = 'device-exists';
  constructor(readonly devEUI: EUI64) {
    super(`device ${devEUI} already exists`);
  }
}

/** A peer with this name (or certificate) already exists. */
export class PeerExistsError extends StoreError {
  override readonly name = 'PeerExistsError';
  readonly kind = 'peer-exists';
  constructor(readonly peerName: string) {
    super(`peer ${peerName} already exists`);
  }
}

/** A device selected for a migration is still being moved by another one: nothing was written. */
export class MigrationConflictError extends StoreError {
  override readonly name = 'MigrationConflictError';
  readonly kind = 'migration-conflict';
  constructor(
    readonly devEUI: EUI64,
    readonly otherMigrationID: string,
  ) {
    super(`device ${devEUI} is still in migration ${otherMigrationID}`);
  }
}

/**
 * True when `err` says the store cannot answer now but may soon, with nothing of the request
 * done: SQLite busy or locked (another connection holds the write lock past the busy timeout),
 * PostgreSQL unreachable, restarting, shutting down or out of connections, or a connection lost
 * mid-request. Such a request may be sent again; the admin API answers it 503 with Retry-After.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
    // SQLSTATE class 08 (connection exception); 57P01-57P03 (shutdown, crash, not accepting
    // connections yet); 53300 (too many connections).
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    if (NETWORK_ERRNOS.has(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return CONNECTION_LOST.test(message);
}

const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN']);
/** node-postgres's messages for a connection that ended or could not be made in time (they carry no code). */
const CONNECTION_LOST = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed/;

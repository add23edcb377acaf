import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic-file';

/**
 * The BI listener's TLS session ticket keys, kept in the data directory.
 *
 * A client that resumes a TLS session (rustls does by default, and with it ChirpStack's
 * Backend Interfaces client) presents a ticket the listener issued in an earlier handshake and
 * skips the certificates, their signatures and chain checks: the listener seals its tickets
 * under these keys. Node draws new keys in every process, so each restart cost every network
 * server a full handshake, all of them at once when the network is in a join storm. Kept here,
 * a ticket issued before a restart still opens after it.
 *
 * What holds:
 * - The file is a secret of the rank of ca.key: whoever reads it can make a ticket, that is a
 *   session as any peer, without the peer's private key. It is written whole or not at all,
 *   mode 0600. A file that group or others can access is taken as exposed: its keys are never
 *   used, new ones replace them.
 * - A resumed session stands for the client certificate of the handshake it resumes (the
 *   ticket carries it), and the BI listener looks the peer up by that certificate on every
 *   request: a peer removed or disabled is refused on a resumed session as on a new one.
 * - The keys are replaced once they are KEY_LIFETIME_MS old: at a start, and by the running
 *   listener (startTicketKeyRotation). Node keeps one set at a time, so the tickets sealed
 *   under the keys replaced no longer open (one full handshake each), and a ticket lives at
 *   most TICKET_LIFETIME_SECONDS: a session resumed is at most that much older than the
 *   certificate check of its handshake.
 * - A file that cannot be read as ours (truncated, edited, a date in the future) is replaced,
 *   with the reason: losing it costs handshakes, never data.
 */
export const TICKET_KEYS_FILE = 'tls-ticket-keys.json';

/** Where a data directory keeps its ticket keys. */
export function ticketKeysFile(dataDir: string): string {
  return path.join(dataDir, TICKET_KEYS_FILE);
}

/** Keys older than this are replaced. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** How long a ticket (a session) can be resumed: node's `sessionTimeout`. */
export const TICKET_LIFETIME_SECONDS = 12 * 60 * 60;

/** Node's `ticketKeys`: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
const KEYS_BYTES = 48;

/** A date written by a machine whose clock was this far ahead is still believed. */
const CLOCK_SLACK_MS = 5 * 60 * 1000;

export interface TicketKeys {
  /** The 48 bytes node's TLS server takes (`ticketKeys`, `setTicketKeys`). */
  readonly keys: Buffer;
  /** When they were drawn, in ms since the epoch. */
  readonly createdAt: number;
}

/**
 * What loading found: the keys kept, or why new ones were drawn; `unsaved`: new keys that could
 * not be written (a read-only data directory), used in this process alone.
 */
export type TicketKeysOutcome =
  { readonly kind: 'kept' } | { readonly kind: 'created' } | { readonly kind: 'rotated' } | { readonly kind: 'replaced'; readonly reason: string } | { readonly kind: 'unsaved'; readonly error: string };

/**
 * The data directory's ticket keys: those in the file while they are fresh, else new ones,
 * written there first. A data directory the keys cannot be written to (mounted read-only with
 * a PostgreSQL store, say) does not stop the server: its keys are then its own, as node's are.
 */
export async function loadOrCreateTicketKeys(dataDir: string, now: number = Date.now()): Promise<{ readonly ticketKeys: TicketKeys; readonly outcome: TicketKeysOutcome }> {
  const file = ticketKeysFile(dataDir);
  const found = await readTicketKeys(file, now);
  if (found.kind === 'keys' && !ticketKeysDue(found.ticketKeys, now)) return { ticketKeys: found.ticketKeys, outcome: { kind: 'kept' } };
  let ticketKeys: TicketKeys;
  try {
    ticketKeys = await writeNewTicketKeys(dataDir, now);
  } catch (err) {
    return { ticketKeys: { keys: randomBytes(KEYS_BYTES), createdAt: now }, outcome: { kind: 'unsaved', error: (err as NodeJS.ErrnoException).code ?? (err as Error).message } };
  }
  const outcome: TicketKeysOutcome = found.kind === 'none' ? { kind: 'created' } : found.kind === 'keys' ? { kind: 'rotated' } : { kind: 'replaced', reason: found.reason };
  return { ticketKeys, outcome };
}

/** Whether keys drawn at `createdAt` are to be replaced at `now`. */
export function ticketKeysDue(ticketKeys: TicketKeys, now: number): boolean {
  return now - ticketKeys.createdAt >= KEY_LIFETIME_MS;
}

/** Draws new keys and writes them to the data directory (atomically, mode 0600). */
export async function writeNewTicketKeys(dataDir: string, now: number = Date.now()): Promise<TicketKeys> {
  const ticketKeys = { keys: randomBytes(KEYS_BYTES), createdAt: now };
  const text = `${JSON.stringify({ createdAt: new Date(now).toISOString(), keys: ticketKeys.keys.toString('hex') })}\n`;
  await writeFileAtomic(ticketKeysFile(dataDir), text, { mode: 0o600, replace: true });
  return ticketKeys;
}

type ReadOutcome = { readonly kind: 'keys'; readonly ticketKeys: TicketKeys } | { readonly kind: 'none' } | { readonly kind: 'unusable'; readonly reason: string };

async function readTicketKeys(file: string, now: number): Promise<ReadOutcome> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unusable', reason: `cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: 'unusable', reason: 'not a regular file' };
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      return { kind: 'unusable', reason: `mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}: group or others could read it, so its keys are taken as known` };
    }
    if (stat.size > 1024) return { kind: 'unusable', reason: 'larger than a ticket key file' };
    return parseTicketKeys(await handle.readFile({ encoding: 'utf8' }), now);
  } finally {
    await handle.close();
  }
}

function parseTicketKeys(text: string, now: number): ReadOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unusable', reason: 'not JSON' };
  }
  const { createdAt, keys } = (typeof value === 'object' && value !== null ? value : {}) as { createdAt?: unknown; keys?: unknown };
  if (typeof keys !== 'string' || !new RegExp(`^[0-9a-f]{${KEYS_BYTES * 2}}$`).test(keys)) return { kind: 'unusable', reason: `keys: expected ${KEYS_BYTES * 2} lowercase hex digits` };
  const created = typeof createdAt === 'string' ? Date.parse(createdAt) : NaN;
  if (Number.isNaN(created)) return { kind: 'unusable', reason: 'createdAt: expected an ISO 8601 date' };
  // Else keys dated ahead would outlive their lifetime by as much.
  if (created > now + CLOCK_SLACK_MS) return { kind: 'unusable', reason: 'createdAt is in the future' };
  return { kind: 'keys', ticketKeys: { keys: Buffer.from(keys, 'hex'), createdAt: created } };
}

/** How often a running listener checks whether its keys are due. */
const ROTATION_CHECK_MS = 60 * 60 * 1000;

/**
 * Replaces the keys once they are due, while the listener runs: written to the data directory
 * first, then handed to `apply` (the TLS server's setTicketKeys). A write that fails is
 * reported and the new keys are applied all the same: fresh keys matter more than keeping
 * sessions over the next restart. Returns the function that stops it.
 */
export function startTicketKeyRotation(
  dataDir: string,
  current: TicketKeys,
  apply: (keys: Buffer) => void,
  report: (event: { readonly rotated: true; readonly writeError?: string }) => void,
  checkEveryMs: number = ROTATION_CHECK_MS,
  now: () => number = Date.now,
): () => void {
  let keys = current;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || !ticketKeysDue(keys, now())) return;
    busy = true;
    void writeNewTicketKeys(dataDir, now())
      .then(
        (fresh) => ({ fresh, writeError: undefined }),
        (err: unknown) => ({ fresh: { keys: randomBytes(KEYS_BYTES), createdAt: now() }, writeError: err instanceof Error ? err.message : String(err) }),
      )
      .then(({ fresh, writeError }) => {
        keys = fresh;
        apply(fresh.keys);
        report(writeError === undefined ? { rotated: true } : { rotated: true, writeError });
      })
      .finally(() => (busy = false));
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}

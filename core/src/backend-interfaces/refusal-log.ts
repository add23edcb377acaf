import type { Logger } from '../log/logger';

/** Why the BI listener refused a request (or a connection) before the BI handler saw it. */
export type RefusalReason =
  'not JSON' | 'too large' | 'wrong method' | 'no client certificate' | 'unknown client certificate' | 'TLS handshake failed' | 'bad or missing header secret' | 'too many failed header secrets' | 'bad request';

export interface RefusalLogOptions {
  /** At most one line per (address, reason) in this many milliseconds (default 10 s). */
  readonly intervalMs?: number;
  /** (address, reason) pairs remembered, the least recently logged dropped first. */
  readonly maxEntries?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

interface Entry {
  loggedAt: number;
  suppressed: number;
}

/**
 * One warn line for a refused BI request: the caller's address, the reason and what detail
 * helps (never a secret, never a body), so an operator can see why a network server cannot
 * connect. Rate-limited per (address, reason): the refusals in between are counted and the
 * count (`suppressed`) goes on the next line of that pair.
 */
export class RefusalLog {
  readonly #entries = new Map<string, Entry>();
  readonly #intervalMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(
    private readonly log: Logger,
    options: RefusalLogOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  refused(address: string, reason: RefusalReason, detail?: string): void {
    const key = `${address}\u0000${reason}`;
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.loggedAt < this.#intervalMs) {
      entry.suppressed++;
      return;
    }
    this.log.warn({ address, reason, ...(detail !== undefined ? { detail } : {}), suppressed: entry?.suppressed ?? 0 }, 'bi request refused');
    this.#entries.delete(key);
    this.#entries.set(key, { loggedAt: now, suppressed: 0 });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

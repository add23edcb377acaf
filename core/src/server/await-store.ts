import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffDelay, sleep, type Backoff } from '../retry/backoff';
import { isStoreUnavailable } from '../store/store-errors';
import { formatListenAddress, type ListenAddress } from './listen-address';

/** The wait after a failed attempt: 0.5 s, doubled after each, up to 10 s. */
export const STORE_RETRY_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000 };

export interface AwaitStoreOptions {
  /** Where the stand-in admin listener answers while the store is away. */
  readonly adminListen: ListenAddress;
  /** Give up at the first failure instead (`--exit-on-store-failure`). */
  readonly exitOnFailure: boolean;
  /** One line per event (an attempt failed, the next one when, the stand-in's address). */
  readonly say: (line: string) => void;
}

/**
 * Runs `open` (the store and the vault) until it succeeds: a failure because the store is away
 * (see isStoreUnavailable) is tried again after 0.5 s, 1 s, 2 s... up to 10 s between attempts,
 * each said in one line; any other failure (a wrong password, a wrong master key) is thrown at
 * once, as is the first failure with `exitOnFailure`. Meanwhile a stand-in admin listener on
 * `adminListen` answers `/healthz` 200 and everything else (`/readyz` first) 503, and no BI
 * listener accepts connections. Resolves with what `open` gave and the address the stand-in
 * had (the real admin listener takes it over: a port the OS chose stays the same).
 */
export async function awaitStore<T>(open: () => Promise<T>, options: AwaitStoreOptions): Promise<{ readonly value: T; readonly adminListen: ListenAddress }> {
  let standIn: http.Server | null = null;
  let adminListen = options.adminListen;
  let reason = '';
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await open();
        if (standIn !== null) options.say('joinery: the store answers');
        return { value, adminListen };
      } catch (err) {
        if (options.exitOnFailure || !isStoreUnavailable(err)) throw err;
        reason = err instanceof Error ? err.message : String(err);
        if (standIn === null) {
          standIn = await listenStandIn(options.adminListen, () => reason);
          adminListen = { ...options.adminListen, port: (standIn.address() as AddressInfo).port };
          options.say(`joinery: admin on http://${formatListenAddress(adminListen)}/ (not ready: waiting for the store)`);
        }
        const delay = backoffDelay(attempt, STORE_RETRY_BACKOFF);
        options.say(`joinery: the store is unreachable (attempt ${attempt}: ${reason}); trying again in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      }
    }
  } finally {
    if (standIn !== null) await closeStandIn(standIn);
  }
}

/** Closes the stand-in and every connection to it (a load balancer's keep-alive probe too). */
function closeStandIn(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function listenStandIn(at: ListenAddress, reason: () => string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const healthy = req.url === '/healthz';
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json', ...(healthy ? {} : { 'retry-after': '1' }) });
    res.end(JSON.stringify(healthy ? { status: 'ok' } : { status: 'not ready', message: `waiting for the store: ${reason()}` }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve(server));
  });
}

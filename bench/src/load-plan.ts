import type { BenchMACVersion } from './bench-devices';
import type { LatencySummary } from './latency';

/** PEM of the client's credentials (a network server's bundle) and of the CA. */
export interface ClientTLS {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** What is sent: one fixed body (the HTTP floor), or JoinReqs of the registry's devices. */
export type Traffic =
  | { readonly kind: 'fixed'; readonly body: string }
  | {
      readonly kind: 'joins';
      readonly seed: string;
      readonly registrySize: number;
      /** Devices of one MAC version, or `null`: all of them. */
      readonly macVersion: BenchMACVersion | null;
      /** DevNonce of each device's first join in this run (higher than any it used before). */
      readonly nonceBase: number;
      /** Every `replayEvery`th successful join is sent a second time: a deliberate replay, which must be refused. */
      readonly replayEvery?: number;
    };

/**
 * How requests are paced:
 * - `duration`: `concurrency` requests always in flight (closed loop), measured for `seconds`
 *   after `warmupSeconds` unmeasured;
 * - `each-once`: every device once (JoinReqs only), `concurrency` in flight;
 * - `rate`: open loop at `perSecond`, latency counted from each request's scheduled time (no
 *   coordinated omission), at most `concurrency` in flight; measured for `seconds` after
 *   `warmupSeconds` at the same rate unmeasured.
 */
export type Schedule =
  | { readonly kind: 'duration'; readonly seconds: number; readonly warmupSeconds: number }
  | { readonly kind: 'each-once' }
  | { readonly kind: 'rate'; readonly perSecond: number; readonly seconds: number; readonly warmupSeconds: number };

export interface LoadPlan {
  /** The server's URL; with several (instances sharing one store), worker w uses urls[w % n]. */
  readonly urls: readonly string[];
  readonly tls: ClientTLS;
  readonly concurrency: number;
  readonly traffic: Traffic;
  readonly schedule: Schedule;
  /**
   * The rate a closed loop's trace is sized for (requests per second; see JoinTrace): the HTTP
   * floor's next to it, which joins do not exceed. Without it, 3,000/s.
   */
  readonly expectedPerSecond?: number;
  /**
   * A TLS session from an earlier run (base64, LoadReport.tls.session), offered on every new
   * connection: a network server that kept its session over the Join Server's restart.
   */
  readonly resumeSession?: string;
}

export interface LoadReport {
  readonly requests: number;
  /** HTTP 200 and, for joins, ResultCode Success. */
  readonly ok: number;
  readonly seconds: number;
  /** `ok` per second. */
  readonly perSecond: number;
  readonly latencyMs: LatencySummary;
  /**
   * Open loop: how late the generator sent each measured request after its scheduled time (its
   * own event loop, or `concurrency` reached). Counted in `latencyMs` too; when it is large,
   * the latency is the generator's as much as the server's. Null for closed loops.
   */
  readonly sendLagMs: LatencySummary | null;
  /** Outcomes other than success, by HTTP status or ResultCode, replays apart. */
  readonly failures: Readonly<Record<string, number>>;
  readonly replays: { readonly sent: number; readonly refused: number; readonly accepted: number; readonly other: number };
  /** Every request that ended during the run, answered or not: warm-up, measured ones and replays (what the server's CPU is divided by). */
  readonly completed: number;
  /** Requests that ended in each whole second from the start of the run (warm-up included): how a fresh server gets up to speed. */
  readonly completedPerSecond: readonly number[];
  /** Highest join count of one device in this run (the next run's DevNonces start above it). */
  readonly visitsPerDevice: number;
  /** Requests built before the run (the trace), and built during it because the trace ran out (0 when it was long enough). */
  readonly trace: { readonly size: number; readonly builtDuringRun: number };
  /** TLS connections opened, how many of them resumed a session, and the last session the server gave (base64). */
  readonly tls: { readonly connections: number; readonly resumed: number; readonly session: string | null };
}

import { performance } from 'node:perf_hooks';
import { AdapterError, type AdapterOperation } from '../adapters/adapter-error';
import type { NetworkServerAdapter } from '../adapters/network-server-adapter';
import { rateLimiter, type RateLimiter } from '../adapters/rate-limit';
import type { EUI64 } from '../lorawan/identifiers';
import type { MigrationMetrics } from '../metrics/migration-metrics';
import { backoffDelay, sleep } from '../retry/backoff';
import type { AuditEvent } from '../store/audit-event';
import type { Store } from '../store/store';
import { DEVICE_MIGRATION_STATES, type DeviceMigrationState, type MigrationStep } from '../store/fleet-migration-journal';
import type { FleetMigration, MigrationStatus } from '../store/fleet-migration-journal';
import type { DeviceBinding, MigrationEntry, MigrationEntryChange } from '../store/fleet-migration-journal';
import { MigrationError } from './migration-error';
import { limitFor, type VendorLimit } from './vendor-limits';

export interface MigrationRunnerOptions {
  readonly store: Store;
  readonly adapters: { readonly source: NetworkServerAdapter; readonly target: NetworkServerAdapter };
  /** Who runs it, as the audit trail records it. */
  readonly actor: string;
  readonly metrics?: MigrationMetrics;
  /** How often the journal is read for joins through the target and status changes. Default 1000 ms. */
  readonly pollMs?: number;
  /** First retry delay of a failed step, doubled per attempt (plus up to 25 % jitter) up to maxBackoffMs. Default 500 ms, 30 s. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Stops the run (the journal stays as it is; `resume` continues it). */
  readonly signal?: AbortSignal;
  /** A line for each device that is parked, and for each change of the migration's status. */
  readonly onEvent?: (line: string) => void;
  /**
   * A device the target already had and joins itself (its own keys or Join Server record, see
   * the adapter's localJoin): remove that through the target's API (audited) and go on. Off: the
   * device is parked with the reason, for the operator to decide.
   */
  readonly removeLocalJoins?: boolean;
}

/** States the runner acts on in each mode (overlap `rebound` waits for a join instead). */
const FORWARD: ReadonlySet<DeviceMigrationState> = new Set(['planned', 'registered', 'rebound', 'joined', 'removed']);
const ROLLBACK: ReadonlySet<DeviceMigrationState> = new Set(['planned', 'registered', 'rebound', 'expired', 'returning', 'joined', 'removed']);
const FORWARD_SETTLED: ReadonlySet<DeviceMigrationState> = new Set(['done', 'expired', 'parked', 'rolled-back']);
const ROLLBACK_SETTLED: ReadonlySet<DeviceMigrationState> = new Set(['done', 'parked', 'rolled-back']);
/** Before a join through the target, the deadline expires a device. */
const EXPIRABLE: readonly DeviceMigrationState[] = ['planned', 'registered', 'rebound'];
const PAGE = 1000;

/**
 * Runs a migration from its journal until every device is settled (or `signal` stops it), and
 * returns it as it then is. Any number of runs may follow one another (a crash, `kill -9`, a
 * stop): every step is an idempotent call followed by a conditional journal write, so a step
 * cut short is simply done again, and a step already written is never redone.
 */
export async function runMigration(id: string, options: MigrationRunnerOptions): Promise<FleetMigration> {
  const migration = await options.store.getFleetMigration(id);
  if (!migration) throw new MigrationError('migration-not-found', `no migration ${id}`);
  return new MigrationRun(migration, options).run();
}

class MigrationRun {
  #m: FleetMigration;
  readonly #o: MigrationRunnerOptions;
  readonly #store: Store;
  readonly #entries = new Map<EUI64, MigrationEntry>();
  readonly #counts = new Map<DeviceMigrationState, number>();
  readonly #ready: EUI64[] = [];
  readonly #delayed = new Map<EUI64, number>();
  readonly #inFlight = new Set<EUI64>();
  /** Each vendor's API paced to the migration's limit for it (one limiter per vendor). */
  readonly #sourceLimiter: RateLimiter;
  readonly #targetLimiter: RateLimiter;
  readonly #maxInFlight: number;
  readonly #rateLimitStreak = new Map<RateLimiter, number>();
  #stale = false;
  #wake: (() => void) | null = null;
  #lastPoll = -Infinity;

  constructor(m: FleetMigration, o: MigrationRunnerOptions) {
    this.#m = m;
    this.#o = o;
    this.#store = o.store;
    const sourceVendor = o.adapters.source.vendor;
    const targetVendor = o.adapters.target.vendor;
    const targetLimit = limitFor(m.limits, targetVendor);
    this.#targetLimiter = vendorLimiter(targetLimit);
    // One vendor, one budget: a migration between two servers of one vendor shares its limit.
    const sourceLimit = sourceVendor === targetVendor ? null : limitFor(m.limits, sourceVendor);
    this.#sourceLimiter = sourceLimit === null ? this.#targetLimiter : vendorLimiter(sourceLimit);
    this.#maxInFlight = 2 * (targetLimit.concurrency + (sourceLimit?.concurrency ?? 0));
  }

  get #rollingBack(): boolean {
    return this.#m.status === 'rolling-back';
  }

  async run(): Promise<FleetMigration> {
    const pollMs = this.#o.pollMs ?? 1000;
    await this.#reload();
    try {
      for (;;) {
        if (this.#o.signal?.aborted) return this.#m;
        const now = performance.now();
        if (now - this.#lastPoll >= pollMs || this.#stale) {
          this.#lastPoll = now;
          const fresh = await this.#store.getFleetMigration(this.#m.id);
          if (!fresh) throw new MigrationError('migration-not-found', `migration ${this.#m.id} is gone`);
          const modeChanged = fresh.status !== this.#m.status;
          this.#m = fresh;
          if (fresh.status === 'finished' || fresh.status === 'rolled-back') return fresh;
          if (this.#stale || modeChanged) await this.#reload();
          if (!this.#rollingBack && this.#m.deadline && Date.now() >= this.#m.deadline.getTime()) {
            await this.#expire();
            if (this.#m.rollbackAtDeadline) {
              await this.#setStatus('rolling-back', { reason: 'deadline' });
              await this.#reload();
            }
          }
          if (!this.#rollingBack && this.#m.strategy === 'overlap') await this.#pollArrivals();
          this.#publishCounts();
        }
        this.#dispatch(this.#maxInFlight);
        if (this.#inFlight.size === 0 && this.#delayed.size === 0 && this.#ready.length === 0 && this.#settled()) {
          this.#publishCounts();
          return await this.#setStatus(this.#rollingBack ? 'rolled-back' : 'finished', { counts: JSON.stringify(Object.fromEntries(this.#counts)) });
        }
        await this.#sleep(Math.min(pollMs, this.#nextDelay()));
      }
    } finally {
      await this.#drain();
      await Promise.all([...new Set([this.#sourceLimiter, this.#targetLimiter])].map((l) => l.stop()));
    }
  }

  #settled(): boolean {
    const settled = this.#rollingBack ? ROLLBACK_SETTLED : FORWARD_SETTLED;
    for (const [state, n] of this.#counts) if (n > 0 && !settled.has(state)) return false;
    return true;
  }

  /** Reads the whole journal again (after a write lost to another writer, or a mode change). */
  async #reload(): Promise<void> {
    this.#stale = false;
    this.#entries.clear();
    this.#counts.clear();
    this.#ready.length = 0;
    this.#delayed.clear();
    let after: EUI64 | undefined;
    for (;;) {
      const page = await this.#store.listMigrationEntries(this.#m.id, { limit: PAGE, ...(after ? { afterDevEUI: after } : {}) });
      for (const e of page) this.#set(e);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.devEUI;
    }
  }

  #set(e: MigrationEntry): void {
    const old = this.#entries.get(e.devEUI);
    if (old) this.#counts.set(old.state, (this.#counts.get(old.state) ?? 1) - 1);
    this.#counts.set(e.state, (this.#counts.get(e.state) ?? 0) + 1);
    this.#entries.set(e.devEUI, e);
    if (this.#actionable(e) && !this.#inFlight.has(e.devEUI)) this.#ready.push(e.devEUI);
  }

  #actionable(e: MigrationEntry): boolean {
    if (this.#rollingBack) return ROLLBACK.has(e.state);
    if (e.state === 'rebound' && this.#m.strategy === 'overlap') return false; // waits for its join
    return FORWARD.has(e.state);
  }

  #dispatch(maxInFlight: number): void {
    const now = Date.now();
    for (const [devEUI, at] of this.#delayed) {
      if (at <= now) {
        this.#delayed.delete(devEUI);
        this.#ready.push(devEUI);
      }
    }
    while (this.#inFlight.size < maxInFlight && this.#ready.length > 0) {
      const devEUI = this.#ready.shift()!;
      const e = this.#entries.get(devEUI);
      if (!e || !this.#actionable(e) || this.#inFlight.has(devEUI)) continue;
      this.#inFlight.add(devEUI);
      void this.#step(e).finally(() => {
        this.#inFlight.delete(devEUI);
        const now = this.#entries.get(devEUI);
        // Depth first: a device that moved on takes its next step before new devices start, so
        // both vendors' APIs are kept busy at once (registrations and deregistrations overlap).
        if (now && this.#actionable(now) && !this.#delayed.has(devEUI)) this.#ready.unshift(devEUI);
        this.#wake?.();
      });
    }
  }

  #nextDelay(): number {
    let next = Infinity;
    const now = Date.now();
    for (const at of this.#delayed.values()) next = Math.min(next, at - now);
    return Math.max(5, next);
  }

  /** Waits `ms`, or less: until a step settles (#wake) or the run is stopped. */
  async #sleep(ms: number): Promise<void> {
    const wake = new AbortController();
    const stop = (): void => wake.abort();
    this.#o.signal?.addEventListener('abort', stop, { once: true });
    this.#wake = stop;
    try {
      await sleep(ms, wake.signal);
    } finally {
      this.#o.signal?.removeEventListener('abort', stop);
      this.#wake = null;
    }
  }

  async #drain(): Promise<void> {
    while (this.#inFlight.size > 0) await this.#sleep(20);
  }

  /** One step of one device: at most one adapter call and one journal write. */
  async #step(e: MigrationEntry): Promise<void> {
    const { source, target } = this.#o.adapters;
    const m = this.#m;
    const bindSourceOnly: DeviceBinding = { nsPeer: m.sourcePeer, overlapNsPeer: null };
    const bindOverlap: DeviceBinding = { nsPeer: m.sourcePeer, overlapNsPeer: m.targetPeer };
    const bindTargetOnly: DeviceBinding = { nsPeer: m.targetPeer, overlapNsPeer: null };
    try {
      if (this.#rollingBack && (e.state === 'planned' || e.state === 'registered' || e.state === 'rebound' || e.state === 'expired')) {
        // Back to the source: registered there again (a cutover may have removed it), then bound
        // to it alone, then removed from the target.
        if (e.state !== 'planned') {
          const identity = await this.#identity(e);
          if (!identity) return;
          await this.#call(this.#sourceLimiter, source, 'registerDevice', () => source.registerDevice(identity));
        }
        await this.#rebind(e, { state: 'returning', attempts: 0 }, [bindOverlap, bindTargetOnly, bindSourceOnly], bindSourceOnly, 'rollback');
        return;
      }
      switch (e.state) {
        case 'planned': {
          const identity = await this.#identity(e);
          if (!identity) return;
          const { created } = await this.#call(this.#targetLimiter, target, 'registerDevice', () => target.registerDevice(identity));
          // A device the target already had may be joined by it alone (its own keys, its own Join
          // Server): rebinding it would move it nowhere. It waits for the operator instead.
          const joinsItself = created || !target.localJoin ? null : await this.#call(this.#targetLimiter, target, 'localJoin', () => target.localJoin!(e.devEUI));
          if (joinsItself !== null) {
            if (!this.#o.removeLocalJoins) {
              await this.#park(e, 'planned', `${joinsItself}; to remove that and go on: joinery migrate resume ${m.id} --remove-network-server-keys`);
              return;
            }
            const { removed } = await this.#call(this.#targetLimiter, target, 'removeLocalJoin', () => target.removeLocalJoin!(e.devEUI));
            await this.#store.appendAudit({
              at: new Date(),
              actor: this.#o.actor,
              tenantID: null,
              source: null,
              action: 'ns.local-join.removed',
              devEUI: e.devEUI,
              detail: { peer: m.targetPeer, vendor: target.vendor, removed, migrationID: m.id },
            });
          }
          await this.#advance(e, { state: 'registered', attempts: 0, lastError: null });
          return;
        }
        case 'registered':
          await this.#rebind(e, { state: 'rebound', attempts: 0, lastError: null, reboundAt: new Date() }, [bindSourceOnly], m.strategy === 'overlap' ? bindOverlap : bindTargetOnly, m.strategy);
          return;
        case 'rebound': // cutover: the operator chose to leave the source at once
        case 'joined': // overlap: the target is confirmed by a join through it
          await this.#call(this.#sourceLimiter, source, 'deregisterDevice', () => source.deregisterDevice(e.devEUI));
          await this.#advance(e, { state: 'removed', attempts: 0, lastError: null });
          return;
        case 'removed':
          await this.#advance(e, { state: 'done' });
          return;
        case 'returning':
          await this.#call(this.#targetLimiter, target, 'deregisterDevice', () => target.deregisterDevice(e.devEUI));
          await this.#advance(e, { state: 'rolled-back', attempts: 0 });
          return;
        default:
          return;
      }
    } catch (err) {
      await this.#failed(e, err);
    }
  }

  async #identity(e: MigrationEntry): Promise<{ devEUI: EUI64; joinEUI: EUI64; macVersion: import('../lorawan/mac-version').MACVersion } | null> {
    const d = await this.#store.getDevice(e.devEUI);
    if (!d) {
      await this.#park(e, e.state as MigrationStep, 'the device no longer exists in Joinery');
      return null;
    }
    // Identifiers and version only: root keys never go to a network server.
    return { devEUI: d.devEUI, joinEUI: d.joinEUI, macVersion: d.macVersion };
  }

  async #call<T>(limiter: RateLimiter, adapter: NetworkServerAdapter, operation: AdapterOperation, call: () => Promise<T>): Promise<T> {
    try {
      const result = await limiter.schedule(call);
      this.#rateLimitStreak.set(limiter, 0);
      this.#o.metrics?.adapterCalls.inc({ vendor: adapter.vendor, operation, result: 'ok' });
      return result;
    } catch (err) {
      const limited = isRateLimited(err);
      if (limited) {
        const streak = (this.#rateLimitStreak.get(limiter) ?? 0) + 1;
        this.#rateLimitStreak.set(limiter, streak);
        limiter.pause((err as AdapterError).retryAfterMs ?? this.#backoff(streak));
      }
      const result = limited ? 'rate-limited' : err instanceof AdapterError && err.retryable ? 'retry' : 'failed';
      this.#o.metrics?.adapterCalls.inc({ vendor: adapter.vendor, operation, result });
      throw err;
    }
  }

  #backoff(attempt: number): number {
    return backoffDelay(attempt, { initialMs: this.#o.baseBackoffMs ?? 500, maxMs: this.#o.maxBackoffMs ?? 30_000, jitter: 0.25 });
  }

  async #failed(e: MigrationEntry, err: unknown): Promise<void> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    if (isRateLimited(err)) return; // the limiter was paused: the step runs again, not counted as a failure
    const step = e.state as MigrationStep;
    if (err instanceof AdapterError && err.retryable) {
      const attempts = e.attempts + 1;
      if (attempts < this.#m.maxAttempts) {
        if (await this.#advance(e, { state: e.state, attempts, lastError: message })) this.#delayed.set(e.devEUI, Date.now() + this.#backoff(attempts));
        return;
      }
    }
    await this.#park(e, step, message);
  }

  async #park(e: MigrationEntry, step: MigrationStep, reason: string): Promise<void> {
    if (await this.#advance(e, { state: 'parked', failedStep: step, lastError: reason, attempts: e.attempts + 1 })) {
      this.#o.onEvent?.(`parked ${e.devEUI} at ${step}: ${reason}`);
    }
  }

  async #advance(e: MigrationEntry, change: MigrationEntryChange): Promise<boolean> {
    const ok = await this.#store.advanceMigrationEntry(this.#m.id, e.devEUI, e.state, change);
    if (ok) this.#set(applyChange(e, change));
    else this.#stale = true;
    return ok;
  }

  async #rebind(e: MigrationEntry, change: MigrationEntryChange, from: readonly DeviceBinding[], to: DeviceBinding, why: string): Promise<void> {
    const audit: AuditEvent = {
      at: new Date(),
      actor: this.#o.actor,
      tenantID: null,
      source: null,
      action: 'device.rebound',
      devEUI: e.devEUI,
      detail: { migration: this.#m.id, reason: why, step: `${e.state}->${change.state}`, nsPeer: to.nsPeer, overlapNsPeer: to.overlapNsPeer },
    };
    const outcome = await this.#store.rebindMigratingDevice({ migrationID: this.#m.id, devEUI: e.devEUI, from: e.state, change, bindingFrom: from, bindingTo: to, audit });
    if (outcome === 'rebound') this.#set(applyChange(e, change));
    else if (outcome === 'already') this.#stale = true;
    else await this.#park(e, e.state as MigrationStep, `the device's binding was changed outside this migration (expected ${from.map(describeBinding).join(' or ')})`);
  }

  /** Devices whose join through the target Joinery accepted: bound to the target alone from now. */
  async #pollArrivals(): Promise<void> {
    const m = this.#m;
    for (;;) {
      const arrivals = await this.#store.listMigrationArrivals(m.id, m.targetPeer, PAGE);
      let moved = 0;
      for (const a of arrivals) {
        const e = this.#entries.get(a.devEUI);
        if (!e || e.state !== 'rebound') {
          this.#stale = true;
          continue;
        }
        await this.#rebind(e, { state: 'joined', joinedAt: a.joinedAt }, [{ nsPeer: m.sourcePeer, overlapNsPeer: m.targetPeer }], { nsPeer: m.targetPeer, overlapNsPeer: null }, 'joined through the target');
        moved++;
      }
      if (arrivals.length < PAGE || moved === 0) return;
    }
  }

  async #expire(): Promise<void> {
    for (const e of [...this.#entries.values()]) {
      if (!EXPIRABLE.includes(e.state)) continue;
      await this.#advance(e, { state: 'expired', failedStep: e.state as MigrationStep, lastError: 'the deadline passed before the device joined through the target' });
    }
  }

  async #setStatus(status: MigrationStatus, detail: Record<string, string>): Promise<FleetMigration> {
    await this.#store.setFleetMigrationStatus(this.#m.id, status, {
      at: new Date(),
      actor: this.#o.actor,
      tenantID: null,
      source: null,
      action: `migration.${status}`,
      devEUI: null,
      detail: { migration: this.#m.id, ...detail },
    });
    this.#o.onEvent?.(`migration ${this.#m.id}: ${status}`);
    this.#m = (await this.#store.getFleetMigration(this.#m.id)) ?? { ...this.#m, status };
    return this.#m;
  }

  #publishCounts(): void {
    const g = this.#o.metrics?.devices;
    if (!g) return;
    for (const state of DEVICE_MIGRATION_STATES) g.set({ migration: this.#m.id, state }, this.#counts.get(state) ?? 0);
  }
}

function vendorLimiter(limit: VendorLimit): RateLimiter {
  return rateLimiter({ requestsPerSecond: limit.ratePerSecond, maxConcurrent: limit.concurrency });
}

function applyChange(e: MigrationEntry, c: MigrationEntryChange): MigrationEntry {
  return {
    ...e,
    state: c.state,
    attempts: c.attempts ?? e.attempts,
    failedStep: c.failedStep === undefined ? e.failedStep : c.failedStep,
    lastError: c.lastError === undefined ? e.lastError : c.lastError,
    reboundAt: c.reboundAt ?? e.reboundAt,
    joinedAt: c.joinedAt ?? e.joinedAt,
    updatedAt: new Date(),
  };
}

function describeBinding(b: DeviceBinding): string {
  return b.overlapNsPeer ? `${b.nsPeer} + ${b.overlapNsPeer}` : b.nsPeer;
}

/** The vendor said "slow down" (HTTP 429, gRPC RESOURCE_EXHAUSTED): not the device's failure. */
function isRateLimited(err: unknown): err is AdapterError {
  return err instanceof AdapterError && err.retryable && (err.status === 429 || err.status === 'RESOURCE_EXHAUSTED');
}

import type { EUI64 } from '../lorawan/identifiers';
import type { RateBucket } from '../store/rate-buckets';
import type { RateBucketLedger } from '../store/ports/rate-bucket-ledger';
import type { TenantID } from '../tenants/tenant';

/**
 * Who guesses, as far as the buckets know: a tenant (its API keys), or a registered peer
 * speaking for many users behind one client certificate (The Things Stack's claiming server:
 * every TTS user shares it, so its guesses are counted per device, never over all its devices,
 * lest one user's wrong tokens refuse every other user's claims).
 */
export type ClaimGuesser = { readonly tenantID: TenantID } | { readonly peer: string };

/**
 * Token buckets that bound owner-token guesses, kept in the store so every instance sharing the
 * database takes from the same ones:
 *
 * - per tenant and DevEUI (burst 5, then one per minute): how fast one tenant may try tokens on
 *   one device;
 * - per tenant (burst 20, then one per 10 s): how fast one tenant may try one token on many
 *   devices;
 * - per DevEUI over all tenants (burst 50, then one per 10 s): what bounds the guesses on one
 *   device whoever makes them. Its burst is ten times the per-tenant-and-device one, so one
 *   tenant's wrong guesses leave the rightful owner most of it, and it refills fast enough
 *   that the owner waits seconds, not hours, when many tenants together empty it.
 *
 * A peer that speaks for many users (ClaimGuesser) takes from two: per peer and DevEUI (the
 * per-tenant-and-device limits) and per DevEUI over all; not from one over all its devices.
 *
 * Every claim takes one token from each of its buckets before the device is even read
 * (all or none: a bucket that is empty refuses the claim without taking from the others), and
 * gives them back when the token was right. So however many claims race, in however many
 * instances, at most the buckets' tokens' worth of tokens are ever compared.
 */
export interface ClaimRateLimits {
  /** Guesses a tenant may make on one device in a burst (default 5), and then one per `deviceRefillMs` (default 60 s). */
  readonly deviceBurst?: number;
  readonly deviceRefillMs?: number;
  /** Guesses a tenant may make over all devices in a burst (default 20), then one per `tenantRefillMs` (default 10 s). */
  readonly tenantBurst?: number;
  readonly tenantRefillMs?: number;
  /** Guesses all tenants together may make on one device in a burst (default 50), then one per `deviceCapRefillMs` (default 10 s). */
  readonly deviceCapBurst?: number;
  readonly deviceCapRefillMs?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

export const DEFAULT_CLAIM_RATE_LIMITS = {
  deviceBurst: 5,
  deviceRefillMs: 60_000,
  tenantBurst: 20,
  tenantRefillMs: 10_000,
  deviceCapBurst: 50,
  deviceCapRefillMs: 10_000,
} as const;

/** A claim's hold on its buckets: given back with `refund` when its token was right. */
export interface ClaimTicket {
  readonly buckets: readonly RateBucket[];
}

export class ClaimRateLimiter {
  readonly #limits: Required<Omit<ClaimRateLimits, 'now'>>;
  readonly #now: () => number;

  constructor(
    private readonly store: RateBucketLedger,
    limits: ClaimRateLimits = {},
  ) {
    const { now, ...rest } = limits;
    this.#limits = { ...DEFAULT_CLAIM_RATE_LIMITS, ...rest };
    this.#now = now ?? Date.now;
  }

  /**
   * Takes a token from each bucket of a claim of `devEUI` by `guesser`: a ticket, or the
   * seconds to wait (then nothing was taken).
   */
  async take(devEUI: EUI64, guesser: ClaimGuesser): Promise<ClaimTicket | { readonly retryAfterSeconds: number }> {
    const l = this.#limits;
    const cap: RateBucket = { key: `claim:device:${devEUI}`, burst: l.deviceCapBurst, refillMs: l.deviceCapRefillMs };
    const buckets: RateBucket[] =
      'peer' in guesser
        ? [{ key: `claim:peer-device:${guesser.peer}:${devEUI}`, burst: l.deviceBurst, refillMs: l.deviceRefillMs }, cap]
        : [
            { key: `claim:tenant-device:${guesser.tenantID}:${devEUI}`, burst: l.deviceBurst, refillMs: l.deviceRefillMs },
            { key: `claim:tenant:${guesser.tenantID}`, burst: l.tenantBurst, refillMs: l.tenantRefillMs },
            cap,
          ];
    const took = await this.store.takeRateBuckets(buckets, this.#now());
    return took.taken ? { buckets } : { retryAfterSeconds: Math.max(1, Math.ceil(took.waitMs / 1000)) };
  }

  /** The claim's token was right: its tokens go back, so rightful claims never use up a limit. */
  async refund(ticket: ClaimTicket): Promise<void> {
    await this.store.refundRateBuckets(ticket.buckets, this.#now());
  }
}

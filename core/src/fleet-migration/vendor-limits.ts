import { ParseError } from '../lorawan/parse-error';

/** How hard a migration may drive one vendor's API: adapter calls per second, and in flight. */
export interface VendorLimit {
  readonly ratePerSecond: number;
  readonly concurrency: number;
}

/** Per vendor id (`chirpstack`, `the-things-stack`, ...); vendors not listed get DEFAULT_VENDOR_LIMIT. */
export type VendorLimits = Readonly<Record<string, VendorLimit>>;

/** Conservative: well under what hosted network servers allow an API key. */
export const DEFAULT_VENDOR_LIMIT: VendorLimit = { ratePerSecond: 10, concurrency: 4 };

export function limitFor(limits: VendorLimits, vendor: string): VendorLimit {
  return limits[vendor] ?? DEFAULT_VENDOR_LIMIT;
}

export function parseVendorLimit(value: { ratePerSecond?: unknown; concurrency?: unknown }, field: string): VendorLimit {
  const rate = value.ratePerSecond ?? DEFAULT_VENDOR_LIMIT.ratePerSecond;
  const concurrency = value.concurrency ?? DEFAULT_VENDOR_LIMIT.concurrency;
  if (typeof rate !== 'number' || !(rate > 0) || rate > 100_000) throw new ParseError(`${field}.ratePerSecond`, 'must be a number > 0 (calls per second)');
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new ParseError(`${field}.concurrency`, 'must be an integer 1..1000');
  return { ratePerSecond: rate, concurrency };
}

/**
 * `--rate-limit vendor=RATE[/CONCURRENCY]` flags (e.g. `the-things-stack=20/8`), or the admin
 * API's `{vendor: {ratePerSecond, concurrency}}`.
 */
export function parseVendorLimitFlags(flags: readonly string[], field = '--rate-limit'): VendorLimits {
  const out: Record<string, VendorLimit> = {};
  for (const f of flags) {
    const m = /^([a-z0-9][a-z0-9-]*)=([0-9.]+)(?:\/([0-9]+))?$/.exec(f.trim());
    if (!m) throw new ParseError(field, `expected VENDOR=RATE[/CONCURRENCY], e.g. the-things-stack=20/8 (got "${f}")`);
    out[m[1]!] = parseVendorLimit({ ratePerSecond: Number(m[2]), ...(m[3] !== undefined ? { concurrency: Number(m[3]) } : {}) }, `${field} ${m[1]}`);
  }
  return out;
}

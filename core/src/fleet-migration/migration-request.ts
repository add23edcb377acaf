import { ParseError } from '../lorawan/parse-error';
import { parseDeviceSelection, type DeviceSelectionJSON } from './device-selection';
import { parseMigrationStrategy } from '../store/fleet-migration-journal';
import { DEFAULT_MAX_ATTEMPTS, type MigrationRequest } from './plan-migration';
import { parseVendorLimit, type VendorLimit } from './vendor-limits';

/** A migration request as the admin API takes it (and the CLI builds from its flags). */
export interface MigrationRequestJSON {
  readonly sourcePeer: string;
  readonly targetPeer: string;
  readonly strategy?: string;
  readonly selection?: DeviceSelectionJSON;
  readonly limits?: Readonly<Record<string, { readonly ratePerSecond?: number; readonly concurrency?: number }>>;
  /** An ISO 8601 time, or a duration from now: `90s`, `30m`, `12h`, `7d`. */
  readonly deadline?: string | null;
  readonly rollbackAtDeadline?: boolean;
  readonly maxAttempts?: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDeadline(value: string, now = new Date(), field = 'deadline'): Date {
  const d = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (d) return new Date(now.getTime() + Number(d[1]) * UNIT_MS[d[2]!]!);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new ParseError(field, `expected an ISO 8601 time or a duration (90s, 30m, 12h, 7d), got "${value}"`);
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new ParseError(field, `not a time: "${value}"`);
  return t;
}

export function parseMigrationRequest(json: MigrationRequestJSON, now = new Date()): MigrationRequest {
  const name = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(v)) throw new ParseError(field, 'must be a peer name');
    return v;
  };
  let strategy;
  try {
    strategy = parseMigrationStrategy(json.strategy ?? 'overlap');
  } catch (err) {
    throw new ParseError('strategy', 'must be overlap or cutover');
  }
  const limits: Record<string, VendorLimit> = {};
  for (const [vendor, l] of Object.entries(json.limits ?? {})) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(vendor)) throw new ParseError(`limits.${vendor}`, 'not a vendor id');
    limits[vendor] = parseVendorLimit(l, `limits.${vendor}`);
  }
  const maxAttempts = json.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new ParseError('maxAttempts', 'must be an integer 1..100');
  const deadline = json.deadline ? parseDeadline(json.deadline, now) : null;
  if (deadline && deadline <= now) throw new ParseError('deadline', 'is already past');
  if (json.rollbackAtDeadline && !deadline) throw new ParseError('rollbackAtDeadline', 'needs a deadline');
  return {
    sourcePeer: name(json.sourcePeer, 'sourcePeer'),
    targetPeer: name(json.targetPeer, 'targetPeer'),
    strategy,
    selection: parseDeviceSelection(json.selection ?? { kind: 'all' }),
    limits,
    deadline,
    rollbackAtDeadline: json.rollbackAtDeadline === true,
    maxAttempts,
  };
}

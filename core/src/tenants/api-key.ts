import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseNameList, type TenantID } from './tenant';

/**
 * What an API key may do. `devices:read` lists and reads the tenant's devices, sessions, audit
 * and usage; `devices:write` imports and deletes devices and resets DevNonces; `claims` claims,
 * binds, unclaims, transfers and regenerates owner tokens; `peers` registers network and
 * application servers; `admin` manages the tenant's API keys, and, for the operator's tenant
 * (role `admin`), every tenant.
 */
export const SCOPES = ['devices:read', 'devices:write', 'claims', 'peers', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function parseScopes(value: unknown, field = 'scopes'): Scope[] {
  return parseNameList(value, SCOPES, field, 'scope');
}

/** An API key as stored: its secret only as a SHA-256 (the secret is 256 random bits). */
export interface ApiKeyRecord {
  /** Public identifier, 16 lower-case hex digits (the key's first part). */
  readonly id: string;
  readonly tenantID: TenantID;
  readonly scopes: readonly Scope[];
  readonly label: string;
  /** SHA-256 of the secret part, lower-case hex. */
  readonly secretHash: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** `jny_<id>_<secret>`: shown once, at creation. */
export interface IssuedApiKey {
  readonly record: ApiKeyRecord;
  readonly key: string;
}

const KEY_FORMAT = /^jny_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function issueApiKey(tenantID: TenantID, scopes: readonly Scope[], label: string, now = new Date()): IssuedApiKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    key: `jny_${id}_${secret}`,
    record: { id, tenantID, scopes: [...scopes], label, secretHash: hashSecret(secret), createdAt: now, revokedAt: null },
  };
}

/** The id and secret of a presented key; null when it is not shaped like one of ours. */
export function splitApiKey(key: string): { readonly id: string; readonly secret: string } | null {
  const m = KEY_FORMAT.exec(key);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function apiKeySecretMatches(record: ApiKeyRecord, secret: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(secret), 'hex'), Buffer.from(record.secretHash, 'hex'));
}

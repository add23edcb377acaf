import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

/** The `options` keys of an Orbiwise adapter config (`joinery ns add` flags of the same name). */
export const ORBIWISE_OPTION_HELP: Readonly<Record<string, string>> = {
  authScheme:
    'token (--api-key is user:password, exchanged at /rest/oauth2/token for tokens refreshed before expiry), bearer (default: --api-key is a token) or basic (--api-key is user:password; OrbiWAN may disable Basic)',
  deviceProfileId: 'OrbiWAN device profile UUID of created nodes (required: device_profile_uuid)',
  serviceProfileId: 'OrbiWAN service profile UUID of created nodes (required: service_profile_uuid)',
  ...RATE_LIMIT_OPTION_HELP,
};

/** Default: OrbiWAN publishes no rate limit; a conservative bound (inference). */
export const ORBIWISE_DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 10, maxConcurrent: 4 };

/** How the adapter authenticates: a fixed Authorization header, or OrbiWAN's password grant. */
export type OrbiwiseAuth = { readonly kind: 'fixed'; readonly authorization: string } | { readonly kind: 'password-grant'; readonly username: string; readonly password: string };

export interface OrbiwiseOptions {
  /** `https://host/rest` (or the URL's own path). */
  readonly baseURL: string;
  readonly auth: OrbiwiseAuth;
  readonly deviceProfileId: string;
  readonly serviceProfileId: string;
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function parseOrbiwiseConfig(config: AdapterConfig): OrbiwiseOptions {
  let url: URL;
  try {
    url = new URL(config.apiUrl);
  } catch {
    throw new ParseError('--api-url', `not a URL: "${config.apiUrl}" (expected https://your-orbiwan-host)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ParseError('--api-url', 'expected an https:// URL');
  if (url.username || url.password) throw new ParseError('--api-url', 'must not carry credentials (use --api-key, with --auth-scheme token or basic for user:password)');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in ORBIWISE_OPTION_HELP)) throw new ParseError(k, `unknown Orbiwise option (known: ${Object.keys(ORBIWISE_OPTION_HELP).join(', ')})`);
  const scheme = (o['authScheme'] ?? 'bearer').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic' && scheme !== 'token') throw new ParseError('--auth-scheme', 'expected token, bearer or basic');
  const key = config.apiKey.trim();
  const userPassword = scheme !== 'bearer';
  if (key === '') throw new ParseError('--api-key', userPassword ? `the OrbiWAN user:password is required (--auth-scheme ${scheme})` : 'an OrbiWAN API token is required (sent as Bearer)');
  if (/[\r\n]/.test(key)) throw new ParseError('--api-key', 'must be one line');
  const colon = key.indexOf(':');
  if (userPassword && (colon < 1 || colon === key.length - 1)) throw new ParseError('--api-key', `with --auth-scheme ${scheme}, expected user:password`);
  const profile = (k: string, flag: string, field: string): string => {
    const v = o[k];
    if (v === undefined) throw new ParseError(flag, `required: OrbiWAN refuses a node without its ${field}`);
    if (!PROFILE.test(v)) throw new ParseError(flag, `expected an OrbiWAN ${field} (letters, digits, . _ -)`);
    return v;
  };
  const deviceProfileId = profile('deviceProfileId', '--device-profile-id', 'device_profile_uuid');
  const serviceProfileId = profile('serviceProfileId', '--service-profile-id', 'service_profile_uuid');
  const path = url.pathname.replace(/\/+$/, '');
  const auth: OrbiwiseAuth =
    scheme === 'token'
      ? { kind: 'password-grant', username: key.slice(0, colon), password: key.slice(colon + 1) }
      : { kind: 'fixed', authorization: scheme === 'basic' ? `Basic ${Buffer.from(key, 'utf8').toString('base64')}` : `Bearer ${key}` };
  return {
    baseURL: url.origin + (path === '' ? '/rest' : path),
    auth,
    deviceProfileId,
    serviceProfileId,
    rateLimit: parseRateLimitOptions(o, ORBIWISE_DEFAULT_RATE_LIMIT),
    retry: config.retry ?? {},
  };
}

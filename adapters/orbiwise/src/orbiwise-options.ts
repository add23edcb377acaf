import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

/** The `options` keys of an Orbiwise adapter config (`joinery ns add` flags of the same name). */
export const ORBIWISE_OPTION_HELP: Readonly<Record<string, string>> = {
  authScheme: 'bearer (default: --api-key is a token) or basic (--api-key is user:password; OrbiWAN may disable Basic)',
  serviceProfileId: 'OrbiWAN service profile of created nodes (optional: the account\'s default otherwise)',
  ...RATE_LIMIT_OPTION_HELP,
};

/** Default: OrbiWAN publishes no rate limit; a conservative bound (inference). */
export const ORBIWISE_DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 10, maxConcurrent: 4 };

export interface OrbiwiseOptions {
  /** `https://host/rest` (or the URL's own path). */
  readonly baseURL: string;
  /** The whole Authorization header value. */
  readonly authorization: string;
  readonly serviceProfileId: string | null;
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

export function parseOrbiwiseConfig(config: AdapterConfig): OrbiwiseOptions {
  let url: URL;
  try {
    url = new URL(config.apiUrl);
  } catch {
    throw new ParseError('--api-url', `not a URL: "${config.apiUrl}" (expected https://your-orbiwan-host)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ParseError('--api-url', 'expected an https:// URL');
  if (url.username || url.password) throw new ParseError('--api-url', 'must not carry credentials (use --api-key, with --auth-scheme basic for user:password)');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in ORBIWISE_OPTION_HELP)) throw new ParseError(k, `unknown Orbiwise option (known: ${Object.keys(ORBIWISE_OPTION_HELP).join(', ')})`);
  const scheme = (o['authScheme'] ?? 'bearer').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') throw new ParseError('--auth-scheme', 'expected bearer or basic');
  const key = config.apiKey.trim();
  if (key === '') throw new ParseError('--api-key', scheme === 'basic' ? 'the OrbiWAN user:password is required (--auth-scheme basic)' : 'an OrbiWAN API token is required (sent as Bearer)');
  if (scheme === 'basic' && !/^[^:]+:.+$/s.test(key)) throw new ParseError('--api-key', 'with --auth-scheme basic, expected user:password');
  if (/[\r\n]/.test(key)) throw new ParseError('--api-key', 'must be one line');
  const serviceProfileId = o['serviceProfileId'] ?? null;
  if (serviceProfileId !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(serviceProfileId)) throw new ParseError('--service-profile-id', 'expected an OrbiWAN service profile id (letters, digits, . _ -)');
  const path = url.pathname.replace(/\/+$/, '');
  return {
    baseURL: url.origin + (path === '' ? '/rest' : path),
    authorization: scheme === 'basic' ? `Basic ${Buffer.from(key, 'utf8').toString('base64')}` : `Bearer ${key}`,
    serviceProfileId,
    rateLimit: parseRateLimitOptions(o, ORBIWISE_DEFAULT_RATE_LIMIT),
    retry: config.retry ?? {},
  };
}

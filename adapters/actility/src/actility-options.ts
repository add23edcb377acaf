import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

/** The `options` keys of an Actility adapter config (`joinery ns add` flags of the same name). */
export const ACTILITY_OPTION_HELP: Readonly<Record<string, string>> = {
  clientId: 'OAuth2 client id (required; --api-key is its secret): a ThingPark Enterprise 7.x service account (keycloak), or <targetProfileId>/<user> of DX user credentials (dx)',
  authScheme:
    "keycloak (ThingPark Enterprise 7.x: <host>/users-auth/protocol/openid-connect/token) or dx (DX user credentials: .../admin/latest/api/oauth/token); default: dx for Actility's cloud hosts (dx-api*.thingpark.com), keycloak for any other host",
  tokenUrl: 'OAuth2 token endpoint, when not the one --auth-scheme implies',
  deviceProfileId: 'ThingPark device profile id of created devices (required; it fixes their LoRaWAN version and region)',
  connectivityPlanId: 'ThingPark connectivity plan id of created devices (required)',
  routingProfileId: 'ThingPark routing profile id of created devices (optional: where their uplinks go)',
  pageSize: 'devices per page when listing (1 to 100, default 100: ThingPark serves 100 a page)',
  ...RATE_LIMIT_OPTION_HELP,
};

/** ThingPark Enterprise serves the DX Core API under this path of its own host. */
export const TPE_CORE_PATH = '/thingpark/dx/core/latest/api';
/** ThingPark Wireless (Actility's cloud): regional DX API hosts, all with the same Core API path. */
export const WIRELESS_HOST = /^dx-api(-[a-z0-9]+)?\.thingpark\.com$/i;
export const WIRELESS_CORE_PATH = '/core/latest/api';
/** ThingPark Enterprise 7.x's Keycloak token endpoint, on its own host. */
export const KEYCLOAK_TOKEN_PATH = '/users-auth/protocol/openid-connect/token';
/** ThingPark serves DX Core device lists 100 a page (no documented page size). */
export const THINGPARK_PAGE = 100;

/** Which token endpoint the client id and secret are for. */
export type ActilityAuthScheme = 'keycloak' | 'dx';

/** Cloud default: ThingPark publishes no rate limit; a conservative bound (inference). */
export const ACTILITY_DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 10, maxConcurrent: 4 };

export interface ActilityOptions {
  /** The DX Core API base, e.g. https://tpe.example.com/thingpark/dx/core/latest/api. */
  readonly baseURL: string;
  readonly tokenURL: string;
  readonly authScheme: ActilityAuthScheme;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly deviceProfileId: string;
  readonly connectivityPlanId: string;
  readonly routingProfileId: string | null;
  readonly pageSize: number;
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

function httpsURL(value: string, flag: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ParseError(flag, `not a URL: "${value}" (expected ${example})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ParseError(flag, `expected an https:// URL such as ${example}`);
  if (url.username || url.password) throw new ParseError(flag, 'must not carry credentials (use --client-id and --api-key)');
  return url;
}

/**
 * The DX Core API base for an --api-url: a bare host means ThingPark Enterprise on that host
 * (`/thingpark/dx/core/latest/api`), except Actility's regional cloud hosts
 * (`dx-api.thingpark.com`, `dx-api-<region>.thingpark.com`, ThingPark Wireless:
 * `/core/latest/api`); a URL with a path is taken as the base itself.
 */
export function actilityBaseURL(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  if (path !== '') return url.origin + path;
  return url.origin + (WIRELESS_HOST.test(url.hostname) ? WIRELESS_CORE_PATH : TPE_CORE_PATH);
}

/** The token endpoint an auth scheme implies for a Core API base (null: it cannot be derived). */
export function actilityTokenURL(scheme: ActilityAuthScheme, baseURL: string): string | null {
  const url = new URL(baseURL);
  if (scheme === 'keycloak') return url.origin + KEYCLOAK_TOKEN_PATH;
  if (!baseURL.endsWith(WIRELESS_CORE_PATH)) return null;
  return `${baseURL.slice(0, -WIRELESS_CORE_PATH.length)}/admin/latest/api/oauth/token`;
}

export function parseActilityConfig(config: AdapterConfig): ActilityOptions {
  const url = httpsURL(config.apiUrl, '--api-url', 'https://tpe.example.com (ThingPark Enterprise) or https://dx-api.thingpark.com (ThingPark Wireless)');
  if (config.apiKey.trim() === '') throw new ParseError('--api-key', 'the ThingPark API client secret is required (OAuth2 client credentials, with --client-id)');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in ACTILITY_OPTION_HELP)) throw new ParseError(k, `unknown Actility option (known: ${Object.keys(ACTILITY_OPTION_HELP).join(', ')})`);
  const baseURL = actilityBaseURL(url);
  const clientId = o['clientId'];
  if (!clientId || clientId.trim() === '' || /\s/.test(clientId)) throw new ParseError('--client-id', 'the ThingPark OAuth2 client id is required (e.g. sub-199983788/joinery)');
  const scheme = (o['authScheme'] ?? (WIRELESS_HOST.test(url.hostname) ? 'dx' : 'keycloak')).toLowerCase();
  if (scheme !== 'keycloak' && scheme !== 'dx') throw new ParseError('--auth-scheme', 'expected keycloak (ThingPark Enterprise 7.x service account) or dx (DX user credentials)');
  if (scheme === 'dx' && !clientId.includes('/')) throw new ParseError('--client-id', 'with DX user credentials, expected <targetProfileId>/<user> (e.g. sub-199983788/joinery)');
  let tokenURL: string;
  if (o['tokenUrl'] !== undefined) {
    const t = httpsURL(o['tokenUrl'], '--token-url', 'https://tpe.example.com/users-auth/protocol/openid-connect/token');
    tokenURL = t.origin + t.pathname;
  } else {
    const derived = actilityTokenURL(scheme, baseURL);
    if (derived === null) throw new ParseError('--token-url', `needed: the API URL ${baseURL} does not end in ${WIRELESS_CORE_PATH}, so the DX token endpoint cannot be derived`);
    tokenURL = derived;
  }
  const id = (key: string, flag: string, what: string): string => {
    const v = o[key];
    if (v === undefined || !ID.test(v)) throw new ParseError(flag, `the ThingPark ${what} id of created devices is required (as ThingPark shows it)`);
    return v;
  };
  const deviceProfileId = id('deviceProfileId', '--device-profile-id', 'device profile');
  const connectivityPlanId = id('connectivityPlanId', '--connectivity-plan-id', 'connectivity plan');
  const routingProfileId = o['routingProfileId'] === undefined ? null : id('routingProfileId', '--routing-profile-id', 'routing profile');
  const pageSize = o['pageSize'] === undefined ? THINGPARK_PAGE : Number(o['pageSize']);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > THINGPARK_PAGE) throw new ParseError('--page-size', `expected an integer from 1 to ${THINGPARK_PAGE} (ThingPark serves ${THINGPARK_PAGE} devices a page)`);
  return {
    baseURL,
    tokenURL,
    authScheme: scheme,
    clientId,
    clientSecret: config.apiKey,
    deviceProfileId,
    connectivityPlanId,
    routingProfileId,
    pageSize,
    rateLimit: parseRateLimitOptions(o, ACTILITY_DEFAULT_RATE_LIMIT),
    retry: config.retry ?? {},
  };
}

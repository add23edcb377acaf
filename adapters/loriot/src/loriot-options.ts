import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

/** The `options` keys of a LORIOT adapter config (`joinery ns add` flags of the same name). */
export const LORIOT_OPTION_HELP: Readonly<Record<string, string>> = {
  applicationId: 'LORIOT application id (APPID, hex, e.g. BE7A0000; required)',
  joinServerId: "the Join Server EUI LORIOT registered Joinery under, set as the application's joinServerId (16 hex digits; optional: needs a tier 2 account, else LORIOT sets the application's Join Server on request)",
  deviceClass: 'LoRaWAN class of created devices: A, B or C (default A)',
  ...RATE_LIMIT_OPTION_HELP,
};

/** Cloud default: LORIOT publishes no rate limit here; a conservative bound (inference). */
export const LORIOT_DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 5, maxConcurrent: 2 };

export interface LoriotOptions {
  /** `https://{server}.loriot.io` (or the URL given). */
  readonly baseURL: string;
  readonly apiKey: string;
  /** Upper-case hex, as LORIOT writes it in URLs. */
  readonly applicationId: string;
  /** 16 upper-case hex digits; null: LORIOT is asked to set the application's Join Server. */
  readonly joinServerId: string | null;
  readonly deviceClass: 'A' | 'B' | 'C';
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

/**
 * LORIOT's API server for an --api-url: a bare server name (`eu1`, `us1`, `ap1`...) means
 * `https://{server}.loriot.io`; a host name or a URL is taken as given (a private LORIOT
 * installation has its own host).
 */
export function loriotBaseURL(value: string): string {
  const v = value.trim();
  if (/^[a-z0-9-]{2,30}$/i.test(v)) return `https://${v.toLowerCase()}.loriot.io`;
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(v) ? v : `https://${v}`);
  } catch {
    throw new ParseError('--api-url', `not a LORIOT server: "${value}" (expected a server name such as eu1, or https://eu1.loriot.io)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ParseError('--api-url', 'expected an https:// URL or a LORIOT server name such as eu1');
  if (url.username || url.password) throw new ParseError('--api-url', 'must not carry credentials (use --api-key)');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function parseLoriotConfig(config: AdapterConfig): LoriotOptions {
  const baseURL = loriotBaseURL(config.apiUrl);
  if (config.apiKey.trim() === '') throw new ParseError('--api-key', 'a LORIOT API key is required (Network Server API, sent as Bearer)');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in LORIOT_OPTION_HELP)) throw new ParseError(k, `unknown LORIOT option (known: ${Object.keys(LORIOT_OPTION_HELP).join(', ')})`);
  const applicationId = (o['applicationId'] ?? '').trim().toUpperCase();
  if (!/^[0-9A-F]{1,16}$/.test(applicationId)) throw new ParseError('--application-id', 'the LORIOT application id (APPID) is required, in hex (e.g. BE7A0000)');
  const joinServerId = o['joinServerId'] === undefined ? null : o['joinServerId'].trim().replace(/[-:]/g, '').toUpperCase();
  if (joinServerId !== null && !/^[0-9A-F]{16}$/.test(joinServerId)) {
    throw new ParseError('--join-server-id', "expected the Join Server EUI (16 hex digits) LORIOT registered Joinery under; LORIOT sends the application's JoinReqs to it");
  }
  const deviceClass = (o['deviceClass'] ?? 'A').toUpperCase();
  if (deviceClass !== 'A' && deviceClass !== 'B' && deviceClass !== 'C') throw new ParseError('--device-class', 'expected A, B or C');
  return {
    baseURL,
    apiKey: config.apiKey.trim(),
    applicationId,
    joinServerId,
    deviceClass,
    rateLimit: parseRateLimitOptions(o, LORIOT_DEFAULT_RATE_LIMIT),
    retry: config.retry ?? {},
  };
}

import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

export const CHIRPSTACK_REGIONS = ['EU868', 'US915', 'CN779', 'EU433', 'AU915', 'CN470', 'AS923', 'AS923_2', 'AS923_3', 'AS923_4', 'KR920', 'IN865', 'RU864', 'ISM2400'] as const;
export type ChirpStackRegion = (typeof CHIRPSTACK_REGIONS)[number];

/** The `options` keys of a ChirpStack adapter config (`joinery ns add` flags of the same name). */
export const CHIRPSTACK_OPTION_HELP: Readonly<Record<string, string>> = {
  applicationId: 'ChirpStack application (UUID) the devices are created in (required)',
  tenantId: 'ChirpStack tenant (UUID) whose device profiles are used or created (required unless deviceProfileId is set)',
  deviceProfileId: 'use this device profile (UUID) for every device instead of ensuring one per MAC version',
  region: `region of ensured device profiles: ${CHIRPSTACK_REGIONS.join(', ')} (default EU868)`,
  caCertFile: 'PEM CA that verifies an https:// API URL (default: the system CAs)',
  mqttUrl: "MQTT broker of ChirpStack's MQTT integration, for watch (mqtt://host:1883 or mqtts://...)",
  mqttTopicPrefix: 'first topic level of the integration\'s event_topic (default "application")',
  mqttUsername: 'MQTT user name, when the broker wants one',
  ...RATE_LIMIT_OPTION_HELP,
};

export interface ChirpStackOptions {
  readonly target: string;
  readonly tls: boolean;
  readonly caCertFile: string | null;
  readonly apiKey: string;
  readonly applicationId: string;
  readonly tenantId: string | null;
  readonly deviceProfileId: string | null;
  readonly region: ChirpStackRegion;
  readonly mqttUrl: string | null;
  readonly mqttTopicPrefix: string;
  readonly mqttUsername: string | null;
  /** Default: no limit (a self-hosted ChirpStack). */
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseChirpStackConfig(config: AdapterConfig): ChirpStackOptions {
  let url: URL;
  try {
    url = new URL(config.apiUrl);
  } catch {
    throw new ParseError('--api-url', `not a URL: "${config.apiUrl}" (expected http://host:8080 or https://host:443, ChirpStack's gRPC API)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ParseError('--api-url', 'expected http:// (plaintext gRPC) or https:// (gRPC over TLS)');
  if (url.pathname !== '/' && url.pathname !== '') throw new ParseError('--api-url', "ChirpStack's gRPC API takes no path: give scheme, host and port only");
  const tls = url.protocol === 'https:';
  const port = url.port || (tls ? '443' : '80');
  if (config.apiKey.trim() === '') throw new ParseError('--api-key', 'a ChirpStack API token is required');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in CHIRPSTACK_OPTION_HELP)) throw new ParseError(k, `unknown ChirpStack option (known: ${Object.keys(CHIRPSTACK_OPTION_HELP).join(', ')})`);
  const applicationId = o['applicationId'];
  if (!applicationId || !UUID.test(applicationId)) throw new ParseError('--application-id', 'the ChirpStack application id (a UUID) is required');
  const tenantId = o['tenantId'] ?? null;
  if (tenantId !== null && !UUID.test(tenantId)) throw new ParseError('--tenant-id', 'expected a UUID');
  const deviceProfileId = o['deviceProfileId'] ?? null;
  if (deviceProfileId !== null && !UUID.test(deviceProfileId)) throw new ParseError('--device-profile-id', 'expected a UUID');
  if (tenantId === null && deviceProfileId === null) throw new ParseError('--tenant-id', 'needed to find or create device profiles (or give --device-profile-id)');
  const region = (o['region'] ?? 'EU868').toUpperCase();
  if (!(CHIRPSTACK_REGIONS as readonly string[]).includes(region)) throw new ParseError('--region', `expected one of ${CHIRPSTACK_REGIONS.join(', ')}`);
  const mqttUrl = o['mqttUrl'] ?? null;
  if (mqttUrl !== null && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl)) throw new ParseError('--mqtt-url', 'expected mqtt://host:port or mqtts://host:port');
  const mqttTopicPrefix = o['mqttTopicPrefix'] ?? 'application';
  if (!/^[^#+]+$/.test(mqttTopicPrefix)) throw new ParseError('--mqtt-topic-prefix', 'must not be empty nor contain MQTT wildcards');
  return {
    target: `${url.hostname.replace(/^\[|\]$/g, '')}:${port}`,
    tls,
    caCertFile: o['caCertFile'] ?? null,
    apiKey: config.apiKey,
    applicationId: applicationId.toLowerCase(),
    tenantId: tenantId?.toLowerCase() ?? null,
    deviceProfileId: deviceProfileId?.toLowerCase() ?? null,
    region: region as ChirpStackRegion,
    mqttUrl,
    mqttTopicPrefix,
    mqttUsername: o['mqttUsername'] ?? null,
    rateLimit: parseRateLimitOptions(o),
    retry: config.retry ?? {},
  };
}

import { ParseError, parseRateLimitOptions, RATE_LIMIT_OPTION_HELP, type AdapterConfig, type RateLimit, type RetryPolicy } from '@joinery/core';

/** The `options` keys of a The Things Stack adapter config (`joinery ns add` flags of the same name). */
export const TTS_OPTION_HELP: Readonly<Record<string, string>> = {
  applicationId: 'TTS application id the devices are created in (required)',
  tenantId: 'TTS Cloud / Enterprise tenant id: the MQTT user name and topics are {app}@{tenant}; absent (open-source TTS): the bare application id',
  frequencyPlanId: 'frequency plan of created devices (default EU_863_870_TTN)',
  networkServerAddress: "network_server_address of created devices (default: the API URL's host)",
  applicationServerAddress: "application_server_address of created devices (default: the API URL's host)",
  mqttUrl: 'TTS MQTT server, for watch (mqtts://host:8883 or mqtt://host:1883); the API key is the MQTT password',
  mqttTopicPrefix: 'first topic level (default "v3")',
  ...RATE_LIMIT_OPTION_HELP,
};

export interface TTSOptions {
  readonly baseURL: string;
  readonly apiKey: string;
  readonly applicationId: string;
  /** Null: open-source TTS, whose MQTT user name and topics carry the bare application id. */
  readonly tenantId: string | null;
  readonly frequencyPlanId: string;
  readonly networkServerAddress: string;
  readonly applicationServerAddress: string;
  readonly mqttUrl: string | null;
  readonly mqttTopicPrefix: string;
  /** Default: no limit (The Things Stack Cloud has its own; set it with --rate-limit). */
  readonly rateLimit: RateLimit;
  readonly retry: Partial<RetryPolicy>;
}

const ID = /^[a-z0-9](?:[-]?[a-z0-9]){1,35}$/;

export function parseTTSConfig(config: AdapterConfig): TTSOptions {
  let url: URL;
  try {
    url = new URL(config.apiUrl);
  } catch {
    throw new ParseError('--api-url', `not a URL: "${config.apiUrl}" (expected https://your-tts-host)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ParseError('--api-url', 'expected an https:// (or http://) URL');
  if (config.apiKey.trim() === '') throw new ParseError('--api-key', 'a The Things Stack API key is required');
  const o = config.options;
  for (const k of Object.keys(o)) if (!(k in TTS_OPTION_HELP)) throw new ParseError(k, `unknown The Things Stack option (known: ${Object.keys(TTS_OPTION_HELP).join(', ')})`);
  const applicationId = o['applicationId'];
  if (!applicationId || !ID.test(applicationId)) throw new ParseError('--application-id', 'the TTS application id is required (lower-case letters, digits, dashes)');
  const tenantId = o['tenantId'] ?? null;
  if (tenantId !== null && !ID.test(tenantId)) throw new ParseError('--tenant-id', 'expected a TTS tenant id (lower-case letters, digits, dashes)');
  const frequencyPlanId = o['frequencyPlanId'] ?? 'EU_863_870_TTN';
  if (!/^[A-Z0-9_]+$/.test(frequencyPlanId)) throw new ParseError('--frequency-plan-id', 'expected a TTS frequency plan id such as EU_863_870_TTN');
  const mqttUrl = o['mqttUrl'] ?? null;
  if (mqttUrl !== null && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl)) throw new ParseError('--mqtt-url', 'expected mqtt://host:port or mqtts://host:port');
  const mqttTopicPrefix = o['mqttTopicPrefix'] ?? 'v3';
  if (!/^[^#+]+$/.test(mqttTopicPrefix)) throw new ParseError('--mqtt-topic-prefix', 'must not be empty nor contain MQTT wildcards');
  return {
    baseURL: url.origin + url.pathname.replace(/\/+$/, ''),
    apiKey: config.apiKey,
    applicationId,
    tenantId,
    frequencyPlanId,
    networkServerAddress: o['networkServerAddress'] ?? url.host,
    applicationServerAddress: o['applicationServerAddress'] ?? url.host,
    mqttUrl,
    mqttTopicPrefix,
    rateLimit: parseRateLimitOptions(o),
    retry: config.retry ?? {},
  };
}

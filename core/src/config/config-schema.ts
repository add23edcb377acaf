import { isIP } from 'node:net';
import { HOME_NS_ANSWERS } from '../backend-interfaces/home-ns-visibility';
import { DEFAULT_KEY_CACHE_SIZE } from '../keys/key-vault';
import { parseJoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { parseListenAddress } from '../server/listen-address';

/**
 * Every setting of `joinery serve` and of the backend options every command takes: one table,
 * the single source of truth for the configuration file's keys (`joinery.yaml`), the command
 * line flags, the `JOINERY_*` environment variables, their defaults and descriptions. The
 * flags and the example file, `joinery config check` and the reference page
 * (docs/configuration.md) are all generated from it.
 */
export type SettingType =
  { readonly kind: 'string' } | { readonly kind: 'integer'; readonly min: number; readonly max: number } | { readonly kind: 'enum'; readonly choices: readonly string[] } | { readonly kind: 'list' };

export interface SettingDefinition {
  /** Dotted path in the configuration file, e.g. `bi.listen`. */
  readonly key: string;
  /** The command-line flag (a contract: never renamed). */
  readonly flag: string;
  /** Commander's placeholder, e.g. `<host:port>`; lists end with `...`. */
  readonly placeholder: string;
  readonly env: string;
  readonly type: SettingType;
  /** The default, as the file would spell it; undefined: none (see `defaultText`). */
  readonly default?: string | number;
  /** How the reference describes an absent default. */
  readonly defaultText?: string;
  /** Shown in the example file (commented out) when there is no default. */
  readonly example?: string;
  readonly description: string;
  /** `backend`: every command that opens the store and vault; `serve`: only `joinery serve`. */
  readonly scope: 'backend' | 'serve';
  /** The value of the flag given bare, without one (its placeholder then in brackets). */
  readonly preset?: string;
  /** Checks the meaning of a value (its type is checked from `type`); returns what is wrong. */
  readonly check?: (value: string) => string | undefined;
}

const listen = (v: string): string | undefined => tryParse(() => parseListenAddress(v, 'x'), 'expected host:port, e.g. 127.0.0.1:8003 or [::1]:8003');
const prefix = (v: string): string | undefined => tryParse(() => parseJoinEUIPrefix(v, 'x'), 'expected a JoinEUI prefix such as 70b3d57ed0000000/40');
const ip = (v: string): string | undefined => (isIP(v.replace(/^\[(.*)\]$/, '$1')) === 0 ? 'expected an IP address' : undefined);
const storeURL = (v: string): string | undefined => (v === '' || v.startsWith('sqlite:') || v.startsWith('postgres://') || v.startsWith('postgresql://') ? undefined : 'expected sqlite:<path> or postgres://...');
const mqttURL = (v: string): string | undefined => (/^(mqtts?|wss?|tcp|ssl):\/\/[^/]/.test(v) ? undefined : 'expected mqtt://host[:port] (or mqtts://, ws://, wss://)');
const topicPrefix = (v: string): string | undefined =>
  v !== '' && !/[#+\u0000]/.test(v) && !v.startsWith('/') && !v.endsWith('/') ? undefined : 'expected a non-empty MQTT topic without wildcards (+, #) or a leading/trailing /';

function tryParse(fn: () => unknown, expected: string): string | undefined {
  try {
    fn();
    return undefined;
  } catch {
    return expected;
  }
}

export const SETTINGS: readonly SettingDefinition[] = [
  // Backends: every command.
  { key: 'data_dir', flag: '--data-dir', placeholder: '<dir>', env: 'JOINERY_DATA_DIR', type: { kind: 'string' }, default: './data', scope: 'backend', description: 'data directory: database, master key, CA' },
  {
    key: 'store',
    flag: '--store',
    placeholder: '<url>',
    env: 'JOINERY_STORE',
    type: { kind: 'string' },
    defaultText: 'sqlite:<data_dir>/joinery.db',
    example: 'postgres://joinery@127.0.0.1:5432/joinery',
    scope: 'backend',
    description: 'store: sqlite:<path> (default <data-dir>/joinery.db) or postgres://...',
    check: storeURL,
  },
  {
    key: 'vault',
    flag: '--vault',
    placeholder: '<kind>',
    env: 'JOINERY_VAULT',
    type: { kind: 'enum', choices: ['software', 'pkcs11'] },
    defaultText: 'software',
    example: 'software',
    scope: 'backend',
    description: 'key vault: software (default) or pkcs11',
  },
  {
    key: 'pkcs11.lib',
    flag: '--pkcs11-lib',
    placeholder: '<path>',
    env: 'JOINERY_PKCS11_LIB',
    type: { kind: 'string' },
    example: '/usr/lib/softhsm/libsofthsm2.so',
    scope: 'backend',
    description: 'PKCS#11 module (with --vault pkcs11)',
  },
  {
    key: 'pkcs11.token',
    flag: '--pkcs11-token',
    placeholder: '<label>',
    env: 'JOINERY_PKCS11_TOKEN',
    type: { kind: 'string' },
    example: 'joinery',
    scope: 'backend',
    description: 'PKCS#11 token label (with --vault pkcs11)',
  },
  {
    key: 'pkcs11.pin_file',
    flag: '--pkcs11-pin-file',
    placeholder: '<path>',
    env: 'JOINERY_PKCS11_PIN_FILE',
    type: { kind: 'string' },
    example: '/etc/joinery/pkcs11.pin',
    scope: 'backend',
    description: 'file holding the PKCS#11 user PIN (or JOINERY_PKCS11_PIN)',
  },

  // The BI listener.
  {
    key: 'bi.listen',
    flag: '--bi-listen',
    placeholder: '<host:port>',
    env: 'JOINERY_BI_LISTEN',
    type: { kind: 'string' },
    default: '127.0.0.1:8003',
    scope: 'serve',
    description: 'Backend Interfaces listener (HTTPS, mTLS)',
    check: listen,
  },
  {
    key: 'bi.public_hosts',
    flag: '--public-host',
    placeholder: '<host...>',
    env: 'JOINERY_PUBLIC_HOST',
    type: { kind: 'list' },
    defaultText: 'none (localhost and 127.0.0.1 only)',
    example: '[js.example.com]',
    scope: 'serve',
    description:
      'names or addresses network servers use to reach the BI listener (server certificate SANs); the first, with the port of bi.listen, is the BI URL ns add and as add write into bundles when not given --public-url',
  },
  {
    key: 'bi.join_eui_prefixes',
    flag: '--join-eui-prefix',
    placeholder: '<prefix...>',
    env: 'JOINERY_JOIN_EUI_PREFIXES',
    type: { kind: 'list' },
    defaultText: 'all JoinEUIs',
    example: '[70b3d57ed0000000/40]',
    scope: 'serve',
    description: 'JoinEUI ranges served, e.g. 70b3d57ed0000000/40 (others get UnknownReceiver; default: all)',
    check: prefix,
  },
  {
    key: 'bi.client_certificates',
    flag: '--bi-client-certificates',
    placeholder: '<mode>',
    env: 'JOINERY_BI_CLIENT_CERTIFICATES',
    type: { kind: 'enum', choices: ['required', 'optional'] },
    default: 'required',
    scope: 'serve',
    description: 'required: TLS refuses callers without a client certificate from the CA; optional: also peers on /bi/<name> with their Authorization header, and trusted proxies',
  },
  {
    key: 'bi.trusted_proxies',
    flag: '--trusted-proxy',
    placeholder: '<address...>',
    env: 'JOINERY_TRUSTED_PROXIES',
    type: { kind: 'list' },
    defaultText: 'none',
    example: '[10.0.0.5]',
    scope: 'serve',
    description: 'TLS-terminating proxies whose client-certificate header is believed',
    check: ip,
  },
  {
    key: 'bi.client_cert_header',
    flag: '--client-cert-header',
    placeholder: '<name>',
    env: 'JOINERY_CLIENT_CERT_HEADER',
    type: { kind: 'string' },
    default: 'x-client-cert',
    scope: 'serve',
    description: 'the header a trusted proxy puts the client certificate in (PEM, URL-encoded PEM or base64 DER)',
  },
  {
    key: 'bi.home_ns_answers',
    flag: '--home-ns-answers',
    placeholder: '<mode>',
    env: 'JOINERY_HOME_NS_ANSWERS',
    type: { kind: 'enum', choices: [...HOME_NS_ANSWERS] },
    default: 'tenant',
    scope: 'serve',
    description: "which network servers a HomeNSReq is answered to: bound (only the device's own), tenant (the device owner's and the operator's) or any; others get UnknownDevEUI, as for a device that does not exist",
  },

  // The admin listener.
  {
    key: 'admin.listen',
    flag: '--admin-listen',
    placeholder: '<host:port>',
    env: 'JOINERY_ADMIN_LISTEN',
    type: { kind: 'string' },
    default: '127.0.0.1:8090',
    scope: 'serve',
    description: 'admin listener (HTTP: /healthz, /readyz, /metrics)',
    check: listen,
  },
  {
    key: 'metrics.listen',
    flag: '--metrics-listen',
    placeholder: '<host:port>',
    env: 'JOINERY_METRICS_LISTEN',
    type: { kind: 'string' },
    defaultText: 'none (/metrics on the admin listener only)',
    example: '127.0.0.1:9464',
    scope: 'serve',
    description: 'a listener (HTTP) serving /metrics alone, for a Prometheus that must not reach the admin listener',
    check: listen,
  },

  // The store away at start.
  {
    key: 'exit_on_store_failure',
    flag: '--exit-on-store-failure',
    placeholder: '[on|off]',
    env: 'JOINERY_EXIT_ON_STORE_FAILURE',
    type: { kind: 'enum', choices: ['on', 'off'] },
    default: 'off',
    preset: 'on',
    scope: 'serve',
    description: 'off: a store unreachable at start is tried again (0.5 s, doubling, up to 10 s apart) with /readyz 503 meanwhile; on (or the bare flag): exit non-zero at once',
  },

  // The key vault's cache of opened keys.
  {
    key: 'key_cache_size',
    flag: '--key-cache-size',
    placeholder: '<n>',
    env: 'JOINERY_KEY_CACHE_SIZE',
    type: { kind: 'integer', min: 0, max: 10_000_000 },
    default: DEFAULT_KEY_CACHE_SIZE,
    scope: 'serve',
    description:
      'opened root keys and KEKs the key vault keeps, least recently used out (0: none): a join of a device in it skips the unsealing (software vault: about 4 KB of memory each) or the HSM lookup (PKCS#11: a session object on the HSM each)',
  },

  // Warming up before listening.
  {
    key: 'warm_up_ms',
    flag: '--warm-up-ms',
    placeholder: '<ms>',
    env: 'JOINERY_WARM_UP_MS',
    type: { kind: 'integer', min: 0, max: 60_000 },
    default: 1500,
    scope: 'serve',
    description:
      'before it listens, the server answers up to 1,500 synthetic joins of canary devices that exist only in its own in-memory store, for at most this long, so its first requests do not run on uncompiled code (software vault only; 0: off)',
  },

  // The join engine.
  {
    key: 'join.used_dev_nonces',
    flag: '--used-dev-nonces',
    placeholder: '<n>',
    env: 'JOINERY_USED_DEV_NONCES',
    type: { kind: 'integer', min: 1, max: 65536 },
    default: 64,
    scope: 'serve',
    description: 'used DevNonces remembered per 1.0.0-1.0.3 device',
  },
  {
    key: 'join.rejoins_per_hour',
    flag: '--rejoins-per-hour',
    placeholder: '<n>',
    env: 'JOINERY_REJOINS_PER_HOUR',
    type: { kind: 'integer', min: 1, max: 100_000 },
    default: 10,
    scope: 'serve',
    description: 'rejoin-requests accepted per device within an hour (each costs one of its 16,777,215 JoinNonces); more get JoinReqFailed',
  },
  {
    key: 'join.session_history',
    flag: '--session-history',
    placeholder: '<n>',
    env: 'JOINERY_SESSION_HISTORY',
    type: { kind: 'integer', min: 1, max: 1000 },
    default: 10,
    scope: 'serve',
    description: 'issued sessions (AppSKeys for AppSKeyReq) kept per device',
  },

  // Claims: owner-token guesses are rate-limited (token buckets in the store, shared by every instance).
  {
    key: 'claims.device_burst',
    flag: '--claim-device-burst',
    placeholder: '<n>',
    env: 'JOINERY_CLAIM_DEVICE_BURST',
    type: { kind: 'integer', min: 1, max: 1000 },
    default: 5,
    scope: 'serve',
    description: 'owner-token guesses one tenant may make on one device in a burst before its claims of it get 429',
  },
  {
    key: 'claims.device_refill_seconds',
    flag: '--claim-device-refill',
    placeholder: '<s>',
    env: 'JOINERY_CLAIM_DEVICE_REFILL',
    type: { kind: 'integer', min: 1, max: 86_400 },
    default: 60,
    scope: 'serve',
    description: 'then one more guess per tenant and device every this many seconds',
  },
  {
    key: 'claims.tenant_burst',
    flag: '--claim-tenant-burst',
    placeholder: '<n>',
    env: 'JOINERY_CLAIM_TENANT_BURST',
    type: { kind: 'integer', min: 1, max: 100_000 },
    default: 20,
    scope: 'serve',
    description: 'owner-token guesses one tenant may make in a burst (over all devices) before its claims get 429',
  },
  {
    key: 'claims.tenant_refill_seconds',
    flag: '--claim-tenant-refill',
    placeholder: '<s>',
    env: 'JOINERY_CLAIM_TENANT_REFILL',
    type: { kind: 'integer', min: 1, max: 86_400 },
    default: 10,
    scope: 'serve',
    description: 'then one more guess per tenant every this many seconds',
  },
  {
    key: 'claims.device_cap_burst',
    flag: '--claim-device-cap-burst',
    placeholder: '<n>',
    env: 'JOINERY_CLAIM_DEVICE_CAP_BURST',
    type: { kind: 'integer', min: 1, max: 100_000 },
    default: 50,
    scope: 'serve',
    description: 'owner-token guesses all tenants together may make on one device in a burst (keep it well above --claim-device-burst, so one tenant cannot use it up)',
  },
  {
    key: 'claims.device_cap_refill_seconds',
    flag: '--claim-device-cap-refill',
    placeholder: '<s>',
    env: 'JOINERY_CLAIM_DEVICE_CAP_REFILL',
    type: { kind: 'integer', min: 1, max: 86_400 },
    default: 10,
    scope: 'serve',
    description: 'then one more guess per device, over all tenants, every this many seconds',
  },

  // Fleet migrations.
  {
    key: 'migrations.resume_on_start',
    flag: '--resume-migrations',
    placeholder: '<on|off>',
    env: 'JOINERY_RESUME_MIGRATIONS',
    type: { kind: 'enum', choices: ['on', 'off'] },
    default: 'on',
    scope: 'serve',
    description: 'on: this instance carries on, at start, the fleet migrations a stop left running or rolling back; off: only joinery migrate resume does (with many instances, leave it on for one)',
  },

  // Asynchronous answers.
  {
    key: 'async_answers.attempts',
    flag: '--async-attempts',
    placeholder: '<n>',
    env: 'JOINERY_ASYNC_ATTEMPTS',
    type: { kind: 'integer', min: 1, max: 20 },
    default: 5,
    scope: 'serve',
    description: 'delivery attempts of an answer to an asynchronous peer',
  },
  {
    key: 'async_answers.retry_delay_ms',
    flag: '--async-retry-delay',
    placeholder: '<ms>',
    env: 'JOINERY_ASYNC_RETRY_DELAY',
    type: { kind: 'integer', min: 0, max: 30_000 },
    default: 250,
    scope: 'serve',
    description: 'first retry delay of an async answer, doubled each retry (all within 30 s)',
  },

  // Logs.
  {
    key: 'log.level',
    flag: '--log-level',
    placeholder: '<level>',
    env: 'JOINERY_LOG_LEVEL',
    type: { kind: 'enum', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] },
    defaultText: 'info',
    example: 'info',
    scope: 'serve',
    description: 'fatal, error, warn, info, debug or trace',
  },
  {
    key: 'log.format',
    flag: '--log-format',
    placeholder: '<format>',
    env: 'JOINERY_LOG_FORMAT',
    type: { kind: 'enum', choices: ['auto', 'json', 'pretty'] },
    default: 'auto',
    scope: 'serve',
    description: 'json: one JSON object per line; pretty: coloured, for a person; auto: pretty when stdout is a terminal, else json',
  },

  // Join events over MQTT.
  {
    key: 'mqtt.url',
    flag: '--mqtt-url',
    placeholder: '<url>',
    env: 'JOINERY_MQTT_URL',
    type: { kind: 'string' },
    defaultText: 'none (no events published)',
    example: 'mqtt://127.0.0.1:1883',
    scope: 'serve',
    description: 'publish join events to this MQTT broker (mqtt://[user:password@]host[:port], mqtts://...)',
    check: mqttURL,
  },
  {
    key: 'mqtt.topic_prefix',
    flag: '--mqtt-topic-prefix',
    placeholder: '<prefix>',
    env: 'JOINERY_MQTT_TOPIC_PREFIX',
    type: { kind: 'string' },
    default: 'joinery',
    scope: 'serve',
    description: 'join events go to <prefix>/<tenant>/devices/<deveui>/join',
    check: topicPrefix,
  },
  { key: 'mqtt.qos', flag: '--mqtt-qos', placeholder: '<qos>', env: 'JOINERY_MQTT_QOS', type: { kind: 'integer', min: 0, max: 1 }, default: 1, scope: 'serve', description: 'MQTT QoS of join events (0 or 1)' },
  {
    key: 'mqtt.queue_size',
    flag: '--mqtt-queue-size',
    placeholder: '<n>',
    env: 'JOINERY_MQTT_QUEUE_SIZE',
    type: { kind: 'integer', min: 1, max: 1_000_000 },
    default: 1000,
    scope: 'serve',
    description: 'join events kept while the broker is away or slow; beyond, events are dropped and counted (joins are never held up)',
  },
];

/** The `--config` setting itself (not a key of the file). */
export const CONFIG_FLAG = { flag: '--config', placeholder: '<file>', env: 'JOINERY_CONFIG', description: 'configuration file (YAML: see joinery config example); the environment and flags override it' } as const;

export function settingsFor(scope: 'backend' | 'serve'): readonly SettingDefinition[] {
  return SETTINGS.filter((s) => (scope === 'serve' ? true : s.scope === 'backend'));
}

/** `--bi-listen` → `biListen`, as commander names an option's value. */
export function attributeName(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** What is wrong with a value of a setting, or undefined. `value` as a file, env or flag gives it. */
export function checkSetting(def: SettingDefinition, value: unknown): { problem: string; got: string } | undefined {
  const t = def.type;
  const shown = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  if (t.kind === 'list') {
    const items = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : null;
    if (!items || items.some((i) => typeof i !== 'string')) return { problem: 'expected a list of strings (or one comma-separated string)', got: shown };
    for (const item of items as string[]) {
      const p = def.check?.(item);
      if (p) return { problem: p, got: JSON.stringify(item) };
    }
    return undefined;
  }
  if (t.kind === 'integer') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < t.min || n > t.max) return { problem: `expected an integer ${t.min}..${t.max}`, got: shown };
    return undefined;
  }
  if (typeof value !== 'string') return { problem: t.kind === 'enum' ? `expected ${orList(t.choices)}` : 'expected a string', got: shown };
  if (t.kind === 'enum' && !t.choices.includes(value.trim().toLowerCase())) return { problem: `expected ${orList(t.choices)}`, got: shown };
  const p = def.check?.(value);
  return p ? { problem: p, got: shown } : undefined;
}

/** A checked file value as commander holds it: strings, and string arrays for lists. */
export function toOptionValue(def: SettingDefinition, value: unknown): string | string[] {
  if (def.type.kind === 'list')
    return Array.isArray(value)
      ? value.map(String)
      : String(value)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  if (def.type.kind === 'enum') return String(value).trim().toLowerCase();
  return String(value);
}

/** `a, b or c`. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

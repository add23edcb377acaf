import pino, { type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Field names that could hold key material in anything handed to the logger. Keys in memory
 * are AES128Key objects that print as a redaction marker by construction; this list is the
 * second belt, for hex strings (a BI answer, an import row) passed by mistake.
 */
export const KEY_FIELDS = [
  'AppKey',
  'NwkKey',
  'AppSKey',
  'NwkSKey',
  'FNwkSIntKey',
  'SNwkSIntKey',
  'NwkSEncKey',
  'AESKey',
  'KEK',
  'appKey',
  'nwkKey',
  'appSKey',
  'nwkSKey',
  'fNwkSIntKey',
  'sNwkSIntKey',
  'nwkSEncKey',
  'aesKey',
  'kek',
  'app_key',
  'nwk_key',
  'masterKey',
  'jsIntKey',
  'jsEncKey',
];

/**
 * Top-level names only: pino's wildcard paths (`*.AppKey`, `*.*.AppKey`) cost about 8% of the
 * server's CPU under load (one traversal per path per log line), and `scrub` below already
 * replaces every one of these names at any depth (each ends in key or kek), as tested.
 */
export const REDACT_PATHS = [...KEY_FIELDS];

export const REDACTED = '[redacted]';

/**
 * The third belt, applied to everything logged at any depth (the message, the fields, errors,
 * child bindings): a field whose name says key or secret (`...key`, `kek`, `pin`, `password`,
 * `secret`, `token`, `authorization`) is replaced whatever its value; Buffers and typed arrays
 * print as their length only (a key's bytes would otherwise print as a list of numbers); a
 * redacted secret (AES128Key, MasterKey) prints as its marker; and a string that is exactly 32
 * or 64 hex digits (an AES-128 key, a master key), alone or as a word in a longer string such
 * as an error message, is masked. DevEUIs (16 digits), wrapped keys (48), PHYPayloads and
 * SessionKeyIDs are not.
 */
const SECRET_NAME = /(key|kek|pin|password|passwd|secret|token|authorization|credential)$/i;
const NOT_SECRET_NAME = /^(kek_?label|session_?key_?id|key_?id|keklabel)$/i;
const KEY_HEX = /(?<![0-9a-f])(?:0x)?(?:[0-9a-f]{64}|[0-9a-f]{32})(?![0-9a-f])/gi;

/** The shortest string KEY_HEX can match (32 hex digits): anything shorter is left as it is without a regex. */
const KEY_HEX_MIN = 32;

export function scrubString(s: string): string {
  return s.length < KEY_HEX_MIN ? s : s.replace(KEY_HEX, '[key-like hex redacted]');
}

/**
 * Field names seen, and whether each is a secret's: a log line's names come from a small fixed
 * set (every request's line has the same ones), so each is tested once, not once per line.
 * Bounded: cleared when it reaches SECRET_NAMES_MAX (names made from data would otherwise grow it).
 */
const secretNames = new Map<string, boolean>();
const SECRET_NAMES_MAX = 4096;

function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    const n = name.replace(/[-_]/g, '');
    secret = SECRET_NAME.test(n) && !NOT_SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(n);
    if (secretNames.size >= SECRET_NAMES_MAX) secretNames.clear();
    secretNames.set(name, secret);
  }
  return secret;
}

export function scrub(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${(value as ArrayBufferView).byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (seen.has(value)) return '[circular]';
  if (depth > 8) return '[too deep]';
  seen.add(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Date)) {
    return scrub((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  }
  if (value instanceof Date) return value;
  if (value instanceof Error) {
    // A scrubbed copy that is still an error of its class, for pino's error serializer.
    const out = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
    out['message'] = scrubString(value.message);
    if (value.stack) out['stack'] = scrubString(value.stack);
    for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) ? REDACTED : scrub(v, depth + 1, seen);
    if (value.cause !== undefined) out['cause'] = scrub(value.cause, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
  if (value instanceof Map) return scrub(Object.fromEntries(value), depth + 1, seen);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) && v !== undefined && v !== null ? REDACTED : scrub(v, depth + 1, seen);
  return out;
}

export type LogFormat = 'json' | 'pretty' | 'auto';

export interface LoggerOptions {
  readonly level?: string;
  /** json; pretty (pino-pretty, for a person); auto: pretty when stdout is a terminal. */
  readonly format?: LogFormat;
  readonly destination?: DestinationStream;
}

/** JSON lines gathered before a write to stdout, and the longest a line waits for one. */
export const LOG_BUFFER_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

/**
 * stdout, written asynchronously a buffer at a time: lines are gathered up to
 * LOG_BUFFER_BYTES, and whatever is gathered is written at least every LOG_FLUSH_MS (and by
 * `logger.flush(cb)`, which the server awaits before it exits; pino's own exit handler writes
 * what is left on a plain `process.exit`). A write per line costs a round trip through libuv's
 * thread pool: 40-55 µs of CPU a line more than buffered, paced at 500 lines/s (one
 * 'bi request' line per join).
 *
 * Each line goes to sonic-boom as a Buffer (its `buffer` content mode), not a string: with
 * strings it measures the byte length of the whole pending text at every line
 * (`Buffer.byteLength` of a string grown by `+=`, which flattens and copies it), up to 16 KiB
 * while a write is in flight: 5 KB allocated a line under load, against the line's own bytes
 * as a Buffer.
 */
function stdoutDestination(): DestinationStream {
  const boom = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS, contentMode: 'buffer' });
  const buffered = boom as unknown as { write(data: Buffer): boolean; flush(cb?: (err?: Error) => void): void; flushSync(): void };
  return {
    write: (line: string) => void buffered.write(Buffer.from(line, 'utf8')),
    flush: (cb?: (err?: Error) => void) => buffered.flush(cb),
    flushSync: () => buffered.flushSync(),
  } as DestinationStream;
}

/**
 * Structured JSON logs (one object per line), or pino-pretty on a terminal, with key material
 * redacted by construction: key fields by name, and everything scrubbed (see `scrub`).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && options.destination === undefined && process.stdout.isTTY === true);
  const destination = options.destination ?? (pretty ? pinoPretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:standard', ignore: 'pid,hostname', sync: true }) : stdoutDestination());
  const logger = pino(
    {
      name: 'joinery',
      level: options.level ?? process.env['JOINERY_LOG_LEVEL'] ?? 'info',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (object) => scrub(object) as Record<string, unknown>,
        bindings: (bindings) => scrub(bindings) as Record<string, unknown>,
      },
      hooks: {
        // The message string (and printf-style arguments) are scrubbed as well.
        logMethod(args, method) {
          // The merging object (first, if any) goes through formatters.log, where pino has put an
          // Error under `err`.
          method.apply(this, args.map((a, i) => (i === 0 && typeof a === 'object' && a !== null ? a : scrub(a))) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // Child bindings are serialized once, when the child is made: scrubbed there (for children of
  // children too, which inherit this method).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, scrub(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Field names that could hold key material in anything handed to the logger. Keys in memory
 * are AES128Key objects that print as a redaction marker by construction; this list is the
 * second belt, for hex strings (a BI answer, an import row) passed by mistake.
 */
const KEY_FIELDS = [
  'AppKey', 'NwkKey', 'AppSKey', 'NwkSKey', 'FNwkSIntKey', 'SNwkSIntKey', 'NwkSEncKey', 'AESKey', 'KEK',
  'appKey', 'nwkKey', 'appSKey', 'nwkSKey', 'fNwkSIntKey', 'sNwkSIntKey', 'nwkSEncKey', 'aesKey', 'kek',
  'app_key', 'nwk_key', 'masterKey', 'jsIntKey', 'jsEncKey',
];

export const REDACT_PATHS = [...KEY_FIELDS, ...KEY_FIELDS.map((f) => `*.${f}`), ...KEY_FIELDS.map((f) => `*.*.${f}`)];

export interface LoggerOptions {
  readonly level?: string;
  readonly destination?: DestinationStream;
}

/** Structured JSON logs (one object per line) with key fields redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'joinery',
      level: options.level ?? process.env['JOINERY_LOG_LEVEL'] ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

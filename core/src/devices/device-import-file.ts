import { parse as parseCSVStream } from 'csv-parse';
import { parse as parseCSV } from 'csv-parse/sync';
import type { RootKeys, WrappedRootKeys } from '../keys/key-vault';
import { AES128Key } from '../lorawan/aes128-key';
import { parseHex } from '../lorawan/hex';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { isLegacy, MAC_VERSIONS, parseMACVersion, type MACVersion } from '../lorawan/mac-version';
import { ParseError } from '../lorawan/parse-error';
import { parseOwnerToken, parseProfileID, type OwnerToken, type ProfileID } from '../claims/owner-token';

/**
 * One device of an import file, parsed: its root keys are AES128Key objects (never printable),
 * or, in a file whose keys are wrapped under a transport KEK, the wrapped keys.
 */
export interface DeviceImportRow {
  /** Where it was: the CSV line number, or the JSON array entry (1-based). */
  readonly line: number;
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly macVersion: MACVersion;
  readonly rootKeys: RootKeys | WrappedRootKeys | SealedImportKeys;
  /** `owner_token` (TR005 claim code; a secret): generated at import when absent. */
  readonly ownerToken?: OwnerToken;
  /** `profile_id` (TR005 VendorID + ProfileID) for the device's QR code. */
  readonly profileID?: ProfileID;
}

/**
 * Root keys already sealed for the store, by a software vault on the import's parsing thread
 * (the same master key, read from the same place): the blob the store keeps, never the keys.
 */
export interface SealedImportKeys {
  readonly kind: 'legacy' | '1.1';
  readonly sealed: Buffer;
  readonly vaultKind: 'software';
}

export interface ImportFileOptions {
  /**
   * The keys are RFC 3394-wrapped under a transport KEK (48 hex digits each), not in clear
   * (`joinery devices import --transport-kek-file`).
   */
  readonly wrappedKeys?: boolean;
}

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

/** The file has bad rows: all of them are listed, and nothing is imported. */
export class DeviceImportError extends Error {
  override readonly name = 'DeviceImportError';
  constructor(
    readonly unit: ImportUnit,
    readonly problems: readonly ImportProblem[],
  ) {
    const units = problems.length === 1 ? unit : unit === 'entry' ? 'entries' : 'lines';
    super(`${problems.length} bad ${units}:\n${problems.map((p) => `  ${unit} ${p.line}: ${p.message}`).join('\n')}`);
  }
}

export const IMPORT_COLUMNS = ['dev_eui', 'join_eui', 'mac_version', 'app_key', 'nwk_key'] as const;
const REQUIRED_COLUMNS = ['dev_eui', 'join_eui', 'mac_version', 'app_key'] as const;
const MAX_PROBLEMS = 100;

export type ImportFormat = 'csv' | 'json';
/** How a row of the file is pointed at: CSV lines, JSON array entries. */
export type ImportUnit = 'line' | 'entry';

export function importUnit(format: ImportFormat): ImportUnit {
  return format === 'csv' ? 'line' : 'entry';
}

/** `.json` files, or content starting with `[`, are JSON; everything else CSV. */
export function detectImportFormat(fileName: string, content: string): ImportFormat {
  if (fileName.toLowerCase().endsWith('.json')) return 'json';
  if (fileName.toLowerCase().endsWith('.csv')) return 'csv';
  return content.trimStart().startsWith('[') ? 'json' : 'csv';
}

/**
 * Parses a device import file: CSV with the header `dev_eui,join_eui,mac_version,app_key,nwk_key`
 * (any column order; other columns are ignored), or a JSON array of objects with those fields.
 * `nwk_key` is for 1.1 devices; a 1.0.x device has one root key (`app_key`; a file that puts it
 * in `nwk_key`, as some network servers export it, is accepted too). Every bad row is
 * reported with its line, and the error messages never repeat a key.
 */
export function parseDeviceImportFile(content: string, format: ImportFormat, options: ImportFileOptions = {}): DeviceImportRow[] {
  const records = format === 'csv' ? readCSV(content) : readJSON(content);
  const checker = new ImportRowChecker(importUnit(format), options);
  const rows: DeviceImportRow[] = [];
  for (const { line, record } of records) {
    const row = checker.check(line, record);
    if (row) rows.push(row);
    if (checker.full) break;
  }
  checker.finish();
  return rows;
}

/**
 * A CSV import file read as a stream (`joinery devices import` of a large file): the rows come
 * `chunkSize` at a time, so only the current chunk is held. Every bad line is still reported,
 * with its number, and a DevEUI seen twice names the first line: the generator throws
 * DeviceImportError at the end (up to 100 problems), after it has stopped yielding rows at the
 * first one, so a consumer that inserts what it gets inside one transaction rolls it back.
 */
export async function* streamDeviceImportCSV(input: AsyncIterable<Buffer | string>, options: ImportFileOptions & { readonly chunkSize?: number } = {}): AsyncGenerator<DeviceImportRow[], void, undefined> {
  const chunkSize = options.chunkSize ?? 10_000;
  const checker = new ImportRowChecker('line', options);
  let header: string[] | undefined;
  let headerLength = 0;
  const parser = parseCSVStream({
    ...CSV_OPTIONS,
    columns: (h: string[]) => (header = h.map((c) => c.trim().toLowerCase())),
  });
  let chunk: DeviceImportRow[] = [];
  try {
    // Fed by hand (not piped) so that a read error of the input ends the loop below too.
    const feed = (async () => {
      try {
        for await (const data of input) if (!parser.write(data)) await new Promise((r) => parser.once('drain', r));
        parser.end();
      } catch (e) {
        parser.destroy(e as Error);
      }
    })();
    for await (const p of parser as AsyncIterable<CSVRecord>) {
      if (header) {
        checkHeader(header);
        headerLength = header.length;
        header = undefined;
      }
      const { line, record } = csvRecord(p, headerLength);
      const row = checker.check(line, record);
      if (row && checker.clean) {
        chunk.push(row);
        if (chunk.length >= chunkSize) {
          yield chunk;
          chunk = [];
        }
      }
      if (checker.full) break;
    }
    await feed;
  } catch (e) {
    if (e instanceof DeviceImportError) throw e;
    throw csvError(e);
  } finally {
    parser.destroy();
  }
  if (header) checkHeader(header);
  if (chunk.length > 0 && checker.clean) yield chunk;
  checker.finish();
}

/** Checks rows one by one: every problem is kept (up to 100), a DevEUI seen twice names the first. */
class ImportRowChecker {
  readonly problems: ImportProblem[] = [];
  readonly #seen = new Map<string, number>();
  #rows = 0;

  constructor(
    readonly unit: ImportUnit,
    readonly options: ImportFileOptions,
  ) {}

  /** No problem so far. */
  get clean(): boolean {
    return this.problems.length === 0;
  }

  /** As many problems as are reported: reading on would add none. */
  get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }

  check(line: number, record: Record<string, unknown>): DeviceImportRow | undefined {
    try {
      const row = parseRow(line, record, this.options.wrappedKeys === true);
      const first = this.#seen.get(row.devEUI);
      if (first !== undefined) throw new ParseError('dev_eui', `${row.devEUI} is already in ${this.unit} ${first}`);
      this.#seen.set(row.devEUI, line);
      this.#rows++;
      return row;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.problems.push({ line, message: e.message });
      return undefined;
    }
  }

  /** Throws DeviceImportError with every problem found, or when the file had no device. */
  finish(): void {
    if (this.problems.length > 0) throw new DeviceImportError(this.unit, this.problems);
    if (this.#rows === 0) throw new DeviceImportError(this.unit, [{ line: 1, message: 'no devices in the file' }]);
  }
}

/** What a CSV syntax error says, without csv-parse's message: that one can quote the field (a key). */
const CSV_ERRORS: Readonly<Record<string, string>> = {
  INVALID_OPENING_QUOTE: 'a quote inside a field that does not start with one',
  CSV_INVALID_CLOSING_QUOTE: 'a quoted field goes on after its closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a quoted field goes on after its closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'not as many fields as the header',
  CSV_MAX_RECORD_SIZE: 'a line is too long',
};

type CSVRecord = { record: Record<string, string>; info: { lines: number; columns?: unknown[]; error?: { code?: string; record?: unknown[] } } };

const CSV_OPTIONS = {
  // A line with too few or too many fields is one bad line among the others, not the end of the file.
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
  bom: true,
  info: true,
  comment: '#',
} as const;

function csvError(e: unknown): DeviceImportError {
  const err = e as { lines?: number; code?: string };
  const what = (err.code !== undefined ? CSV_ERRORS[err.code] : undefined) ?? 'cannot be read as CSV';
  return new DeviceImportError('line', [{ line: err.lines ?? 1, message: `not valid CSV (${what})` }]);
}

function checkHeader(columns: readonly string[]): void {
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DeviceImportError('line', [{ line: 1, message: `the header lacks ${missing.join(', ')} (expected ${IMPORT_COLUMNS.join(',')})` }]);
  }
}

function csvRecord(p: CSVRecord, headerLength: number): { line: number; record: Record<string, unknown> } {
  const fields = p.info.error?.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' ? p.info.error.record?.length : undefined;
  if (fields === undefined) return { line: p.info.lines, record: p.record };
  return { line: p.info.lines, record: { __fields: { expected: p.info.columns?.length ?? headerLength, got: fields } } };
}

function readCSV(content: string): { line: number; record: Record<string, unknown> }[] {
  let parsed: CSVRecord[];
  try {
    parsed = parseCSV(content, { ...CSV_OPTIONS, columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()) });
  } catch (e) {
    throw csvError(e);
  }
  const header =
    content
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  const columns = header.split(',').map((c) => c.trim().toLowerCase());
  checkHeader(columns);
  return parsed.map((p) => csvRecord(p, columns.length));
}

function readJSON(content: string): { line: number; record: Record<string, unknown> }[] {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    throw new DeviceImportError('entry', [{ line: 1, message: 'not valid JSON' }]);
  }
  if (!Array.isArray(value)) throw new DeviceImportError('entry', [{ line: 1, message: 'expected a JSON array of devices' }]);
  return value.map((record, i) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return { line: i + 1, record: { __invalid: true } };
    return { line: i + 1, record: record as Record<string, unknown> };
  });
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

function parseRow(line: number, r: Record<string, unknown>, wrappedKeys: boolean): DeviceImportRow {
  if (r['__invalid']) throw new ParseError('device', 'expected an object');
  const fields = r['__fields'] as { expected: number; got: number } | undefined;
  if (fields) throw new ParseError('fields', `expected ${fields.expected} (one per header column), got ${fields.got}`);
  const devEUI = parseEUI64(r['dev_eui'], 'dev_eui');
  const joinEUI = parseEUI64(r['join_eui'], 'join_eui');
  const macVersion = parseImportMACVersion(r['mac_version']);
  const legacy = isLegacy(macVersion);
  const claim = {
    ...(present(r['owner_token']) ? { ownerToken: parseOwnerToken(typeof r['owner_token'] === 'string' ? r['owner_token'].trim() : r['owner_token'], 'owner_token') } : {}),
    ...(present(r['profile_id']) ? { profileID: parseProfileID(typeof r['profile_id'] === 'string' ? r['profile_id'].trim() : r['profile_id'], 'profile_id') } : {}),
  };
  if (wrappedKeys) {
    const appKey = present(r['app_key']) ? wrappedKey(r['app_key'], 'app_key') : undefined;
    const nwkKey = present(r['nwk_key']) ? wrappedKey(r['nwk_key'], 'nwk_key') : undefined;
    const rootKeys = rootKeysOf<Buffer, WrappedRootKeys>(
      macVersion,
      legacy,
      appKey,
      nwkKey,
      (a, b) => a.equals(b),
      (k) => ({ kind: 'legacy', wrapped: true, appKey: k }),
      (a, n) => ({ kind: '1.1', wrapped: true, appKey: a, nwkKey: n }),
    );
    return { line, devEUI, joinEUI, macVersion, rootKeys, ...claim };
  }
  const appKey = present(r['app_key']) ? clearKey(r['app_key'], 'app_key') : undefined;
  const nwkKey = present(r['nwk_key']) ? clearKey(r['nwk_key'], 'nwk_key') : undefined;
  const rootKeys = rootKeysOf<AES128Key, RootKeys>(
    macVersion,
    legacy,
    appKey,
    nwkKey,
    (a, b) => a.equals(b),
    (k) => ({ kind: 'legacy', appKey: k }),
    (a, n) => ({ kind: '1.1', appKey: a, nwkKey: n }),
  );
  return { line, devEUI, joinEUI, macVersion, rootKeys, ...claim };
}

function rootKeysOf<K, R>(macVersion: MACVersion, legacy: boolean, appKey: K | undefined, nwkKey: K | undefined, same: (a: K, b: K) => boolean, legacyKeys: (k: K) => R, keys11: (a: K, n: K) => R): R {
  if (legacy) {
    if (appKey && nwkKey && !same(appKey, nwkKey)) {
      throw new ParseError('nwk_key', `a LoRaWAN ${macVersion} device has one root key (app_key): leave nwk_key empty`);
    }
    const only = appKey ?? nwkKey;
    if (!only) throw new ParseError('app_key', `missing (the root key of a LoRaWAN ${macVersion} device)`);
    return legacyKeys(only);
  }
  if (!appKey) throw new ParseError('app_key', 'missing (LoRaWAN 1.1 devices have AppKey and NwkKey)');
  if (!nwkKey) throw new ParseError('nwk_key', 'missing (LoRaWAN 1.1 devices have AppKey and NwkKey)');
  return keys11(appKey, nwkKey);
}

/** A clear key (32 hex digits); 48 hex digits look like a wrapped key, and are said to. */
function clearKey(value: unknown, field: string): AES128Key {
  try {
    return AES128Key.fromHex(value, field);
  } catch (e) {
    if (e instanceof ParseError && typeof value === 'string' && value.trim().replace(/^0x/i, '').length === 48) {
      throw new ParseError(field, 'expected a clear key (32 hex digits), got 48 hex digits: a key wrapped under a transport KEK? then give the KEK with --transport-kek-file');
    }
    throw e;
  }
}

/** A key RFC 3394-wrapped under the transport KEK: 24 bytes. A clear key here is refused, never used. */
function wrappedKey(value: unknown, field: string): Buffer {
  const bytes = parseHex(value, field);
  if (bytes.length === 16) {
    bytes.fill(0);
    throw new ParseError(field, 'is a clear key (32 hex digits), but with --transport-kek-file every key must be wrapped under the transport KEK (RFC 3394, 48 hex digits)');
  }
  if (bytes.length !== 24) throw new ParseError(field, `expected a key wrapped under the transport KEK (RFC 3394: 24 bytes, 48 hex digits), got ${bytes.length} bytes`);
  return bytes;
}

/**
 * parseMACVersion quotes what it was given; in an import file that may be a key (columns
 * swapped or shifted), so a value that could be one is not repeated.
 */
function parseImportMACVersion(value: unknown): MACVersion {
  try {
    return parseMACVersion(value, 'mac_version');
  } catch (e) {
    if (!(e instanceof ParseError) || typeof value !== 'string' || mayQuote(value)) throw e;
    throw new ParseError('mac_version', `unknown LoRaWAN MAC version (expected one of ${MAC_VERSIONS.join(', ')})`);
  }
}

/** Short, and not a run of hex digits (with the separators hex input allows) long enough to be part of a key. */
function mayQuote(value: string): boolean {
  return value.length <= 20 && !/[0-9a-f]{8}/i.test(value.replace(/[-:\s]|0x/gi, ''));
}

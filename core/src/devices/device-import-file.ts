import { parse as parseCSV } from 'csv-parse/sync';
import type { RootKeys } from '../keys/key-vault';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { isLegacy, parseMACVersion, type MACVersion } from '../lorawan/mac-version';
import { ParseError } from '../lorawan/parse-error';

/** One device of an import file, parsed: its root keys are AES128Key objects (never printable). */
export interface DeviceImportRow {
  /** Where it was: the CSV line number, or the JSON array entry (1-based). */
  readonly line: number;
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly macVersion: MACVersion;
  readonly rootKeys: RootKeys;
}

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

/** The file has bad rows: all of them are listed, and nothing is imported. */
export class DeviceImportError extends Error {
  override readonly name = 'DeviceImportError';
  constructor(
    readonly unit: 'line' | 'entry',
    readonly problems: readonly ImportProblem[],
  ) {
    super(`${problems.length} bad ${unit}${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${unit} ${p.line}: ${p.message}`).join('\n')}`);
  }
}

export const IMPORT_COLUMNS = ['dev_eui', 'join_eui', 'mac_version', 'app_key', 'nwk_key'] as const;
const REQUIRED_COLUMNS = ['dev_eui', 'join_eui', 'mac_version', 'app_key'] as const;
const MAX_PROBLEMS = 100;

export type ImportFormat = 'csv' | 'json';

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
export function parseDeviceImportFile(content: string, format: ImportFormat): DeviceImportRow[] {
  const records = format === 'csv' ? readCSV(content) : readJSON(content);
  const unit = format === 'csv' ? 'line' : 'entry';
  const rows: DeviceImportRow[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  for (const { line, record } of records) {
    try {
      const row = parseRow(line, record);
      const first = seen.get(row.devEUI);
      if (first !== undefined) throw new ParseError('dev_eui', `${row.devEUI} is already in ${unit} ${first}`);
      seen.set(row.devEUI, line);
      rows.push(row);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      problems.push({ line, message: e.message });
      if (problems.length >= MAX_PROBLEMS) break;
    }
  }
  if (problems.length > 0) throw new DeviceImportError(unit, problems);
  if (rows.length === 0) throw new DeviceImportError(unit, [{ line: 1, message: 'no devices in the file' }]);
  return rows;
}

function readCSV(content: string): { line: number; record: Record<string, unknown> }[] {
  let parsed: { record: Record<string, string>; info: { lines: number } }[];
  try {
    parsed = parseCSV(content, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, info: true, comment: '#' });
  } catch (e) {
    const err = e as { lines?: number; message?: string };
    throw new DeviceImportError('line', [{ line: err.lines ?? 1, message: `not valid CSV (${String(err.message).split('\n')[0]})` }]);
  }
  const header = content.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  const columns = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DeviceImportError('line', [{ line: 1, message: `the header lacks ${missing.join(', ')} (expected ${IMPORT_COLUMNS.join(',')})` }]);
  }
  return parsed.map((p) => ({ line: p.info.lines, record: p.record }));
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

function parseRow(line: number, r: Record<string, unknown>): DeviceImportRow {
  if (r['__invalid']) throw new ParseError('device', 'expected an object');
  const devEUI = parseEUI64(r['dev_eui'], 'dev_eui');
  const joinEUI = parseEUI64(r['join_eui'], 'join_eui');
  const macVersion = parseMACVersion(r['mac_version'], 'mac_version');
  const appKey = present(r['app_key']) ? AES128Key.fromHex(r['app_key'], 'app_key') : undefined;
  const nwkKey = present(r['nwk_key']) ? AES128Key.fromHex(r['nwk_key'], 'nwk_key') : undefined;
  let rootKeys: RootKeys;
  if (isLegacy(macVersion)) {
    if (appKey && nwkKey && !appKey.equals(nwkKey)) {
      throw new ParseError('nwk_key', `a LoRaWAN ${macVersion} device has one root key (app_key): leave nwk_key empty`);
    }
    const only = appKey ?? nwkKey;
    if (!only) throw new ParseError('app_key', `missing (the root key of a LoRaWAN ${macVersion} device)`);
    rootKeys = { kind: 'legacy', appKey: only };
  } else {
    if (!appKey) throw new ParseError('app_key', 'missing (LoRaWAN 1.1 devices have AppKey and NwkKey)');
    if (!nwkKey) throw new ParseError('nwk_key', 'missing (LoRaWAN 1.1 devices have AppKey and NwkKey)');
    rootKeys = { kind: '1.1', appKey, nwkKey };
  }
  return { line, devEUI, joinEUI, macVersion, rootKeys };
}

import * as path from 'node:path';
import { ParseError } from '../lorawan/parse-error';

/**
 * The backend settings every `joinery` command shares (design.md, "Selecting backends"):
 * where the data lives, which store and which key vault.
 */
export interface BackendSettings {
  readonly dataDir: string;
  readonly store: StoreLocation;
  readonly vault: VaultSettings;
}

export type StoreLocation = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export type VaultSettings = { readonly kind: 'software' } | { readonly kind: 'pkcs11'; readonly library: string | undefined; readonly tokenLabel: string | undefined; readonly pinFile: string | undefined };

export interface RawBackendSettings {
  readonly dataDir?: string;
  readonly store?: string;
  readonly vault?: string;
  readonly pkcs11Lib?: string;
  readonly pkcs11Token?: string;
  readonly pkcs11PinFile?: string;
}

export const DEFAULT_DATA_DIR = './data';
export const DATABASE_FILE = 'joinery.db';

export function parseBackendSettings(raw: RawBackendSettings): BackendSettings {
  const dataDir = path.resolve(raw.dataDir ?? DEFAULT_DATA_DIR);
  return { dataDir, store: parseStoreLocation(raw.store, dataDir), vault: parseVaultSettings(raw) };
}

function parseStoreLocation(value: string | undefined, dataDir: string): StoreLocation {
  if (value === undefined || value === '') return { kind: 'sqlite', path: path.join(dataDir, DATABASE_FILE) };
  if (value.startsWith('sqlite:')) {
    const p = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (p === '') throw new ParseError('--store', 'sqlite: needs a file path, e.g. sqlite:./data/joinery.db');
    return { kind: 'sqlite', path: path.resolve(p) };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) return { kind: 'postgres', url: value };
  throw new ParseError('--store', `expected sqlite:<path> or postgres://..., got "${value}"`);
}

function parseVaultSettings(raw: RawBackendSettings): VaultSettings {
  const kind = (raw.vault ?? 'software').trim().toLowerCase();
  if (kind === 'software') return { kind: 'software' };
  if (kind === 'pkcs11') return { kind: 'pkcs11', library: raw.pkcs11Lib, tokenLabel: raw.pkcs11Token, pinFile: raw.pkcs11PinFile };
  throw new ParseError('--vault', `expected software or pkcs11, got "${raw.vault}"`);
}

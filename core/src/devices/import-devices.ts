import type { KeyHandle, KeyVault } from '../keys/key-vault';
import { WrappedKeyError } from '../keys/wrapped-key-error';
import { ParseError } from '../lorawan/parse-error';
import { isLegacy } from '../lorawan/mac-version';
import type { NewDevice } from '../store/device';
import { DeviceExistsError, type Store } from '../store/store';
import { DeviceImportError, type DeviceImportRow, type ImportProblem, type ImportUnit } from './device-import-file';

export interface ImportSummary {
  readonly imported: number;
  readonly legacy: number;
  readonly v11: number;
  readonly nsPeer: string;
  readonly asPeer: string | null;
}

const MAX_PROBLEMS = 100;

/**
 * Seals every device's root keys in the vault (root keys wrapped under a transport KEK are
 * unwrapped by the vault, with `options.transportKEK`) and inserts the whole batch bound to a
 * network server (and optionally an application server): all of it, or nothing. Devices that
 * already exist refuse the batch (the insert's primary key finds them), each one named by its
 * `unit` (line or entry) in the file.
 */
export async function importDevices(
  deps: { readonly store: Store; readonly vault: KeyVault },
  rows: readonly DeviceImportRow[],
  binding: { readonly nsPeer: string; readonly asPeer: string | null },
  unit: ImportUnit = 'line',
  options: { readonly transportKEK?: KeyHandle } = {},
): Promise<ImportSummary> {
  const ns = await deps.store.getPeer(binding.nsPeer);
  if (!ns || ns.kind !== 'ns') throw new ParseError('--ns', `no network server named ${binding.nsPeer} (add it with: joinery ns add)`);
  if (binding.asPeer !== null) {
    const as = await deps.store.getPeer(binding.asPeer);
    if (!as || as.kind !== 'as') throw new ParseError('--as', `no application server named ${binding.asPeer} (add it with: joinery as add)`);
  }
  const devices: NewDevice[] = [];
  const unwrapProblems: ImportProblem[] = [];
  // Nothing sealed stays behind when the batch is refused (a PKCS#11 vault's token objects).
  const discard = async (): Promise<void> => {
    for (const d of devices) await deps.vault.discardRootKeys(d.sealedRootKeys, d.devEUI).catch(() => undefined);
  };
  try {
    for (const row of rows) {
      let sealedRootKeys: Buffer;
      if ('wrapped' in row.rootKeys) {
        if (!options.transportKEK) throw new TypeError('root keys wrapped under a transport KEK need the transport KEK');
        try {
          sealedRootKeys = await deps.vault.unwrapRootKeys(row.rootKeys, options.transportKEK, row.devEUI);
        } catch (e) {
          if (!(e instanceof WrappedKeyError)) throw e;
          unwrapProblems.push({ line: row.line, message: e.message });
          if (unwrapProblems.length >= MAX_PROBLEMS) break;
          continue;
        }
      } else {
        sealedRootKeys = await deps.vault.sealRootKeys(row.rootKeys, row.devEUI);
      }
      devices.push({
        devEUI: row.devEUI,
        joinEUI: row.joinEUI,
        macVersion: row.macVersion,
        sealedRootKeys,
        vaultKind: deps.vault.kind,
        nsPeer: binding.nsPeer,
        asPeer: binding.asPeer,
      });
    }
    if (unwrapProblems.length > 0) throw new DeviceImportError(unit, unwrapProblems);
    await deps.store.insertDevices(devices);
  } catch (e) {
    await discard();
    if (e instanceof DeviceExistsError) {
      // The primary key found it (no read per row before the insert): name every device of the
      // file that exists (up to MAX_PROBLEMS), the one the insert met at least.
      const existing: ImportProblem[] = [];
      for (const row of rows) {
        if (existing.length >= MAX_PROBLEMS) break;
        if (row.devEUI === e.devEUI || (await deps.store.getDevice(row.devEUI))) existing.push({ line: row.line, message: `device ${row.devEUI} already exists` });
      }
      throw new DeviceImportError(unit, existing);
    }
    throw e;
  }
  const legacy = rows.filter((r) => isLegacy(r.macVersion)).length;
  return { imported: rows.length, legacy, v11: rows.length - legacy, nsPeer: binding.nsPeer, asPeer: binding.asPeer };
}

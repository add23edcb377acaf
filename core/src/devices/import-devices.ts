import type { KeyVault } from '../keys/key-vault';
import { ParseError } from '../lorawan/parse-error';
import { isLegacy } from '../lorawan/mac-version';
import type { NewDevice } from '../store/device';
import { DeviceExistsError, type Store } from '../store/store';
import { DeviceImportError, type DeviceImportRow } from './device-import-file';

export interface ImportSummary {
  readonly imported: number;
  readonly legacy: number;
  readonly v11: number;
  readonly nsPeer: string;
  readonly asPeer: string | null;
}

/**
 * Seals every device's root keys in the vault and inserts the whole batch bound to a network
 * server (and optionally an application server): all of it, or nothing.
 */
export async function importDevices(
  deps: { readonly store: Store; readonly vault: KeyVault },
  rows: readonly DeviceImportRow[],
  binding: { readonly nsPeer: string; readonly asPeer: string | null },
): Promise<ImportSummary> {
  const ns = await deps.store.getPeer(binding.nsPeer);
  if (!ns || ns.kind !== 'ns') throw new ParseError('--ns', `no network server named ${binding.nsPeer} (add it with: joinery ns add)`);
  if (binding.asPeer !== null) {
    const as = await deps.store.getPeer(binding.asPeer);
    if (!as || as.kind !== 'as') throw new ParseError('--as', `no application server named ${binding.asPeer} (add it with: joinery as add)`);
  }
  const devices: NewDevice[] = [];
  for (const row of rows) {
    devices.push({
      devEUI: row.devEUI,
      joinEUI: row.joinEUI,
      macVersion: row.macVersion,
      sealedRootKeys: await deps.vault.sealRootKeys(row.rootKeys, row.devEUI),
      vaultKind: deps.vault.kind,
      nsPeer: binding.nsPeer,
      asPeer: binding.asPeer,
    });
  }
  try {
    await deps.store.insertDevices(devices);
  } catch (e) {
    if (e instanceof DeviceExistsError) {
      const row = rows.find((r) => r.devEUI === e.devEUI);
      throw new DeviceImportError('line', [{ line: row?.line ?? 0, message: `device ${e.devEUI} already exists; nothing was imported` }]);
    }
    throw e;
  }
  const legacy = rows.filter((r) => isLegacy(r.macVersion)).length;
  return { imported: rows.length, legacy, v11: rows.length - legacy, nsPeer: binding.nsPeer, asPeer: binding.asPeer };
}

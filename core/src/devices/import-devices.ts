import type { KeyHandle, KeyVault } from '../keys/key-vault';
import { WrappedKeyError } from '../keys/wrapped-key-error';
import { ParseError } from '../lorawan/parse-error';
import { isLegacy } from '../lorawan/mac-version';
import { DEFAULT_PROFILE_ID, generateOwnerToken, hashOwnerToken, qrPayload, type OwnerToken, type ProfileID } from '../claims/owner-token';
import type { EUI64 } from '../lorawan/identifiers';
import { auditEvent, type AuditContext } from '../store/audit-event';
import type { NewDevice } from '../store/device';
import type { TenantID } from '../tenants/tenant';
import { DeviceExistsError, type Store } from '../store/store';
import { DeviceImportError, type DeviceImportRow, type ImportProblem, type ImportUnit } from './device-import-file';

export interface ImportSummary {
  readonly imported: number;
  readonly legacy: number;
  readonly v11: number;
  readonly nsPeer: string | null;
  readonly asPeer: string | null;
  /** Pre-provisioned devices: each one's owner token and TR005 QR payload (shown once). */
  readonly labels: readonly DeviceLabel[];
}

/** What goes on a pre-provisioned device's label. */
export interface DeviceLabel {
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly profileID: ProfileID;
  readonly ownerToken: OwnerToken;
  readonly qrPayload: string;
}

/**
 * Where imported devices go: bound to a network server (and application server), the
 * operator's own devices (the local CLI's `--ns`); or pre-provisioned by a manufacturer,
 * unclaimed, each with an owner token (the file's `owner_token`, else generated).
 */
export type ImportTarget =
  | { readonly kind: 'bound'; readonly nsPeer: string; readonly asPeer: string | null }
  | { readonly kind: 'pre-provisioned'; readonly manufacturer: TenantID };

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
  target: ImportTarget,
  unit: ImportUnit = 'line',
  options: { readonly transportKEK?: KeyHandle; readonly audit?: AuditContext } = {},
): Promise<ImportSummary> {
  if (target.kind === 'bound') {
    const ns = await deps.store.getPeer(target.nsPeer);
    if (!ns || ns.kind !== 'ns') throw new ParseError('--ns', `no network server named ${target.nsPeer} (add it with: joinery ns add)`);
    if (target.asPeer !== null) {
      const as = await deps.store.getPeer(target.asPeer);
      if (!as || as.kind !== 'as') throw new ParseError('--as', `no application server named ${target.asPeer} (add it with: joinery as add)`);
    }
  }
  const labels: DeviceLabel[] = [];
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
      const base = { devEUI: row.devEUI, joinEUI: row.joinEUI, macVersion: row.macVersion, sealedRootKeys, vaultKind: deps.vault.kind };
      if (target.kind === 'bound') {
        devices.push({ ...base, nsPeer: target.nsPeer, asPeer: target.asPeer });
      } else {
        const ownerToken = row.ownerToken ?? generateOwnerToken();
        const profileID = row.profileID ?? DEFAULT_PROFILE_ID;
        labels.push({ devEUI: row.devEUI, joinEUI: row.joinEUI, profileID, ownerToken, qrPayload: qrPayload(row.joinEUI, row.devEUI, profileID, ownerToken) });
        devices.push({ ...base, nsPeer: null, asPeer: null, ownership: { manufacturer: target.manufacturer, owner: null, ownerTokenHash: hashOwnerToken(row.devEUI, ownerToken), profileID } });
      }
    }
    if (unwrapProblems.length > 0) throw new DeviceImportError(unit, unwrapProblems);
    const detail: Record<string, string | number | boolean | null> =
      target.kind === 'bound'
        ? { devices: devices.length, networkServer: target.nsPeer, applicationServer: target.asPeer, wrapped: options.transportKEK !== undefined, first: devices[0]?.devEUI ?? null }
        : { devices: devices.length, manufacturer: target.manufacturer, wrapped: options.transportKEK !== undefined, first: devices[0]?.devEUI ?? null };
    await deps.store.insertDevices(devices, options.audit ? auditEvent(options.audit, 'device.import', null, detail) : undefined);
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
  return {
    imported: rows.length,
    legacy,
    v11: rows.length - legacy,
    nsPeer: target.kind === 'bound' ? target.nsPeer : null,
    asPeer: target.kind === 'bound' ? target.asPeer : null,
    labels,
  };
}

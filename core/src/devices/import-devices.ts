import type { KeyHandle, KeyVault } from '../keys/key-vault';
import { WrappedKeyError } from '../keys/wrapped-key-error';
import { ParseError } from '../lorawan/parse-error';
import { isLegacy } from '../lorawan/mac-version';
import { DEFAULT_PROFILE_ID, generateOwnerToken, weakOwnerTokenProblem, hashOwnerToken, qrPayload, type OwnerToken, type ProfileID } from '../claims/owner-token';
import type { EUI64 } from '../lorawan/identifiers';
import { auditEvent, type AuditContext } from '../store/audit-event';
import type { NewDevice } from '../store/device';
import type { TenantID } from '../tenants/tenant';
import type { DeviceRegistry } from '../store/ports/device-registry';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { DeviceExistsError } from '../store/store-errors';
import { DeviceImportError, type DeviceImportRow, type ImportProblem, type ImportUnit } from './device-import-file';

export interface ImportSummary {
  readonly imported: number;
  readonly legacy: number;
  readonly v11: number;
  readonly nsPeer: string | null;
  readonly asPeer: string | null;
  /** Pre-provisioned devices: each one's owner token and TR005 QR payload (shown once). */
  readonly labels: readonly DeviceLabel[];
  /** With `skipExisting`: the devices of the file already in the store, left as they are (the first MAX_PROBLEMS named). */
  readonly skipped: { readonly count: number; readonly first: readonly SkippedDevice[] };
}

/** A device of the file not imported: its DevEUI is a device already. */
export interface SkippedDevice {
  readonly line: number;
  readonly devEUI: EUI64;
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
  { readonly kind: 'bound'; readonly nsPeer: string; readonly asPeer: string | null } | { readonly kind: 'pre-provisioned'; readonly manufacturer: TenantID; readonly allowWeakOwnerTokens?: boolean };

const MAX_PROBLEMS = 100;

/** Rows sealed and inserted at a time: only these are held (a file of a million devices is streamed). */
const CHUNK = 5_000;

/**
 * Seals every device's root keys in the vault (root keys wrapped under a transport KEK are
 * unwrapped by the vault, with `options.transportKEK`) and inserts the whole batch bound to a
 * network server (and optionally an application server): all of it, or nothing. The rows come
 * as an array or as chunks (a file read as a stream, see streamDeviceImportCSV): they are
 * sealed and inserted a chunk at a time inside the store's one transaction, so a large file
 * is never held whole. Devices that already exist refuse the batch (the insert's primary key
 * finds them), each one named by its `unit` (line or entry) in the file.
 */
export async function importDevices(
  deps: { readonly store: DeviceRegistry & PeerRegistry; readonly vault: KeyVault },
  rows: ImportRows,
  target: ImportTarget,
  unit: ImportUnit = 'line',
  options: ImportOptions = {},
): Promise<ImportSummary> {
  if (target.kind === 'bound') {
    const ns = await deps.store.getPeer(target.nsPeer);
    if (!ns || ns.kind !== 'ns') throw new ParseError('--ns', `no network server named ${target.nsPeer} (add it with: joinery ns add)`);
    if (target.asPeer !== null) {
      const as = await deps.store.getPeer(target.asPeer);
      if (!as || as.kind !== 'as') throw new ParseError('--as', `no application server named ${target.asPeer} (add it with: joinery as add)`);
    }
  }
  // With skipExisting, another import may insert a device of this file between the existence
  // check of its chunk and the insert (the check reads what is committed; PostgreSQL's insert
  // then waits for that import and finds the key taken, and the whole transaction is rolled
  // back). Nothing of this import was written: it is run again, from a new read of the rows,
  // and the devices the other import inserted are now skipped like any that existed before.
  const fresh = typeof rows === 'function' ? rows : Symbol.asyncIterator in rows ? null : () => rows;
  for (let attempt = 1; ; attempt++) {
    const again = options.skipExisting === true && fresh !== null && attempt < MAX_RACE_ATTEMPTS;
    try {
      return await importOnce(deps, attempt === 1 && typeof rows !== 'function' ? rows : fresh!(), target, unit, options, again);
    } catch (e) {
      if (!(e instanceof ImportRaceError)) throw e;
    }
  }
}

/**
 * The rows: in memory, a stream (read once), or a function giving a new stream of the same rows
 * each time it is called (a file read again: what a streamed import with skipExisting needs to
 * be run again after losing a race, see importDevices).
 */
export type ImportRows = readonly DeviceImportRow[] | AsyncIterable<readonly DeviceImportRow[]> | (() => AsyncIterable<readonly DeviceImportRow[]>);

export interface ImportOptions {
  readonly transportKEK?: KeyHandle;
  readonly audit?: AuditContext;
  readonly skipExisting?: boolean;
  /** Told the rows of the file handled so far (sealed, or skipped), after each chunk (from 0 again when the import is run again). */
  readonly onProgress?: (rows: number) => void;
}

/** Times an import with skipExisting is run when other imports keep inserting its devices first. */
const MAX_RACE_ATTEMPTS = 5;

/** With skipExisting: a device of this import was inserted by another one meanwhile (nothing of this one was written). */
class ImportRaceError extends Error {
  override readonly name = 'ImportRaceError';
}

async function importOnce(
  deps: { readonly store: DeviceRegistry & PeerRegistry; readonly vault: KeyVault },
  rows: readonly DeviceImportRow[] | AsyncIterable<readonly DeviceImportRow[]>,
  target: ImportTarget,
  unit: ImportUnit,
  options: ImportOptions,
  /** A device inserted by another import meanwhile is an ImportRaceError (the caller runs the import again). */
  raceIsRetried: boolean,
): Promise<ImportSummary> {
  const streamed = Symbol.asyncIterator in rows;
  const source = (streamed ? rows : chunksOf(rows))[Symbol.asyncIterator]();
  const labels: DeviceLabel[] = [];
  const problems: ImportProblem[] = [];
  // What a vault keeps outside the blob (a PKCS#11 vault's token objects) is discarded when the
  // batch is refused; a software blob that is not stored is gone, so nothing is kept for it.
  const sealedElsewhere: Array<{ readonly sealed: Buffer; readonly devEUI: EUI64 }> = [];
  const keepsObjects = deps.vault.kind !== 'software';
  let legacy = 0;
  let first: EUI64 | null = null;
  const skipped: SkippedDevice[] = [];
  let skippedCount = 0;
  let handled = 0;
  /** The chunk being sealed and inserted (the one a DeviceExistsError came from). */
  let current: readonly DeviceImportRow[] = [];

  async function* sealed(): AsyncGenerator<NewDevice[]> {
    for (let next = await source.next(); !next.done; next = await source.next()) {
      current = next.value;
      const devices: NewDevice[] = [];
      // One query a chunk: the rows whose DevEUI is a device already are left out, and named.
      const existing = options.skipExisting ? await deps.store.existingDevEUIs(current.map((r) => r.devEUI)) : null;
      for (const row of current) {
        if (existing?.has(row.devEUI)) {
          skippedCount++;
          if (skipped.length < MAX_PROBLEMS) skipped.push({ line: row.line, devEUI: row.devEUI });
          continue;
        }
        let sealedRootKeys: Buffer;
        if ('sealed' in row.rootKeys) {
          // Sealed on the parsing thread: only by a vault of the same kind (and master key).
          if (row.rootKeys.vaultKind !== deps.vault.kind) throw new TypeError(`root keys sealed by a ${row.rootKeys.vaultKind} vault cannot be imported into a ${deps.vault.kind} vault`);
          sealedRootKeys = row.rootKeys.sealed;
        } else if ('wrapped' in row.rootKeys) {
          if (!options.transportKEK) throw new TypeError('root keys wrapped under a transport KEK need the transport KEK');
          try {
            sealedRootKeys = await deps.vault.unwrapRootKeys(row.rootKeys, options.transportKEK, row.devEUI);
          } catch (e) {
            if (!(e instanceof WrappedKeyError)) throw e;
            problems.push({ line: row.line, message: e.message });
            if (problems.length >= MAX_PROBLEMS) throw new DeviceImportError(unit, problems);
            continue;
          }
        } else {
          sealedRootKeys = await deps.vault.sealRootKeys(row.rootKeys, row.devEUI);
        }
        if (keepsObjects) sealedElsewhere.push({ sealed: sealedRootKeys, devEUI: row.devEUI });
        if (isLegacy(row.macVersion)) legacy++;
        first ??= row.devEUI;
        const base = { devEUI: row.devEUI, joinEUI: row.joinEUI, macVersion: row.macVersion, sealedRootKeys, vaultKind: deps.vault.kind };
        if (target.kind === 'bound') {
          devices.push({ ...base, nsPeer: target.nsPeer, asPeer: target.asPeer });
        } else {
          const weak = row.ownerToken === undefined ? null : weakOwnerTokenProblem(row.ownerToken, target.allowWeakOwnerTokens === true);
          if (weak !== null) {
            problems.push({ line: row.line, message: weak });
            if (problems.length >= MAX_PROBLEMS) throw new DeviceImportError(unit, problems);
            continue;
          }
          const ownerToken = row.ownerToken ?? generateOwnerToken();
          const profileID = row.profileID ?? DEFAULT_PROFILE_ID;
          labels.push({ devEUI: row.devEUI, joinEUI: row.joinEUI, profileID, ownerToken, qrPayload: qrPayload(row.joinEUI, row.devEUI, profileID, ownerToken) });
          devices.push({ ...base, nsPeer: null, asPeer: null, ownership: { manufacturer: target.manufacturer, owner: null, ownerTokenHash: hashOwnerToken(row.devEUI, ownerToken), profileID } });
        }
      }
      handled += current.length;
      options.onProgress?.(handled);
      // Nothing is inserted after the first problem (a key that does not unwrap, a weak owner token): the rest is only checked.
      if (problems.length === 0) yield devices;
    }
    if (problems.length > 0) throw new DeviceImportError(unit, problems);
  }

  let imported: number;
  try {
    const audit = options.audit;
    const auditOf =
      audit &&
      ((count: number) => {
        const detail: Record<string, string | number | boolean | null> =
          target.kind === 'bound'
            ? { devices: count, networkServer: target.nsPeer, applicationServer: target.asPeer, wrapped: options.transportKEK !== undefined, first }
            : { devices: count, manufacturer: target.manufacturer, wrapped: options.transportKEK !== undefined, first };
        if (options.skipExisting) detail['skippedExisting'] = skippedCount;
        return auditEvent(audit, 'device.import', null, detail);
      });
    if (streamed) {
      imported = await deps.store.insertDeviceChunks(sealed(), auditOf);
    } else {
      // Rows already in memory (the admin API, pre-provisioned files) are all sealed first, then
      // inserted in one short transaction: a running server's commits never wait for the sealing.
      const all: NewDevice[] = [];
      for await (const chunk of sealed()) all.push(...chunk);
      await deps.store.insertDevices(all, auditOf?.(all.length));
      imported = all.length;
    }
  } catch (e) {
    for (const d of sealedElsewhere) await deps.vault.discardRootKeys(d.sealed, d.devEUI).catch(() => undefined);
    if (e instanceof DeviceExistsError && raceIsRetried && (await deps.store.getDevice(e.devEUI)) !== null) {
      // Not there when this chunk was checked (skipExisting), there now: another import got there first.
      await source.return?.();
      throw new ImportRaceError(e.message);
    }
    if (e instanceof DeviceExistsError) {
      // The primary key found it (no read per row before the insert): name every device of the
      // file that exists (up to MAX_PROBLEMS), the one the insert met at least. Streamed, the
      // chunks before were inserted in the refused transaction: none of theirs existed.
      const existing: ImportProblem[] = [];
      const check = async (chunk: readonly DeviceImportRow[]): Promise<void> => {
        for (const row of chunk) {
          if (existing.length >= MAX_PROBLEMS) return;
          if (row.devEUI === e.devEUI || (await deps.store.getDevice(row.devEUI))) existing.push({ line: row.line, message: `device ${row.devEUI} already exists` });
        }
      };
      await check(streamed ? current : rows);
      for (let next = await source.next(); !next.done && existing.length < MAX_PROBLEMS; next = await source.next()) await check(next.value);
      await source.return?.();
      throw new DeviceImportError(unit, existing);
    }
    // A source that is not read to its end is ended (a file parsed on a thread: the thread).
    await source.return?.();
    throw e;
  }
  return {
    imported,
    legacy,
    v11: imported - legacy,
    nsPeer: target.kind === 'bound' ? target.nsPeer : null,
    asPeer: target.kind === 'bound' ? target.asPeer : null,
    labels,
    skipped: { count: skippedCount, first: skipped },
  };
}

async function* chunksOf<T>(items: readonly T[]): AsyncGenerator<readonly T[]> {
  for (let start = 0; start < items.length; start += CHUNK) yield items.slice(start, start + CHUNK);
}

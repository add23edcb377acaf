import type { OwnerToken, ProfileID } from '../claims/owner-token';
import { AES128Key } from '../lorawan/aes128-key';
import type { EUI64 } from '../lorawan/identifiers';
import { isLegacy, type MACVersion } from '../lorawan/mac-version';
import type { DeviceImportRow, ImportProblem, ImportUnit, SealedImportKeys } from './device-import-file';

/**
 * How a chunk's rows carry their root keys: in clear (16 bytes a key), wrapped under a
 * transport KEK (RFC 3394, 24 bytes a key), or sealed already by the parsing thread's software
 * vault (a blob a row, as the store keeps it).
 */
export type KeyForm = 'clear' | 'wrapped' | 'sealed';

/**
 * A chunk of parsed import rows as it crosses from the import's parsing thread: the strings
 * in arrays, the keys in one buffer that is transferred, not copied (and zeroed on both sides
 * once read). Clear or wrapped, a row's keys take `2 × keyLength` bytes: AppKey, then NwkKey
 * (zeros for a LoRaWAN 1.0.x device, whose one root key is its AppKey). Sealed, the buffer
 * holds the rows' blobs one after the other, row i's ending at `sealedEnds[i]`.
 */
export interface RowChunkWire {
  readonly kind: 'chunk';
  readonly keyForm: KeyForm;
  /** keyForm `sealed`: where each row's blob ends in `keys`. */
  readonly sealedEnds?: readonly number[];
  readonly lines: readonly number[];
  readonly devEUIs: readonly string[];
  readonly joinEUIs: readonly string[];
  readonly macVersions: readonly string[];
  /** Present when a row of the chunk has one. */
  readonly ownerTokens?: readonly (string | null)[];
  readonly profileIDs?: readonly (string | null)[];
  readonly keys: Uint8Array;
}

/** What else the parsing thread says: the file's end, its problems, or an error. */
export type ImportThreadMessage =
  RowChunkWire | { readonly kind: 'done' } | { readonly kind: 'problems'; readonly unit: ImportUnit; readonly problems: readonly ImportProblem[] } | { readonly kind: 'error'; readonly message: string };

const keyLength = (form: KeyForm): number => (form === 'wrapped' ? 24 : 16);
const bytesOf = (key: AES128Key | Buffer): Uint8Array => (key instanceof AES128Key ? key.unsafeBytes() : key);
const formOf = (k: DeviceImportRow['rootKeys']): KeyForm => ('sealed' in k ? 'sealed' : 'wrapped' in k ? 'wrapped' : 'clear');

/** Packs rows for the crossing; the rows' clear keys are zeroed (the packed copy is the only one left). */
export function packRows(rows: readonly DeviceImportRow[], keyForm: KeyForm): RowChunkWire {
  for (const r of rows) if (formOf(r.rootKeys) !== keyForm) throw new TypeError(`import row of line ${r.line}: keys ${formOf(r.rootKeys)}, not ${keyForm}`);
  let keys: Uint8Array;
  let sealedEnds: number[] | undefined;
  if (keyForm === 'sealed') {
    const blobs = rows.map((r) => (r.rootKeys as SealedImportKeys).sealed);
    keys = new Uint8Array(blobs.reduce((n, b) => n + b.length, 0));
    sealedEnds = [];
    let at = 0;
    for (const b of blobs) {
      keys.set(b, at);
      at += b.length;
      sealedEnds.push(at);
    }
  } else {
    const length = keyLength(keyForm);
    keys = new Uint8Array(rows.length * 2 * length);
    rows.forEach((r, i) => {
      const at = i * 2 * length;
      const k = r.rootKeys as Exclude<DeviceImportRow['rootKeys'], SealedImportKeys>;
      const appKey = bytesOf(k.appKey);
      keys.set(appKey, at);
      appKey.fill(0);
      if (k.kind === '1.1') {
        const nwkKey = bytesOf(k.nwkKey);
        keys.set(nwkKey, at + length);
        nwkKey.fill(0);
      }
    });
  }
  const withClaim = rows.some((r) => r.ownerToken !== undefined || r.profileID !== undefined);
  return {
    kind: 'chunk',
    keyForm,
    ...(sealedEnds ? { sealedEnds } : {}),
    lines: rows.map((r) => r.line),
    devEUIs: rows.map((r) => r.devEUI),
    joinEUIs: rows.map((r) => r.joinEUI),
    macVersions: rows.map((r) => r.macVersion),
    ...(withClaim ? { ownerTokens: rows.map((r) => r.ownerToken ?? null), profileIDs: rows.map((r) => r.profileID ?? null) } : {}),
    keys,
  };
}

/**
 * The rows of a packed chunk, and the packed keys zeroed. The values were parsed by the
 * parsing thread (the same parser as on this one): they are taken as the types they were
 * parsed to.
 */
export function unpackRows(chunk: RowChunkWire): DeviceImportRow[] {
  const length = keyLength(chunk.keyForm);
  const rows: DeviceImportRow[] = [];
  try {
    for (let i = 0; i < chunk.lines.length; i++) {
      const at = i * 2 * length;
      const macVersion = chunk.macVersions[i] as MACVersion;
      const legacy = isLegacy(macVersion);
      let rootKeys: DeviceImportRow['rootKeys'];
      if (chunk.keyForm === 'sealed') {
        const ends = chunk.sealedEnds!;
        rootKeys = { kind: legacy ? 'legacy' : '1.1', sealed: Buffer.from(chunk.keys.subarray(i === 0 ? 0 : ends[i - 1], ends[i])), vaultKind: 'software' };
      } else {
        const appKey = chunk.keys.subarray(at, at + length);
        const nwkKey = chunk.keys.subarray(at + length, at + 2 * length);
        rootKeys =
          chunk.keyForm === 'wrapped'
            ? legacy
              ? { kind: 'legacy', wrapped: true, appKey: Buffer.from(appKey) }
              : { kind: '1.1', wrapped: true, appKey: Buffer.from(appKey), nwkKey: Buffer.from(nwkKey) }
            : legacy
              ? { kind: 'legacy', appKey: AES128Key.fromBytes(appKey) }
              : { kind: '1.1', appKey: AES128Key.fromBytes(appKey), nwkKey: AES128Key.fromBytes(nwkKey) };
      }
      const ownerToken = chunk.ownerTokens?.[i];
      const profileID = chunk.profileIDs?.[i];
      rows.push({
        line: chunk.lines[i]!,
        devEUI: chunk.devEUIs[i] as EUI64,
        joinEUI: chunk.joinEUIs[i] as EUI64,
        macVersion,
        rootKeys,
        ...(ownerToken != null ? { ownerToken: ownerToken as OwnerToken } : {}),
        ...(profileID != null ? { profileID: profileID as ProfileID } : {}),
      });
    }
  } finally {
    chunk.keys.fill(0);
  }
  return rows;
}

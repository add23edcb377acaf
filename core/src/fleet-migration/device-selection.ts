import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { parseJoinEUIPrefix, type JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { parseMACVersion, type MACVersion } from '../lorawan/mac-version';
import { ParseError } from '../lorawan/parse-error';

/**
 * Which devices a migration moves. Every kind is further limited to devices bound to the
 * migration's source network server (a device is only ever moved away from where it is).
 * New kinds (a tenant's devices) are added as further members of this union.
 */
export type DeviceSelection =
  { readonly kind: 'all' } | { readonly kind: 'dev-euis'; readonly devEUIs: readonly EUI64[] } | { readonly kind: 'filter'; readonly joinEUIPrefix: JoinEUIPrefix | null; readonly macVersion: MACVersion | null };

/** The selection's wire form (JSON in the journal, the admin API's body). */
export interface DeviceSelectionJSON {
  readonly kind: string;
  readonly devEUIs?: readonly string[];
  readonly joinEUIPrefix?: string | null;
  readonly macVersion?: string | null;
}

export function parseDeviceSelection(json: DeviceSelectionJSON, field = 'selection'): DeviceSelection {
  switch (json.kind) {
    case 'all':
      return { kind: 'all' };
    case 'dev-euis': {
      const list = json.devEUIs ?? [];
      if (list.length === 0) throw new ParseError(`${field}.devEUIs`, 'must list at least one DevEUI');
      const devEUIs = [...new Set(list.map((e, i) => parseEUI64(e, `${field}.devEUIs[${i}]`)))];
      return { kind: 'dev-euis', devEUIs };
    }
    case 'filter': {
      const joinEUIPrefix = json.joinEUIPrefix ? parseJoinEUIPrefix(json.joinEUIPrefix, `${field}.joinEUIPrefix`) : null;
      const macVersion = json.macVersion ? parseMACVersion(json.macVersion, `${field}.macVersion`) : null;
      if (!joinEUIPrefix && !macVersion) throw new ParseError(field, 'a filter needs a JoinEUI prefix or a MAC version');
      return { kind: 'filter', joinEUIPrefix, macVersion };
    }
    default:
      throw new ParseError(`${field}.kind`, `must be all, dev-euis or filter (got "${json.kind}")`);
  }
}

export function deviceSelectionJSON(s: DeviceSelection): DeviceSelectionJSON {
  switch (s.kind) {
    case 'all':
      return { kind: 'all' };
    case 'dev-euis':
      return { kind: 'dev-euis', devEUIs: [...s.devEUIs] };
    case 'filter':
      return { kind: 'filter', joinEUIPrefix: s.joinEUIPrefix?.text ?? null, macVersion: s.macVersion };
  }
}

/** One line for humans: what the selection means. */
export function describeSelection(s: DeviceSelection): string {
  switch (s.kind) {
    case 'all':
      return 'every device bound to the source';
    case 'dev-euis':
      return `${s.devEUIs.length} listed device(s) bound to the source`;
    case 'filter':
      return `devices bound to the source with ${[s.joinEUIPrefix ? `JoinEUI in ${s.joinEUIPrefix.text}` : null, s.macVersion ? `LoRaWAN ${s.macVersion}` : null].filter(Boolean).join(' and ')}`;
  }
}

import type { EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';

/**
 * A device as a network server must know it when its joins go to an external Join Server:
 * identifiers and LoRaWAN version only. There is deliberately no key field: root keys stay in
 * the Join Server, and a network server that holds keys for a device joins it itself (and never
 * asks the Join Server). Adapters copy the fields they need by name, never the whole object.
 */
export interface AdapterDevice {
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly macVersion: MACVersion;
  /** A display name on the network server; default: the DevEUI. */
  readonly name?: string;
}

/** A device as the network server reports it. */
export interface RemoteDevice {
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64 | null;
  readonly name: string;
  /** The network server's own id of the device, when it is not the DevEUI (TTS device_id). */
  readonly remoteID: string;
}

export interface DevicePageRequest {
  /** At most this many devices (the adapter may return fewer). */
  readonly pageSize?: number;
  /** From a previous page's `nextPageToken`. */
  readonly pageToken?: string;
}

export interface DevicePage {
  readonly devices: readonly RemoteDevice[];
  /** Absent on the last page. */
  readonly nextPageToken?: string;
}

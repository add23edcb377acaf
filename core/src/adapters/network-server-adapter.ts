import type { VendorDialect } from '../peers/vendor-dialect';
import type { AdapterCapability } from './adapter-capability';
import type { AdapterDevice, DevicePage, DevicePageRequest, RemoteDevice } from './adapter-device';
import type { AdapterSetupInput, RenderedSetup } from './adapter-setup';
import type { RetryPolicy } from './retry';
import type { EUI64 } from '../lorawan/identifiers';
import type { EventWatch } from './network-server-event';

/**
 * One network server vendor, as Joinery drives it: how answers are shaped for it (dialect), the
 * configuration that connects it to Joinery (renderSetup), and its device-management API.
 *
 * Device operations are idempotent: registering a device that is already there succeeds (and
 * returns `created: false`), deregistering one that is not there succeeds too.
 */
export interface NetworkServerAdapter {
  /** The vendor id (`chirpstack`, `the-things-stack`, ...), as in VENDORS. */
  readonly vendor: string;
  readonly capabilities: ReadonlySet<AdapterCapability>;
  readonly dialect: VendorDialect;
  renderSetup(input: AdapterSetupInput): RenderedSetup;
  registerDevice(device: AdapterDevice): Promise<{ readonly created: boolean }>;
  deregisterDevice(devEUI: EUI64): Promise<{ readonly deleted: boolean }>;
  getDevice(devEUI: EUI64): Promise<RemoteDevice | null>;
  listDevices(page?: DevicePageRequest): Promise<DevicePage>;
  /**
   * `local-join`: what makes the network server join this device itself instead of sending its
   * join-requests to Joinery (root keys it holds, a record in its own Join Server), as one line
   * for the operator; null when there is none. Never returns, logs or keeps a key.
   */
  localJoin?(devEUI: EUI64): Promise<string | null>;
  /** `local-join`: removes what localJoin found; false when there was nothing to remove. */
  removeLocalJoin?(devEUI: EUI64): Promise<{ readonly removed: boolean }>;
  /** Join and uplink events of these devices (every device when the list is empty). */
  watch?(devEUIs: readonly EUI64[]): EventWatch;
  /** Releases connections (gRPC channels, HTTP agents). */
  close(): Promise<void>;
}

/**
 * How to reach one network server's API. `options` are the vendor's own settings (application
 * id, tenant, device profile, MQTT broker, ...): each adapter documents and validates its keys.
 * `apiKey` is a secret: adapters send it only as the vendor's auth header and never print it.
 */
export interface AdapterConfig {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly options: Readonly<Record<string, string>>;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * What the operator must know but that fails nothing (a vendor feature the account lacks, a
   * vendor default that will surprise): each adapter says it once. Default: a process warning
   * on stderr.
   */
  readonly warn?: (message: string) => void;
}

/** The config's warning channel, or a process warning on stderr. */
export function adapterWarnings(config: AdapterConfig, vendor: string): (message: string) => void {
  return config.warn ?? ((message) => process.emitWarning(message, { type: 'JoineryAdapterWarning', code: vendor }));
}

/** What an adapter package exports (`module.exports.adapterModule`). */
export interface AdapterModule {
  readonly vendor: string;
  readonly capabilities: ReadonlySet<AdapterCapability>;
  /** The option keys the adapter reads, with a one-line description each. */
  readonly optionHelp: Readonly<Record<string, string>>;
  /** Checks config (throws ParseError naming the bad option) and builds the adapter. */
  createAdapter(config: AdapterConfig): NetworkServerAdapter;
  /** renderSetup without an API connection (`ns add` renders before it can talk to the NS). */
  renderSetup(input: AdapterSetupInput): RenderedSetup;
}

/**
 * Every device on the network server, following pages, each once: an adapter whose vendor
 * makes it start a listing again (an expired page state) may hand a device over twice.
 */
export async function listAllDevices(adapter: NetworkServerAdapter, pageSize = 100): Promise<RemoteDevice[]> {
  const all = new Map<string, RemoteDevice>();
  let pageToken: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 100_000) throw new Error(`${adapter.vendor}: listDevices did not end after 100000 pages`);
    const page = await adapter.listDevices(pageToken === undefined ? { pageSize } : { pageSize, pageToken });
    for (const d of page.devices) if (!all.has(d.devEUI)) all.set(d.devEUI, d);
    if (page.nextPageToken === undefined || page.devices.length === 0) return [...all.values()];
    pageToken = page.nextPageToken;
  }
}

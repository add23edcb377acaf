import {
  dialectOf,
  parseEUI64,
  retryPolicy,
  rateLimiter,
  RESTClient,
  type AdapterCapability,
  type AdapterDevice,
  type AdapterSetupInput,
  type DevicePage,
  type DevicePageRequest,
  type EUI64,
  type EventWatch,
  type NetworkServerAdapter,
  type RemoteDevice,
  type RenderedSetup,
  type RateLimiter,
} from '@joinery/core';
import { ttsHTTP } from './tts-http';
import type { TTSOptions } from './tts-options';
import { renderTTSSetup } from './tts-setup';
import { TTS_MAC_VERSION, TTS_PHY_VERSION, ttsDeviceID } from './tts-versions';
import { watchTTS } from './tts-watch';

export const TTS_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['setup-files', 'devices', 'list-devices', 'watch', 'local-join']);

interface TTSEndDevice {
  ids?: { device_id?: string; dev_eui?: string; join_eui?: string };
  name?: string;
}

/**
 * The Things Stack v3 adapter over its HTTP API. A device exists in three registries: the
 * Identity Server (entity, addresses), the Network Server (OTAA, versions, frequency plan) and
 * the Application Server. `join_server_address` stays empty: the NS finds the Join Server
 * through its interop configuration (the JoinEUI ranges of config.yml).
 */
export class TheThingsStackAdapter implements NetworkServerAdapter {
  readonly vendor = 'the-things-stack';
  readonly capabilities = TTS_CAPABILITIES;
  readonly dialect = dialectOf('the-things-stack');
  private readonly limiter: RateLimiter;
  private readonly rest: RESTClient;

  constructor(private readonly o: TTSOptions) {
    this.limiter = rateLimiter(o.rateLimit);
    const http = ttsHTTP(o.baseURL, o.apiKey);
    this.rest = new RESTClient({ vendor: this.vendor, policy: retryPolicy(o.retry), limiter: this.limiter, request: (config) => http.request(config) });
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderTTSSetup(input);
  }

  private path(registry: '' | 'ns/' | 'as/' | 'js/', deviceID?: string): string {
    const app = encodeURIComponent(this.o.applicationId);
    return `/api/v3/${registry}applications/${app}/devices${deviceID === undefined ? '' : `/${encodeURIComponent(deviceID)}`}`;
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    const id = ttsDeviceID(device.devEUI);
    // Only identifiers and versions, by name: never keys (TTS would join the device itself).
    const ids = { device_id: id, application_ids: { application_id: this.o.applicationId }, dev_eui: device.devEUI.toUpperCase(), join_eui: device.joinEUI.toUpperCase() };
    const is = await this.rest.call('registerDevice', 'POST', this.path(''), {
      data: {
        end_device: { ids, name: device.name ?? device.devEUI, network_server_address: this.o.networkServerAddress, application_server_address: this.o.applicationServerAddress },
        field_mask: { paths: ['name', 'network_server_address', 'application_server_address'] },
      },
      accept: [409],
    });
    // Both PUTs are upserts: re-running after a partial registration completes it.
    await this.rest.call('registerDevice', 'PUT', this.path('ns/', id), {
      data: {
        end_device: {
          ids,
          supports_join: true,
          lorawan_version: TTS_MAC_VERSION[device.macVersion],
          lorawan_phy_version: TTS_PHY_VERSION[device.macVersion],
          frequency_plan_id: this.o.frequencyPlanId,
        },
        field_mask: { paths: ['ids.dev_eui', 'ids.join_eui', 'supports_join', 'lorawan_version', 'lorawan_phy_version', 'frequency_plan_id'] },
      },
    });
    await this.rest.call('registerDevice', 'PUT', this.path('as/', id), {
      data: { end_device: { ids }, field_mask: { paths: ['ids.dev_eui', 'ids.join_eui'] } },
    });
    return { created: is.status !== 409 };
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const id = ttsDeviceID(devEUI);
    await this.rest.call('deregisterDevice', 'DELETE', this.path('as/', id), { accept: [404] });
    await this.rest.call('deregisterDevice', 'DELETE', this.path('ns/', id), { accept: [404] });
    const is = await this.rest.call('deregisterDevice', 'DELETE', this.path('', id), { accept: [404] });
    return { deleted: is.status !== 404 };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    const res = await this.rest.call('getDevice', 'GET', this.path('', ttsDeviceID(devEUI)), { params: { field_mask: 'name' }, accept: [404] });
    if (res.status === 404) return null;
    return remote(res.data as TTSEndDevice);
  }

  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(page.pageSize ?? 100, 1), 1000);
    const p = page.pageToken === undefined ? 1 : Number(page.pageToken);
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`the-things-stack listDevices: bad page token "${page.pageToken}"`);
    const res = await this.rest.call('listDevices', 'GET', this.path(''), { params: { field_mask: 'name', limit, page: p } });
    const list = ((res.data as { end_devices?: TTSEndDevice[] }).end_devices ?? []).map(remote).filter((d): d is RemoteDevice => d !== null);
    const totalHeader = res.headers['x-total-count'];
    const total = typeof totalHeader === 'string' ? Number(totalHeader) : NaN;
    // Without X-Total-Count, a full page means there may be more.
    const more = Number.isFinite(total) ? p * limit < total : list.length === limit;
    return more && list.length > 0 ? { devices: list, nextPageToken: String(p + 1) } : { devices: list };
  }

  /**
   * The Network Server asks the cluster's own Join Server first and falls through to the
   * external ones (Joinery) only when it does not know the device: a device in the cluster Join
   * Server's registry is joined there. Only its identifiers are asked for, never its keys.
   */
  async localJoin(devEUI: EUI64): Promise<string | null> {
    const res = await this.rest.call('localJoin', 'GET', this.path('js/', ttsDeviceID(devEUI)), { params: { field_mask: 'ids' }, accept: [404] });
    return res.status === 404 ? null : "The Things Stack's own Join Server has it and joins it, never asking Joinery";
  }

  async removeLocalJoin(devEUI: EUI64): Promise<{ removed: boolean }> {
    const res = await this.rest.call('removeLocalJoin', 'DELETE', this.path('js/', ttsDeviceID(devEUI)), { accept: [404] });
    return { removed: res.status !== 404 };
  }

  watch(devEUIs: readonly EUI64[]): EventWatch {
    return watchTTS(this.o, devEUIs);
  }

  async close(): Promise<void> {
    // axios keeps no connections open beyond node's default agent.
    await this.limiter.stop();
  }
}

function remote(d: TTSEndDevice): RemoteDevice | null {
  const id = d.ids?.device_id;
  const eui = d.ids?.dev_eui ?? (id?.startsWith('eui-') ? id.slice(4) : undefined);
  if (!id || !eui) return null;
  try {
    return { devEUI: parseEUI64(eui), joinEUI: d.ids?.join_eui ? parseEUI64(d.ids.join_eui) : null, name: d.name ?? id, remoteID: id };
  } catch {
    return null; // a device not identified by an EUI: not one of ours
  }
}

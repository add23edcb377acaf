import {
  dialectOf,
  parseEUI64,
  rateLimiter,
  RESTClient,
  retryPolicy,
  type AdapterCapability,
  type AdapterDevice,
  type AdapterSetupInput,
  type DevicePage,
  type DevicePageRequest,
  type EUI64,
  type NetworkServerAdapter,
  type RateLimiter,
  type RemoteDevice,
  type RenderedSetup,
} from '@joinery/core';
import axios from 'axios';
import { badRequest, isUnknown, loriotError } from './loriot-answers';
import { createWithoutAppKey } from './loriot-appkey';
import type { LoriotOptions } from './loriot-options';
import { renderLoriotSetup } from './loriot-setup';

export const LORIOT_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['devices', 'list-devices']);

/** A device as LORIOT lists it (only the fields the adapter reads). */
interface LoriotDevice {
  _id?: unknown;
  deveui?: unknown;
  appeui?: unknown;
  title?: unknown;
}

/**
 * LORIOT over its Network Server API (`https://{server}.loriot.io/1/nwk/...`), API key as
 * Bearer. Before its first registration the adapter sets the application's `joinServerId`
 * when one is configured (so LORIOT forwards JoinReqs to Joinery); that property "requires
 * tier 2" (403 otherwise): without it, devices are still registered and the operator is told
 * once what to ask LORIOT. Devices are created as OTAA without their root key
 * (createWithoutAppKey).
 */
export class LoriotAdapter implements NetworkServerAdapter {
  readonly vendor = 'loriot';
  readonly capabilities = LORIOT_CAPABILITIES;
  readonly dialect = dialectOf('loriot');
  private readonly limiter: RateLimiter;
  private readonly rest: RESTClient;
  private readonly appPath: string;
  private joinServerSet: Promise<void> | null = null;

  constructor(
    private readonly o: LoriotOptions,
    private readonly warn: (message: string) => void,
  ) {
    this.limiter = rateLimiter(o.rateLimit);
    this.appPath = `/1/nwk/app/${o.applicationId}`;
    // No status throws, no redirects (the key must not follow one to another host), no proxies.
    const http = axios.create({ baseURL: o.baseURL, headers: { Authorization: `Bearer ${o.apiKey}`, Accept: 'application/json' }, validateStatus: () => true, maxRedirects: 0, proxy: false });
    this.rest = new RESTClient({ vendor: this.vendor, policy: retryPolicy(o.retry), limiter: this.limiter, request: (config) => http.request(config), messageOf: loriotError });
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderLoriotSetup(input, this.o.joinServerId);
  }

  /**
   * `POST /1/nwk/app/{APPID}/app {joinServerId}`, once per adapter (a failure other than 403 is
   * retried next time). Without a joinServerId, or refused (403: the account is not tier 2),
   * registration goes on and the operator is told, once, what LORIOT must do.
   */
  private ensureJoinServer(): Promise<void> {
    const app = this.o.applicationId;
    if (this.o.joinServerId === null) {
      this.joinServerSet ??= Promise.resolve(
        this.warn(
          `LORIOT application ${app}: no --join-server-id, so Joinery does not set the application's Join Server. Its devices join through Joinery only once LORIOT has pointed the application's joinServer at Joinery: ask LORIOT support to do so (give them the setup sheet), or give --join-server-id if your account has tier 2.`,
        ),
      );
      return this.joinServerSet;
    }
    const id = this.o.joinServerId;
    this.joinServerSet ??= this.rest.call('config', 'POST', `${this.appPath}/app`, { data: { joinServerId: id }, accept: [403] }).then(
      (res) => {
        if (res.status === 403) {
          this.warn(
            `LORIOT application ${app}: setting joinServerId was refused (403${loriotError(res.data) ? `: ${loriotError(res.data)}` : ''}; LORIOT says it requires tier 2). Devices are registered anyway, but until the application's Join Server is ${id} LORIOT answers their joins itself and they fail: ask LORIOT support to set the application's joinServer to ${id}, or to enable tier 2 for this account.`,
          );
        }
      },
      (err: unknown) => {
        this.joinServerSet = null;
        throw err;
      },
    );
    return this.joinServerSet;
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    await this.ensureJoinServer();
    return createWithoutAppKey(
      (method, url, data, accept) => this.rest.call('registerDevice', method, url, { ...(data !== undefined ? { data } : {}), ...(accept ? { accept } : {}) }),
      this.appPath,
      device,
      this.o.deviceClass,
    );
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const res = await this.rest.call('deregisterDevice', 'DELETE', `${this.appPath}/device/${devEUI.toUpperCase()}`, { accept: [400, 404] });
    if (isUnknown(res)) return { deleted: false };
    if (res.status === 400) throw badRequest('deregisterDevice', res);
    return { deleted: true };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    // Inference: the single-device resource is the one DELETE uses.
    const res = await this.rest.call('getDevice', 'GET', `${this.appPath}/device/${devEUI.toUpperCase()}`, { accept: [400, 404] });
    if (isUnknown(res)) return null;
    if (res.status === 400) throw badRequest('getDevice', res);
    return remote(res.data as LoriotDevice);
  }

  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    // LORIOT serves at most 100 a page (OpenAPI 5.0: perPage maximum 100).
    const perPage = Math.min(Math.max(page.pageSize ?? 100, 1), 100);
    const p = page.pageToken === undefined ? 1 : Number(page.pageToken);
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`loriot listDevices: bad page token "${page.pageToken}"`);
    // `{devices, total, page, perPage}`; pages from 1.
    const res = await this.rest.call('listDevices', 'GET', `${this.appPath}/devices`, { params: { page: p, perPage } });
    const body = res.data as { devices?: LoriotDevice[]; total?: unknown; perPage?: unknown } | null;
    const list = Array.isArray(body?.devices) ? body.devices : [];
    const devices = list.map(remote).filter((d): d is RemoteDevice => d !== null);
    const served = typeof body?.perPage === 'number' && body.perPage > 0 ? body.perPage : perPage;
    const more = typeof body?.total === 'number' ? p * served < body.total : list.length === served;
    return more && list.length > 0 ? { devices, nextPageToken: String(p + 1) } : { devices };
  }

  async close(): Promise<void> {
    await this.limiter.stop();
  }
}

/** A device as LORIOT lists it: its `_id` is the DevEUI. */
function remote(d: LoriotDevice): RemoteDevice | null {
  const eui = typeof d._id === 'string' ? d._id : typeof d.deveui === 'string' ? d.deveui : null;
  if (eui === null) return null;
  try {
    const devEUI = parseEUI64(eui);
    return { devEUI, joinEUI: typeof d.appeui === 'string' ? parseEUI64(d.appeui) : null, name: typeof d.title === 'string' ? d.title : devEUI, remoteID: eui.toUpperCase() };
  } catch {
    return null;
  }
}

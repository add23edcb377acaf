import {
  dialectOf,
  limitedHTTPCall,
  parseEUI64,
  rateLimiter,
  retryPolicy,
  type AdapterCapability,
  type AdapterDevice,
  type AdapterOperation,
  type AdapterSetupInput,
  type DevicePage,
  type DevicePageRequest,
  type EUI64,
  type HTTPAnswer,
  type NetworkServerAdapter,
  type RateLimiter,
  type RemoteDevice,
  type RenderedSetup,
  type RetryPolicy,
} from '@joinery/core';
import axios, { type AxiosInstance, type Method } from 'axios';
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
 * (so LORIOT forwards JoinReqs to Joinery); devices are created as OTAA without their root key
 * (createWithoutAppKey: the one inferred step).
 */
export class LoriotAdapter implements NetworkServerAdapter {
  readonly vendor = 'loriot';
  readonly capabilities = LORIOT_CAPABILITIES;
  readonly dialect = dialectOf('loriot');
  private readonly http: AxiosInstance;
  private readonly policy: RetryPolicy;
  private readonly limiter: RateLimiter;
  private readonly appPath: string;
  private joinServerSet: Promise<void> | null = null;

  constructor(private readonly o: LoriotOptions) {
    this.policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    this.appPath = `/1/nwk/app/${o.applicationId}`;
    // No status throws, no redirects (the key must not follow one to another host), no proxies.
    this.http = axios.create({ baseURL: o.baseURL, headers: { Authorization: `Bearer ${o.apiKey}`, Accept: 'application/json' }, validateStatus: () => true, maxRedirects: 0, proxy: false });
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderLoriotSetup(input, this.o.joinServerId);
  }

  private call(operation: AdapterOperation, method: Method, url: string, extra: { data?: unknown; params?: Record<string, string | number>; accept?: readonly number[] } = {}): Promise<HTTPAnswer> {
    return limitedHTTPCall(this.policy, this.limiter, { vendor: this.vendor, operation, messageOf: loriotError, ...(extra.accept ? { accept: extra.accept } : {}) }, (signal) =>
      this.http.request({ method, url, ...(extra.data !== undefined ? { data: extra.data } : {}), ...(extra.params ? { params: extra.params } : {}), signal, timeout: this.policy.timeoutMs }),
    );
  }

  /** `POST /1/nwk/app/{APPID}/app {joinServerId}`, once per adapter (a failure is retried next time). */
  private ensureJoinServer(): Promise<void> {
    this.joinServerSet ??= this.call('config', 'POST', `${this.appPath}/app`, { data: { joinServerId: this.o.joinServerId } }).then(
      () => undefined,
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
      (method, url, data, accept) => this.call('registerDevice', method, url, { ...(data !== undefined ? { data } : {}), ...(accept ? { accept } : {}) }),
      this.appPath,
      device,
      this.o.deviceClass,
    );
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const res = await this.call('deregisterDevice', 'DELETE', `${this.appPath}/device/${devEUI.toUpperCase()}`, { accept: [404] });
    return { deleted: res.status !== 404 };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    // Inference: the single-device resource is the one DELETE uses.
    const res = await this.call('getDevice', 'GET', `${this.appPath}/device/${devEUI.toUpperCase()}`, { accept: [404] });
    return res.status === 404 ? null : remote(res.data as LoriotDevice);
  }

  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const perPage = Math.min(Math.max(page.pageSize ?? 100, 1), 1000);
    const p = page.pageToken === undefined ? 1 : Number(page.pageToken);
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`loriot listDevices: bad page token "${page.pageToken}"`);
    // `{devices, total, page, perPage}`; pages from 1 (inference: the first page is 1).
    const res = await this.call('listDevices', 'GET', `${this.appPath}/devices`, { params: { page: p, perPage } });
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

function remote(d: LoriotDevice): RemoteDevice | null {
  const eui = typeof d.deveui === 'string' ? d.deveui : typeof d._id === 'string' ? d._id : null;
  if (eui === null) return null;
  try {
    const devEUI = parseEUI64(eui);
    return { devEUI, joinEUI: typeof d.appeui === 'string' ? parseEUI64(d.appeui) : null, name: typeof d.title === 'string' ? d.title : devEUI, remoteID: eui.toUpperCase() };
  } catch {
    return null;
  }
}

/** LORIOT error bodies: `{error}` or `{message}` (inference: both seen in its examples). */
function loriotError(data: unknown): string | undefined {
  const d = data as { error?: unknown; message?: unknown } | null | undefined;
  const m = typeof d?.error === 'string' ? d.error : typeof d?.message === 'string' ? d.message : undefined;
  return m?.slice(0, 500);
}

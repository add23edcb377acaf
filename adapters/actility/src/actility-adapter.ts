import {
  dialectOf,
  httpAttempt,
  parseEUI64,
  rateLimiter,
  retryPolicy,
  withRetry,
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
import type { ActilityOptions } from './actility-options';
import { renderActilitySetup } from './actility-setup';
import { ActilityTokenSource } from './actility-token';

export const ACTILITY_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['devices', 'list-devices']);

/** A device as the DX Core API shows it (only the fields the adapter reads). */
interface ThingParkDevice {
  ref?: unknown;
  EUI?: unknown;
  name?: unknown;
  applicationEUI?: unknown;
}

interface Request {
  readonly method: Method;
  readonly url: string;
  readonly params?: Record<string, string | number>;
  readonly data?: unknown;
  readonly accept?: readonly number[];
}

/**
 * Actility ThingPark over its DX Core API. Every call carries a bearer token from the OAuth2
 * client-credentials grant (ActilityTokenSource). Devices are created for "OTAA with an
 * external Join Server": EUI, JoinEUI (`applicationEUI`) and the peer's device profile,
 * connectivity plan and routing profile, never an application key. The API addresses a device
 * by ThingPark's internal `ref`, so get and delete first resolve the DevEUI to it.
 */
export class ActilityAdapter implements NetworkServerAdapter {
  readonly vendor = 'actility';
  readonly capabilities = ACTILITY_CAPABILITIES;
  readonly dialect = dialectOf('actility');
  private readonly http: AxiosInstance;
  private readonly policy: RetryPolicy;
  private readonly limiter: RateLimiter;
  private readonly tokens: ActilityTokenSource;

  constructor(private readonly o: ActilityOptions) {
    this.policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    // No status throws, no redirects (the token must not follow one to another host), no proxies.
    this.http = axios.create({ headers: { Accept: 'application/json' }, validateStatus: () => true, maxRedirects: 0, proxy: false });
    this.tokens = new ActilityTokenSource(this.http, o.tokenURL, o.clientId, o.clientSecret);
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderActilitySetup(input);
  }

  private call(operation: AdapterOperation, req: Request): Promise<HTTPAnswer> {
    return withRetry(this.policy, { vendor: this.vendor, operation }, (signal) => this.limiter.schedule(() => this.attempt(operation, req, signal)));
  }

  /** One API request with the cached token; on a 401, one more with a fresh token. */
  private async attempt(operation: AdapterOperation, req: Request, signal: AbortSignal): Promise<HTTPAnswer> {
    const send = async (token: string): Promise<HTTPAnswer> =>
      httpAttempt({ vendor: this.vendor, operation, accept: [...(req.accept ?? []), 401] }, () =>
        this.http.request({
          method: req.method,
          url: this.o.baseURL + req.url,
          ...(req.params ? { params: req.params } : {}),
          ...(req.data !== undefined ? { data: req.data } : {}),
          headers: { Authorization: `Bearer ${token}` },
          signal,
          timeout: this.policy.timeoutMs,
        }),
      );
    const token = await this.tokens.get(operation, signal);
    let res = await send(token);
    if (res.status === 401 && !req.accept?.includes(401)) {
      // The token expired or was revoked before its announced expiry: refresh once.
      this.tokens.invalidate(token);
      res = await send(await this.tokens.get(operation, signal));
      if (res.status === 401) return httpAttempt({ vendor: this.vendor, operation }, async () => res);
    }
    return res;
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    // Identifiers and profiles only, by name: no applicationKey (the external Join Server holds
    // it; inference: ThingPark accepts an OTAA device without one when its profile says so).
    const body = {
      name: device.name ?? device.devEUI,
      EUI: device.devEUI.toUpperCase(),
      activationType: 'OTAA',
      applicationEUI: device.joinEUI.toUpperCase(),
      deviceProfileId: this.o.deviceProfileId,
      connectivityPlanId: this.o.connectivityPlanId,
      ...(this.o.routingProfileId !== null ? { routingProfileId: this.o.routingProfileId } : {}),
    };
    // Inference: ThingPark answers 409 for an EUI it already has.
    const res = await this.call('registerDevice', { method: 'POST', url: '/devices', data: body, accept: [409] });
    return { created: res.status !== 409 };
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const found = await this.resolve('deregisterDevice', devEUI);
    if (!found) return { deleted: false };
    const res = await this.call('deregisterDevice', { method: 'DELETE', url: `/devices/${encodeURIComponent(found.remoteID)}`, accept: [404] });
    return { deleted: res.status !== 404 };
  }

  getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    return this.resolve('getDevice', devEUI);
  }

  /**
   * DevEUI → the device (with its `ref`): `GET /devices?deviceEUI=` page by page, keeping only
   * an exact EUI match. Whether the filter is exact is not documented (inference), so the
   * answer is checked and the pages are followed rather than trusting the first result.
   */
  private async resolve(operation: AdapterOperation, devEUI: EUI64): Promise<RemoteDevice | null> {
    for (let pageIndex = 1; ; pageIndex++) {
      const page = await this.page(operation, pageIndex, this.o.pageSize, devEUI);
      const hit = page.devices.find((d) => d.devEUI === devEUI);
      if (hit) return hit;
      if (!page.more) return null;
    }
  }

  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const size = Math.min(Math.max(page.pageSize ?? this.o.pageSize, 1), this.o.pageSize);
    const index = page.pageToken === undefined ? 1 : Number(page.pageToken);
    if (!Number.isInteger(index) || index < 1) throw new RangeError(`actility listDevices: bad page token "${page.pageToken}"`);
    const got = await this.page('listDevices', index, size);
    return got.more ? { devices: got.devices, nextPageToken: String(index + 1) } : { devices: got.devices };
  }

  /**
   * One page of `GET /devices` (inference: `pageIndex` from 1 and `pageSize`, the answer a JSON
   * array or an object with a `briefs`/`devices` array; a full page means there may be more).
   */
  private async page(operation: AdapterOperation, pageIndex: number, pageSize: number, devEUI?: EUI64): Promise<{ devices: RemoteDevice[]; more: boolean }> {
    const res = await this.call(operation, { method: 'GET', url: '/devices', params: { pageIndex, pageSize, ...(devEUI ? { deviceEUI: devEUI.toUpperCase() } : {}) } });
    const data = res.data as ThingParkDevice[] | { briefs?: ThingParkDevice[]; devices?: ThingParkDevice[] } | null;
    const list = Array.isArray(data) ? data : (data?.briefs ?? data?.devices ?? []);
    return { devices: list.map(remote).filter((d): d is RemoteDevice => d !== null), more: list.length >= pageSize };
  }

  async close(): Promise<void> {
    await this.limiter.stop();
  }
}

function remote(d: ThingParkDevice): RemoteDevice | null {
  if (typeof d.EUI !== 'string' || (typeof d.ref !== 'string' && typeof d.ref !== 'number')) return null;
  try {
    const devEUI = parseEUI64(d.EUI);
    const joinEUI = typeof d.applicationEUI === 'string' ? parseEUI64(d.applicationEUI) : null;
    return { devEUI, joinEUI, name: typeof d.name === 'string' ? d.name : devEUI, remoteID: String(d.ref) };
  } catch {
    return null; // not a device identified by an EUI: not one of ours
  }
}

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
import { createNodeRequest, deleteNodeRequest } from './orbiwise-node-calls';
import type { OrbiwiseOptions } from './orbiwise-options';
import { renderOrbiwiseSetup } from './orbiwise-setup';

export const ORBIWISE_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['devices', 'list-devices']);

/** A node as OrbiWAN shows it (only the fields the adapter reads). */
interface OrbiwiseNode {
  deveui?: unknown;
  appeui?: unknown;
  comment?: unknown;
}

/**
 * Orbiwise OrbiWAN over its REST API (`https://host/rest`), bearer token or HTTP Basic.
 * Listing follows `page_state`; create and delete are inferred (orbiwise-node-calls.ts).
 */
export class OrbiwiseAdapter implements NetworkServerAdapter {
  readonly vendor = 'orbiwise';
  readonly capabilities = ORBIWISE_CAPABILITIES;
  readonly dialect = dialectOf('orbiwise');
  private readonly http: AxiosInstance;
  private readonly policy: RetryPolicy;
  private readonly limiter: RateLimiter;

  constructor(private readonly o: OrbiwiseOptions) {
    this.policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    // No status throws, no redirects (credentials must not follow one to another host), no proxies.
    this.http = axios.create({ baseURL: o.baseURL, headers: { Authorization: o.authorization, Accept: 'application/json' }, validateStatus: () => true, maxRedirects: 0, proxy: false });
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderOrbiwiseSetup(input);
  }

  private call(operation: AdapterOperation, method: Method, url: string, extra: { data?: unknown; params?: Record<string, string | number>; accept?: readonly number[] } = {}): Promise<HTTPAnswer> {
    return limitedHTTPCall(this.policy, this.limiter, { vendor: this.vendor, operation, ...(extra.accept ? { accept: extra.accept } : {}) }, (signal) =>
      this.http.request({ method, url, ...(extra.data !== undefined ? { data: extra.data } : {}), ...(extra.params ? { params: extra.params } : {}), signal, timeout: this.policy.timeoutMs }),
    );
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    const req = createNodeRequest(device, this.o.serviceProfileId);
    const res = await this.call('registerDevice', req.method, req.url, { data: req.data, accept: [req.exists] });
    return { created: res.status !== req.exists };
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const req = deleteNodeRequest(devEUI);
    const res = await this.call('deregisterDevice', req.method, req.url, { accept: [req.missing] });
    return { deleted: res.status !== req.missing };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    const res = await this.call('getDevice', 'GET', `/nodes/${devEUI.toLowerCase()}`, { accept: [404] });
    return res.status === 404 ? null : remote(res.data as OrbiwiseNode);
  }

  /**
   * `GET /rest/nodes`, continued with the `page_state` the previous answer gave. Inference on
   * the shape: an object with the nodes (`nodes` or `data`) and `page_state` while more remain,
   * or a bare array (everything, one page); `limit` bounds a page.
   */
  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(page.pageSize ?? 100, 1), 1000);
    const res = await this.call('listDevices', 'GET', '/nodes', { params: { limit, ...(page.pageToken !== undefined ? { page_state: page.pageToken } : {}) } });
    const body = res.data as OrbiwiseNode[] | { nodes?: OrbiwiseNode[]; data?: OrbiwiseNode[]; page_state?: unknown } | null;
    const list = Array.isArray(body) ? body : (body?.nodes ?? body?.data ?? []);
    const devices = list.map(remote).filter((d): d is RemoteDevice => d !== null);
    const next = !Array.isArray(body) && typeof body?.page_state === 'string' && body.page_state !== '' ? body.page_state : undefined;
    return next !== undefined && list.length > 0 ? { devices, nextPageToken: next } : { devices };
  }

  async close(): Promise<void> {
    await this.limiter.stop();
  }
}

function remote(n: OrbiwiseNode): RemoteDevice | null {
  if (typeof n.deveui !== 'string') return null;
  try {
    const devEUI = parseEUI64(n.deveui);
    return { devEUI, joinEUI: typeof n.appeui === 'string' ? parseEUI64(n.appeui) : null, name: typeof n.comment === 'string' && n.comment !== '' ? n.comment : devEUI, remoteID: devEUI };
  } catch {
    return null;
  }
}

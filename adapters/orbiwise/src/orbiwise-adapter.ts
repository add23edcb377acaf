import {
  AdapterError,
  dialectOf,
  fixedCredentials,
  OAuth2Credentials,
  rateLimiter,
  RESTClient,
  retryPolicy,
  sleep,
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
import { createNodeBody, LIST_RESTARTS, LORAWAN_11_REFUSAL, nodePath, orbiwiseError, pageToken, parsePageToken, REREGISTER_PAUSE_MS, REREGISTER_WINDOW_MS, remoteNode } from './orbiwise-node-calls';
import type { OrbiwiseOptions } from './orbiwise-options';
import { renderOrbiwiseSetup } from './orbiwise-setup';

export const ORBIWISE_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['devices', 'list-devices']);

/** OrbiWAN answers errors as text/plain unless asked for RFC 7807 problems. */
const ACCEPT = 'application/json, application/problem+json';

/**
 * Orbiwise OrbiWAN 6.x over its REST API (`https://host/rest`): the calls and what is inferred
 * about them are in orbiwise-node-calls.ts. Credentials: OAuth2 password-grant tokens
 * (`--auth-scheme token`), a fixed bearer token, or HTTP Basic.
 */
export class OrbiwiseAdapter implements NetworkServerAdapter {
  readonly vendor = 'orbiwise';
  readonly capabilities = ORBIWISE_CAPABILITIES;
  readonly dialect = dialectOf('orbiwise');
  private readonly limiter: RateLimiter;
  private readonly rest: RESTClient;
  /** DevEUI → when this adapter deleted it (a re-registration may fail for a few seconds after). */
  private readonly deletedAt = new Map<EUI64, number>();

  constructor(private readonly o: OrbiwiseOptions) {
    const policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    // No status throws, no redirects (credentials must not follow one to another host), no proxies.
    const http = axios.create({ baseURL: o.baseURL, headers: { Accept: ACCEPT }, validateStatus: () => true, maxRedirects: 0, proxy: false });
    const auth = o.auth;
    const credentials =
      auth.kind === 'fixed'
        ? fixedCredentials(auth.authorization)
        : new OAuth2Credentials(
            this.vendor,
            (form, signal) => http.request({ method: 'POST', url: '/oauth2/token', data: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, signal, timeout: policy.timeoutMs }),
            (refreshToken): Record<string, string> => (refreshToken === null ? { grant_type: 'password', username: auth.username, password: auth.password } : { grant_type: 'refresh_token', refresh_token: refreshToken }),
          );
    this.rest = new RESTClient({ vendor: this.vendor, policy, limiter: this.limiter, request: (config) => http.request(config), credentials, messageOf: orbiwiseError });
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderOrbiwiseSetup(input);
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    if (device.macVersion === '1.1') throw new AdapterError({ vendor: this.vendor, operation: 'registerDevice', status: null, retryable: false, message: LORAWAN_11_REFUSAL });
    const data = createNodeBody(device, this.o);
    const deadline = Date.now() + REREGISTER_WINDOW_MS;
    for (;;) {
      try {
        const res = await this.rest.call('registerDevice', 'POST', '/nodes', { data, accept: [409] });
        if (res.status !== 409) return { created: true };
        if ((await this.getDevice(device.devEUI)) !== null) return { created: false };
        // "Already registered" but no such node: OrbiWAN is still removing it.
        if (Date.now() >= deadline) {
          throw new AdapterError({
            vendor: this.vendor,
            operation: 'registerDevice',
            status: 409,
            retryable: true,
            message: 'OrbiWAN answers "already registered" for a node it does not show (still removing it after a delete?)',
          });
        }
      } catch (err) {
        const status = err instanceof AdapterError ? err.status : null;
        if (status === 401 || status === 403 || status === 409 || !this.deletedRecently(device.devEUI) || Date.now() >= deadline) throw err;
      }
      await sleep(REREGISTER_PAUSE_MS);
    }
  }

  private deletedRecently(devEUI: EUI64): boolean {
    const at = this.deletedAt.get(devEUI);
    return at !== undefined && Date.now() - at < REREGISTER_WINDOW_MS;
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const res = await this.rest.call('deregisterDevice', 'DELETE', nodePath(devEUI), { accept: [404] });
    const now = Date.now();
    for (const [eui, at] of this.deletedAt) if (now - at >= REREGISTER_WINDOW_MS) this.deletedAt.delete(eui);
    if (res.status !== 404) this.deletedAt.set(devEUI, now);
    return { deleted: res.status !== 404 };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    const res = await this.rest.call('getDevice', 'GET', nodePath(devEUI), { accept: [404] });
    return res.status === 404 ? null : remoteNode(res.data);
  }

  /** `GET /rest/nodes?paged_results=true&limit=[&page_state=]` → `{results, next_page_state}`; 410 starts again. */
  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(page.pageSize ?? 100, 1), 1000);
    let { restarts, pageState } = page.pageToken === undefined ? { restarts: 0, pageState: null as string | null } : parsePageToken(page.pageToken);
    for (;;) {
      const res = await this.rest.call('listDevices', 'GET', '/nodes', { params: { paged_results: 'true', limit, ...(pageState !== null ? { page_state: pageState } : {}) }, accept: [410] });
      if (res.status === 410) {
        if (pageState === null || restarts >= LIST_RESTARTS)
          throw new AdapterError({ vendor: this.vendor, operation: 'listDevices', status: 410, retryable: true, message: `the page state expired ${restarts + 1} times in one listing` });
        restarts++;
        pageState = null;
        continue;
      }
      const body = (res.data ?? {}) as { results?: unknown; next_page_state?: unknown };
      if (!Array.isArray(body.results)) throw new AdapterError({ vendor: this.vendor, operation: 'listDevices', status: res.status, retryable: false, message: 'a paged node list without "results"' });
      const devices = body.results.map(remoteNode).filter((d): d is RemoteDevice => d !== null);
      const next = typeof body.next_page_state === 'string' && body.next_page_state !== '' ? body.next_page_state : null;
      return next !== null && body.results.length > 0 ? { devices, nextPageToken: pageToken(restarts, next) } : { devices };
    }
  }

  async close(): Promise<void> {
    await this.limiter.stop();
  }
}

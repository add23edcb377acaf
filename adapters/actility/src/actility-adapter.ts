import {
  AdapterError,
  dialectOf,
  OAuth2Credentials,
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
import { THINGPARK_PAGE, type ActilityOptions } from './actility-options';
import { renderActilitySetup } from './actility-setup';

export const ACTILITY_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['devices', 'list-devices']);

/** A device as the DX Core API shows it (a list shows only ref, name, EUI, networkAddress). */
interface ThingParkDevice {
  ref?: unknown;
  EUI?: unknown;
  name?: unknown;
  applicationEUI?: unknown;
}

/** What ThingPark does with a device created without a routing profile. */
export const NO_ROUTING_PROFILE_WARNING =
  'no --routing-profile-id: ThingPark gives devices created without one its deprecated DATAFLOW processing strategy (their uplinks go nowhere useful); give the routing profile of your application server';

/**
 * Actility ThingPark over its DX Core API (legacy for Actility, which prefers its Things
 * Management API; see the README). Every call carries a bearer token from the OAuth2
 * client-credentials grant, at ThingPark Enterprise 7.x's Keycloak or at the DX token endpoint.
 * Devices are created for "OTAA with an external Join Server": EUI, JoinEUI (`applicationEUI`,
 * mandatory without a key) and the peer's profiles, never an application key; a device is
 * addressed as `e<DEVEUI>`, without looking its `ref` up.
 */
export class ActilityAdapter implements NetworkServerAdapter {
  readonly vendor = 'actility';
  readonly capabilities = ACTILITY_CAPABILITIES;
  readonly dialect = dialectOf('actility');
  private readonly limiter: RateLimiter;
  private readonly rest: RESTClient;

  constructor(
    private readonly o: ActilityOptions,
    warn: (message: string) => void,
  ) {
    const policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    // No status throws, no redirects (the token must not follow one to another host), no proxies.
    const http = axios.create({ headers: { Accept: 'application/json' }, validateStatus: () => true, maxRedirects: 0, proxy: false });
    const credentials = new OAuth2Credentials(
      this.vendor,
      (form, signal) => http.request({ method: 'POST', url: o.tokenURL, data: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, signal, timeout: policy.timeoutMs }),
      () => ({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret }),
    );
    this.rest = new RESTClient({ vendor: this.vendor, policy, limiter: this.limiter, request: (config) => http.request({ ...config, url: o.baseURL + config.url }), credentials });
    if (o.routingProfileId === null) warn(NO_ROUTING_PROFILE_WARNING);
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderActilitySetup(input);
  }

  /**
   * `POST /devices`. ThingPark may answer 5xx (504) after it created the device, so a 5xx is
   * followed by a look: a device that is there now was created by this call; only one that is
   * not is created again (by the retry policy).
   */
  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    // Identifiers and profiles only, by name: no applicationKey (absent = external Join Server).
    const body = {
      name: device.name ?? device.devEUI,
      EUI: device.devEUI.toUpperCase(),
      activationType: 'OTAA',
      applicationEUI: device.joinEUI.toUpperCase(),
      deviceProfileId: this.o.deviceProfileId,
      connectivityPlanId: this.o.connectivityPlanId,
      ...(this.o.routingProfileId !== null ? { routingProfileId: this.o.routingProfileId } : {}),
    };
    const res = await this.rest.retried('registerDevice', async (signal) => {
      try {
        return await this.rest.attempt('registerDevice', 'POST', '/devices', { data: body, accept: [409] }, signal);
      } catch (err) {
        if (!(err instanceof AdapterError) || typeof err.status !== 'number' || err.status < 500) throw err;
        // One look, in this attempt's time, outside the create's limiter slot; if it fails too, the create's error stands.
        const found = await this.rest.attempt('registerDevice', 'GET', `/devices/e${device.devEUI.toUpperCase()}`, { accept: [404] }, signal).catch(() => null);
        if (found !== null && found.status !== 404) return { status: 201, headers: {}, data: null };
        throw err;
      }
    });
    // Inference: ThingPark answers 409 for an EUI it already has.
    return { created: res.status !== 409 };
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const res = await this.rest.call('deregisterDevice', 'DELETE', `/devices/e${devEUI.toUpperCase()}`, { accept: [404] });
    return { deleted: res.status !== 404 };
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    const res = await this.rest.call('getDevice', 'GET', `/devices/e${devEUI.toUpperCase()}`, { accept: [404] });
    return res.status === 404 ? null : remote(res.data as ThingParkDevice);
  }

  /**
   * `GET /devices?pageIndex=` (from 1): ThingPark serves 100 devices a page whatever is asked,
   * so a smaller page is a slice of one. The token is the offset of the next device.
   */
  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const size = Math.min(Math.max(page.pageSize ?? this.o.pageSize, 1), this.o.pageSize);
    const offset = page.pageToken === undefined ? 0 : Number(page.pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`actility listDevices: bad page token "${page.pageToken}"`);
    const pageIndex = Math.floor(offset / THINGPARK_PAGE) + 1;
    const res = await this.rest.call('listDevices', 'GET', '/devices', { params: { pageIndex } });
    const list = Array.isArray(res.data) ? (res.data as ThingParkDevice[]) : [];
    const from = offset % THINGPARK_PAGE;
    const slice = list.slice(from, from + size);
    const devices = slice.map(remote).filter((d): d is RemoteDevice => d !== null);
    const more = from + size < list.length || list.length >= THINGPARK_PAGE;
    return more && slice.length > 0 ? { devices, nextPageToken: String(offset + slice.length) } : { devices };
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

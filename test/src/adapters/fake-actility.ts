import { randomBytes, randomInt } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-actility';
import type { NetworkServerAdapter } from '@joinery/core';
import { bearer, fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from './fake-http-api';
import type { FakeNetworkServer } from './fake-network-server';

export interface ActilityFake extends FakeNetworkServer {
  readonly url: string;
  readonly clientId: string;
  readonly deviceProfileId: string;
  readonly connectivityPlanId: string;
  readonly routingProfileId: string;
  /** ref → the device as created. */
  readonly devices: Map<string, any>;
  /** Tokens issued, with their server-side expiry (Date.now() ms). */
  readonly tokens: Map<string, number>;
  /** The `expires_in` the token endpoint announces (seconds). */
  tokenLifetimeSeconds: number;
  /** Whether `GET /devices` honours `deviceEUI` (false: answers every device, as a partial filter could). */
  filterByEUI: boolean;
  /** The server forgets every token it issued (expired or revoked before the announced time). */
  expireTokens(): void;
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

const CORE = '/thingpark/dx/core/latest/api';
const TOKEN_PATH = '/thingpark/dx/admin/latest/api/oauth/token';

/**
 * ThingPark Enterprise's DX API as the adapter uses it, over nock: the OAuth2 token endpoint
 * (client credentials, `{access_token, token_type, expires_in}`, RFC 6749 errors: 401
 * invalid_client), and the Core API's `/devices`: create (201; 409 for a known EUI; 400 for a
 * body that is not an external-Join-Server OTAA device, or that carries a key), list with
 * `pageIndex`/`pageSize` and the `deviceEUI` filter (a JSON array), delete by `ref` (204, 404).
 * A token that the server no longer knows gets 401.
 */
export async function startActilityFake(): Promise<ActilityFake> {
  const url = `https://tpe-${randomBytes(4).toString('hex')}.thingpark.test`;
  const clientId = `sub-${randomInt(1e8, 1e9)}/joinery`;
  const apiKey = randomBytes(18).toString('base64url');
  const ids = { deviceProfileId: `LORA/GenericA.1.0.3a_ETSI_Rx2-SF12`, connectivityPlanId: `actility-tpe-cs/tpe-cp`, routingProfileId: `TWA_${randomInt(1e5, 1e6)}.1` };
  const devices = new Map<string, any>();
  const tokens = new Map<string, number>();
  const error = (status: number, message: string): FakeReply => ({ status, body: { code: status, message } });

  /** Every token ever issued (valid or not): what a correct client may have sent. */
  const issued = new Set<string>();
  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (status, f) => ({ code: status, message: `injected ${f}` }), isTokenExchange: (r) => r.path === TOKEN_PATH });
  const fake: ActilityFake = {
    url,
    apiKey,
    clientId,
    ...ids,
    devices,
    tokens,
    tokenLifetimeSeconds: 3600,
    filterByEUI: true,
    expireTokens: () => tokens.clear(),
    accepts: (authorization) => issued.has(bearer(authorization) ?? ''),
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey, options: { clientId, ...ids } }),
  };
  function handle(req: FakeRequest): FakeReply {
    if (req.path === TOKEN_PATH) {
      if (req.method !== 'POST') return error(405, 'method not allowed');
      if (req.body?.grant_type !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
      if (req.body?.client_id !== clientId || req.body?.client_secret !== apiKey) return { status: 401, body: { error: 'invalid_client', error_description: 'Bad client credentials' } };
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, Date.now() + fake.tokenLifetimeSeconds * 1000);
      issued.add(token);
      return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: fake.tokenLifetimeSeconds, scope: 'SUBSCRIBER' } };
    }
    if (!req.path.startsWith(`${CORE}/`)) return error(404, 'not found');
    const token = bearer(req.authorization);
    const expiry = token === null ? undefined : tokens.get(token);
    if (expiry === undefined || expiry < Date.now()) return error(401, 'Unauthorized: invalid or expired token');
    const path = req.path.slice(CORE.length);
    if (path === '/devices' && req.method === 'POST') {
      const b = req.body ?? {};
      if (!/^[0-9A-F]{16}$/.test(b.EUI ?? '') || !/^[0-9A-F]{16}$/.test(b.applicationEUI ?? '')) return error(400, 'EUI and applicationEUI: 16 upper-case hex digits');
      if (b.activationType !== 'OTAA') return error(400, 'activationType must be OTAA');
      for (const k of ['applicationKey', 'appKey', 'nwkKey', 'AppKey']) if (k in b) return error(400, `fake: ${k} must not be sent for an external Join Server`);
      if (b.deviceProfileId !== ids.deviceProfileId || b.connectivityPlanId !== ids.connectivityPlanId) return error(400, 'unknown deviceProfileId or connectivityPlanId');
      if (b.routingProfileId !== undefined && b.routingProfileId !== ids.routingProfileId) return error(400, 'unknown routingProfileId');
      if ([...devices.values()].some((d) => d.EUI === b.EUI)) return error(409, `Device ${b.EUI} already exists`);
      const ref = String(randomInt(1e6, 1e7));
      devices.set(ref, { ...b, ref });
      return { status: 201, body: { ...b, ref } };
    }
    if (path === '/devices' && req.method === 'GET') {
      const pageIndex = Number(req.query.get('pageIndex') ?? '1');
      const pageSize = Number(req.query.get('pageSize') ?? '100');
      if (!Number.isInteger(pageIndex) || pageIndex < 1 || !Number.isInteger(pageSize) || pageSize < 1) return error(400, 'bad pageIndex or pageSize');
      const eui = req.query.get('deviceEUI');
      const all = [...devices.values()].sort((a, b) => a.ref.localeCompare(b.ref)).filter((d) => !fake.filterByEUI || eui === null || d.EUI === eui.toUpperCase());
      return { status: 200, body: all.slice((pageIndex - 1) * pageSize, pageIndex * pageSize).map((d) => ({ ref: d.ref, EUI: d.EUI, name: d.name, applicationEUI: d.applicationEUI })) };
    }
    const m = /^\/devices\/([^/]+)$/.exec(path);
    if (m && req.method === 'DELETE') return devices.delete(decodeURIComponent(m[1]!)) ? { status: 204 } : error(404, 'Device not found');
    return error(405, 'fake: method not allowed');
  }
  return fake;
}

import { randomBytes, randomInt } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-actility';
import type { NetworkServerAdapter } from '@joinery/core';
import { bearer, fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from '../../../test/src/adapters/fake-http-api';
import type { FakeNetworkServer } from '../../../test/src/adapters/fake-network-server';

export interface ActilityFake extends FakeNetworkServer {
  readonly url: string;
  /** The Keycloak service account (client credentials). */
  readonly clientId: string;
  /** DX user credentials: `<targetProfileId>/<user>` and the user's password. */
  readonly dxClientId: string;
  readonly dxSecret: string;
  readonly deviceProfileId: string;
  readonly connectivityPlanId: string;
  readonly routingProfileId: string;
  /** ref → the device as created. */
  readonly devices: Map<string, any>;
  /** Tokens issued, with their server-side expiry (Date.now() ms). */
  readonly tokens: Map<string, number>;
  /** The `expires_in` the token endpoints announce (seconds). */
  tokenLifetimeSeconds: number;
  /** The next `n` creates create the device, then answer 504. */
  failAfterCreate(n: number): void;
  /** The server forgets every token it issued (expired or revoked before the announced time). */
  expireTokens(): void;
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

const CORE = '/thingpark/dx/core/latest/api';
const KEYCLOAK_TOKEN = '/users-auth/protocol/openid-connect/token';
const DX_TOKEN = '/thingpark/dx/admin/latest/api/oauth/token';
/** DX Core serves 100 devices a page (no documented page size). */
const PAGE = 100;

/**
 * ThingPark Enterprise over nock, as the DX Core listings (v141) and the ThingPark Enterprise
 * 7.3 device-manager spec publish it:
 *   - tokens: Keycloak `POST <host>/users-auth/protocol/openid-connect/token` (client
 *     credentials of a service account) and the DX endpoint `.../dx/admin/latest/api/oauth/token`
 *     (`client_id` = `<targetProfileId>/<user>`); RFC 6749 errors; unknown tokens 401;
 *   - `POST /devices`: `applicationEUI` mandatory when there is no `applicationKey` (external
 *     Join Server); without `routingProfileId` the device gets the deprecated `DATAFLOW`
 *     processing strategy; a create may answer 504 after the device was created;
 *   - `GET /devices?pageIndex=` from 1, 100 devices a page (`pageSize` not honoured: it is not
 *     documented), each with only `ref`, `name`, `EUI`, `networkAddress`;
 *   - a device addressed by `ref` or as `e<DEVEUI>`: GET, DELETE (204, 404);
 *   - error bodies `{code, message}`.
 * INFERENCE, only here: a duplicate EUI is 409.
 */
export async function startActilityFake(): Promise<ActilityFake> {
  const url = `https://tpe-${randomBytes(4).toString('hex')}.thingpark.test`;
  const clientId = `joinery-${randomBytes(3).toString('hex')}`;
  const apiKey = randomBytes(18).toString('base64url');
  const dxClientId = `sub-${randomInt(1e8, 1e9)}/joinery`;
  const dxSecret = randomBytes(12).toString('base64url');
  const ids = { deviceProfileId: `LORA/GenericA.1.0.3a_ETSI_Rx2-SF12`, connectivityPlanId: `actility-tpe-cs/tpe-cp`, routingProfileId: `TWA_${randomInt(1e5, 1e6)}.1` };
  const devices = new Map<string, any>();
  const tokens = new Map<string, number>();
  let createsThenFail = 0;
  const error = (status: number, message: string): FakeReply => ({ status, body: { code: status, message } });
  /** Every token ever issued (valid or not): what a correct client may have sent. */
  const issued = new Set<string>();
  const find = (id: string): [string, any] | undefined => {
    const m = /^e([0-9A-Fa-f]{16})$/.exec(id);
    if (!m) return devices.has(id) ? [id, devices.get(id)] : undefined;
    return [...devices.entries()].find(([, d]) => d.EUI === m[1]!.toUpperCase());
  };

  function token(req: FakeRequest, id: string, secret: string): FakeReply {
    if (req.method !== 'POST') return error(405, 'method not allowed');
    if (req.body?.grant_type !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (req.body?.client_id !== id || req.body?.client_secret !== secret) return { status: 401, body: { error: 'invalid_client', error_description: 'Bad client credentials' } };
    const t = randomBytes(24).toString('base64url');
    tokens.set(t, Date.now() + fake.tokenLifetimeSeconds * 1000);
    issued.add(t);
    return { status: 200, body: { access_token: t, token_type: 'Bearer', expires_in: fake.tokenLifetimeSeconds } };
  }

  function handle(req: FakeRequest): FakeReply {
    if (req.path === KEYCLOAK_TOKEN) return token(req, clientId, apiKey);
    if (req.path === DX_TOKEN) return token(req, dxClientId, dxSecret);
    if (!req.path.startsWith(`${CORE}/`)) return error(404, 'not found');
    const t = bearer(req.authorization);
    const expiry = t === null ? undefined : tokens.get(t);
    if (expiry === undefined || expiry < Date.now()) return error(401, 'Unauthorized: invalid or expired token');
    const path = req.path.slice(CORE.length);
    if (path === '/devices' && req.method === 'POST') {
      const b = req.body ?? {};
      if (!/^[0-9A-F]{16}$/.test(b.EUI ?? '')) return error(400, 'EUI: 16 upper-case hex digits');
      if (b.applicationKey === undefined && !/^[0-9A-F]{16}$/.test(b.applicationEUI ?? '')) return error(400, 'applicationEUI is mandatory for a device without applicationKey');
      if (b.activationType !== 'OTAA') return error(400, 'activationType must be OTAA');
      if (b.deviceProfileId !== ids.deviceProfileId || b.connectivityPlanId !== ids.connectivityPlanId) return error(400, 'unknown deviceProfileId or connectivityPlanId');
      if (b.routingProfileId !== undefined && b.routingProfileId !== ids.routingProfileId) return error(400, 'unknown routingProfileId');
      if ([...devices.values()].some((d) => d.EUI === b.EUI)) return error(409, `Device ${b.EUI} already exists`);
      const ref = String(randomInt(1e6, 1e7));
      devices.set(ref, { ...b, ref, ...(b.routingProfileId === undefined ? { processingStrategyId: 'DATAFLOW' } : {}) });
      if (createsThenFail > 0) {
        createsThenFail--;
        return error(504, 'Gateway Timeout');
      }
      return { status: 201, body: { ...b, ref } };
    }
    if (path === '/devices' && req.method === 'GET') {
      const pageIndex = Number(req.query.get('pageIndex') ?? '1');
      if (!Number.isInteger(pageIndex) || pageIndex < 1) return error(400, 'bad pageIndex');
      const all = [...devices.values()].sort((a, b) => a.ref.localeCompare(b.ref));
      return { status: 200, body: all.slice((pageIndex - 1) * PAGE, pageIndex * PAGE).map((d) => ({ ref: d.ref, name: d.name, EUI: d.EUI, networkAddress: null })) };
    }
    const m = /^\/devices\/([^/]+)$/.exec(path);
    if (m) {
      const hit = find(decodeURIComponent(m[1]!));
      if (req.method === 'GET') return hit ? { status: 200, body: hit[1] } : error(404, 'Device not found');
      if (req.method === 'DELETE') return hit && devices.delete(hit[0]) ? { status: 204 } : error(404, 'Device not found');
    }
    return error(405, 'method not allowed');
  }
  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (status, f) => ({ code: status, message: `injected ${f}` }), isTokenExchange: (r) => r.path === KEYCLOAK_TOKEN || r.path === DX_TOKEN });
  const fake: ActilityFake = {
    url,
    apiKey,
    clientId,
    dxClientId,
    dxSecret,
    ...ids,
    devices,
    tokens,
    tokenLifetimeSeconds: 3600,
    failAfterCreate: (n) => (createsThenFail = n),
    expireTokens: () => tokens.clear(),
    accepts: (authorization) => issued.has(bearer(authorization) ?? ''),
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey, options: { clientId, ...ids } }),
  };
  return fake;
}

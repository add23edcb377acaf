import { randomBytes, randomUUID } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-orbiwise';
import type { NetworkServerAdapter } from '@joinery/core';
import { fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from '../../../test/src/adapters/fake-http-api';
import type { FakeNetworkServer } from '../../../test/src/adapters/fake-network-server';

export interface OrbiwiseFake extends FakeNetworkServer {
  readonly url: string;
  /** user:password of the OrbiWAN account (HTTP Basic, and the password grant). */
  readonly userPassword: string;
  /** A device profile for LoRaWAN 1.0.x and one for 1.1 (its key table needs a NwkKey). */
  readonly deviceProfileId: string;
  readonly deviceProfile11Id: string;
  readonly serviceProfileId: string;
  /** DEVEUI (upper case) → the node as created. */
  readonly nodes: Map<string, Record<string, unknown>>;
  /** Whether HTTP Basic is enabled (OrbiWAN may disable it). */
  basicEnabled: boolean;
  /** The `expires_in` of issued tokens (seconds; OrbiWAN: 43200). */
  tokenLifetimeSeconds: number;
  /** How single nodes spell their DevEUI in answers (OrbiWAN 6: `DevEUI`; older: `deveui`). */
  nodeSpelling: 'DevEUI' | 'deveui';
  /** After a DELETE, a POST of the same DevEUI fails for this long (the document: "may fail for a few seconds"). */
  reregisterBlockMs: number;
  /** Every token the server issued is forgotten (401 from now on). */
  expireTokens(): void;
  /** Every page state handed out expires (410 from now on). */
  expirePageStates(): void;
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

const EUI = /^[0-9A-Fa-f]{16}$/;

/**
 * OrbiWAN 6.x's REST API as its REST document (rest-api.md) publishes it, over nock; it refuses
 * what that document says OrbiWAN refuses:
 *   - auth: HTTP Basic (unless disabled), or a bearer token from `POST /rest/oauth2/token`
 *     (`grant_type=password` with username and password, or `refresh_token`; `expires_in`
 *     43200 s, `refresh_token`); anything else 401;
 *   - errors `text/plain`, or RFC 7807 `application/problem+json` when the Accept header asks;
 *   - `POST /rest/nodes`: `DevEUI` (this spelling), `device_profile_uuid` and
 *     `service_profile_uuid` mandatory, else 404 (missing or invalid parameters); a 1.1 device
 *     profile needs `nwkkey`; a known DevEUI 409 "Already registered";
 *   - `GET /rest/nodes/{DevEUI}` answers `DevEUI`; `DELETE` 200 or 404;
 *   - `GET /rest/nodes`: a bare array (at most `limit`) unless `paged_results=true`, then
 *     `{results, next_page_state}`; an expired page state 410.
 * INFERENCE, only here: how a re-registration right after a delete fails (the document says it
 * may, for a few seconds, not how): 409 "Already registered" while `GET` shows no node.
 */
export async function startOrbiwiseFake(): Promise<OrbiwiseFake> {
  const url = `https://owa-${randomBytes(4).toString('hex')}.orbiwise.test`;
  const userPassword = `joinery:${randomBytes(9).toString('base64url')}`;
  const staticToken = randomBytes(24).toString('hex');
  const deviceProfileId = randomUUID();
  const deviceProfile11Id = randomUUID();
  const serviceProfileId = randomUUID();
  const nodes = new Map<string, Record<string, unknown>>();
  const deletedAt = new Map<string, number>();
  /** access token → expiry (Date.now() ms); refresh tokens still valid. */
  const tokens = new Map<string, number>([[staticToken, Infinity]]);
  const refreshTokens = new Set<string>();
  /** Every token ever issued: what a correct client may have sent. */
  const issued = new Set<string>([staticToken]);
  /** page state → offset, while it is valid. */
  const pageStates = new Map<string, number>();
  const basic = `Basic ${Buffer.from(userPassword).toString('base64')}`;

  const error = (req: FakeRequest, status: number, title: string): FakeReply =>
    req.accept.includes('application/problem+json')
      ? { status, body: JSON.stringify({ type: 'about:blank', title, status }), headers: { 'content-type': 'application/problem+json' } }
      : { status, body: title, headers: { 'content-type': 'text/plain' } };
  const view = (n: Record<string, unknown>): Record<string, unknown> => {
    const { DevEUI, ...rest } = n;
    const { nwkkey: _n, appkey: _a, ...shown } = rest;
    return { [fake.nodeSpelling]: DevEUI, ...shown };
  };
  const authorized = (a: string | null): boolean => {
    if (a === basic) return fake.basicEnabled;
    const m = /^Bearer (\S+)$/.exec(a ?? '');
    const expiry = m ? tokens.get(m[1]!) : undefined;
    return expiry !== undefined && Date.now() < expiry;
  };
  const issue = (): FakeReply => {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    tokens.set(access, Date.now() + fake.tokenLifetimeSeconds * 1000);
    issued.add(access);
    refreshTokens.add(refresh);
    return { status: 200, body: { access_token: access, token_type: 'bearer', expires_in: fake.tokenLifetimeSeconds, refresh_token: refresh } };
  };

  function handle(req: FakeRequest): FakeReply {
    if (req.path === '/rest/oauth2/token') {
      if (req.method !== 'POST') return error(req, 405, 'Method Not Allowed');
      const b = req.body ?? {};
      if (b.grant_type === 'password') return `${b.username}:${b.password}` === userPassword ? issue() : { status: 401, body: { error: 'invalid_grant', error_description: 'Bad credentials' } };
      if (b.grant_type === 'refresh_token') return refreshTokens.delete(b.refresh_token) ? issue() : { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } };
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    if (!authorized(req.authorization)) return error(req, 401, 'Unauthorized');
    if (req.path === '/rest/nodes' && req.method === 'GET') {
      const limit = req.query.has('limit') ? Number(req.query.get('limit')) : 100;
      if (!Number.isInteger(limit) || limit < 1) return error(req, 400, 'Invalid limit');
      const all = [...nodes.values()].sort((x, y) => String(x['DevEUI']).localeCompare(String(y['DevEUI'])));
      if (req.query.get('paged_results') !== 'true') return { status: 200, body: all.slice(0, limit).map(view) };
      const state = req.query.get('page_state');
      const offset = state === null ? 0 : pageStates.get(state);
      if (offset === undefined) return error(req, 410, 'Page state expired');
      const end = offset + limit;
      const next = end < all.length ? randomBytes(12).toString('base64url') : undefined;
      if (next) pageStates.set(next, end);
      return { status: 200, body: { results: all.slice(offset, end).map(view), ...(next ? { next_page_state: next } : {}) } };
    }
    if (req.path === '/rest/nodes' && req.method === 'POST') {
      const b = req.body ?? {};
      if (typeof b.DevEUI !== 'string' || !EUI.test(b.DevEUI)) return error(req, 404, 'Missing or invalid parameter: DevEUI');
      if (b.service_profile_uuid !== serviceProfileId) return error(req, 404, 'Missing or invalid parameter: service_profile_uuid');
      if (b.device_profile_uuid !== deviceProfileId && b.device_profile_uuid !== deviceProfile11Id) return error(req, 404, 'Missing or invalid parameter: device_profile_uuid');
      if (b.device_profile_uuid === deviceProfile11Id && typeof b.nwkkey !== 'string') return error(req, 404, 'Missing or invalid parameter: nwkkey (LoRaWAN 1.1)');
      for (const k of ['joineui', 'appeui']) if (b[k] !== undefined && (typeof b[k] !== 'string' || !EUI.test(b[k]))) return error(req, 404, `Missing or invalid parameter: ${k}`);
      const eui = b.DevEUI.toUpperCase();
      if (nodes.has(eui) || Date.now() - (deletedAt.get(eui) ?? -Infinity) < fake.reregisterBlockMs) return error(req, 409, 'Already registered');
      nodes.set(eui, { ...b, DevEUI: eui });
      return { status: 200, body: view(nodes.get(eui)!) };
    }
    const m = /^\/rest\/nodes\/([^/]+)$/.exec(req.path);
    if (m) {
      const eui = m[1]!.toUpperCase();
      if (req.method === 'GET') return nodes.has(eui) ? { status: 200, body: view(nodes.get(eui)!) } : error(req, 404, 'Node not found');
      if (req.method === 'DELETE') {
        if (!nodes.delete(eui)) return error(req, 404, 'Node not found');
        deletedAt.set(eui, Date.now());
        return { status: 200, body: 'OK', headers: { 'content-type': 'text/plain' } };
      }
    }
    return error(req, 405, 'Method Not Allowed');
  }

  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (status, f) => ({ type: 'about:blank', title: `injected ${f}`, status }), isTokenExchange: (r) => r.path === '/rest/oauth2/token' });
  const fake: OrbiwiseFake = {
    url,
    apiKey: staticToken,
    userPassword,
    deviceProfileId,
    deviceProfile11Id,
    serviceProfileId,
    nodes,
    basicEnabled: true,
    tokenLifetimeSeconds: 43_200,
    nodeSpelling: 'DevEUI',
    reregisterBlockMs: 300,
    expireTokens: () => tokens.clear(),
    expirePageStates: () => pageStates.clear(),
    accepts: (authorization) => authorization === basic || issued.has(/^Bearer (\S+)$/.exec(authorization ?? '')?.[1] ?? ''),
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey: staticToken, options: { deviceProfileId, serviceProfileId } }),
  };
  return fake;
}

import { randomBytes } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-orbiwise';
import type { NetworkServerAdapter } from '@joinery/core';
import { fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from './fake-http-api';
import type { FakeNetworkServer } from './fake-network-server';

export interface OrbiwiseFake extends FakeNetworkServer {
  readonly url: string;
  /** user:password accepted with HTTP Basic (the API key is the bearer token). */
  readonly basicCredentials: string;
  readonly serviceProfileId: string;
  /** deveui (lower case) → the node as created. */
  readonly nodes: Map<string, any>;
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

/**
 * OrbiWAN's REST API as the adapter uses it, over nock: a bearer token or HTTP Basic (401
 * otherwise), `GET /rest/nodes` paged by an opaque `page_state` (`{nodes, page_state}`, no
 * page_state on the last page), `GET /rest/nodes/{deveui}` (404), and the inferred
 * `POST /rest/nodes` (409 for a known node, 400 for a body with a key) and
 * `DELETE /rest/nodes/{deveui}` (404).
 */
export async function startOrbiwiseFake(): Promise<OrbiwiseFake> {
  const url = `https://owa-${randomBytes(4).toString('hex')}.orbiwise.test`;
  const apiKey = randomBytes(24).toString('hex');
  const basicCredentials = `joinery:${randomBytes(9).toString('base64url')}`;
  const serviceProfileId = `sp-${randomBytes(4).toString('hex')}`;
  const nodes = new Map<string, any>();
  const accepted = new Set([`Bearer ${apiKey}`, `Basic ${Buffer.from(basicCredentials).toString('base64')}`]);
  const error = (status: number, message: string): FakeReply => ({ status, body: { status: 'ERROR', message } });
  const view = (n: any): unknown => ({ deveui: n.deveui, appeui: n.appeui, comment: n.comment, lora_device_class: n.lora_device_class });

  const handle = (req: FakeRequest): FakeReply => {
    if (!accepted.has(req.authorization ?? '')) return error(401, 'Unauthorized');
    if (req.path === '/rest/nodes' && req.method === 'GET') {
      const limit = Number(req.query.get('limit') ?? '50');
      const state = req.query.get('page_state');
      const offset = state === null ? 0 : Number(Buffer.from(state, 'base64url').toString('utf8').replace(/^offset:/, ''));
      if (!Number.isInteger(offset) || offset < 0 || !(limit > 0)) return error(400, 'bad page_state or limit');
      const all = [...nodes.values()].sort((x, y) => x.deveui.localeCompare(y.deveui));
      const slice = all.slice(offset, offset + limit);
      const next = offset + limit < all.length ? Buffer.from(`offset:${offset + limit}`).toString('base64url') : undefined;
      return { status: 200, body: { nodes: slice.map(view), ...(next ? { page_state: next } : {}) } };
    }
    if (req.path === '/rest/nodes' && req.method === 'POST') {
      const b = req.body ?? {};
      if (!/^[0-9a-f]{16}$/.test(b.deveui ?? '') || !/^[0-9a-f]{16}$/.test(b.appeui ?? '')) return error(400, 'deveui, appeui: 16 hex digits');
      for (const k of Object.keys(b)) if (/key/i.test(k)) return error(400, `fake: ${k} must not be sent for an external Join Server`);
      if (b.service_profile_uuid !== undefined && b.service_profile_uuid !== serviceProfileId) return error(400, 'unknown service profile');
      if (nodes.has(b.deveui)) return error(409, 'Node already exists');
      nodes.set(b.deveui, { ...b });
      return { status: 201, body: view(b) };
    }
    const m = /^\/rest\/nodes\/([0-9a-fA-F]{16})$/.exec(req.path);
    if (m) {
      const eui = m[1]!.toLowerCase();
      if (req.method === 'GET') return nodes.has(eui) ? { status: 200, body: view(nodes.get(eui)) } : error(404, 'Node not found');
      if (req.method === 'DELETE') return nodes.delete(eui) ? { status: 200, body: { status: 'OK' } } : error(404, 'Node not found');
    }
    return error(405, 'Method not allowed');
  };
  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (_status, f) => ({ status: 'ERROR', message: `injected ${f}` }) });
  return {
    url,
    apiKey,
    basicCredentials,
    serviceProfileId,
    nodes,
    accepts: (authorization) => accepted.has(authorization ?? ''),
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey, options: { serviceProfileId } }),
  };
}

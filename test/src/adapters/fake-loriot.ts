import { randomBytes } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-loriot';
import type { NetworkServerAdapter } from '@joinery/core';
import { fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from './fake-http-api';
import type { FakeNetworkServer } from './fake-network-server';

export interface LoriotFake extends FakeNetworkServer {
  readonly url: string;
  /** APPID, upper-case hex. */
  readonly applicationId: string;
  readonly joinServerId: string;
  /** The application's properties as set through the API. */
  readonly app: { joinServerId?: string };
  /** DEVEUI (upper case) → the device as stored, `appkey` included while it has one. */
  readonly devices: Map<string, any>;
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

/**
 * LORIOT's Network Server API as the adapter uses it, over nock: Bearer API key (401
 * otherwise), APPID upper-case hex in the path (another spelling is an unknown app: 404),
 * `POST .../devices/otaa` with `appkey` required (400 without; 409 for a known DevEUI), the
 * appkey's removal, the application's `joinServerId`, `GET .../devices?page&perPage` →
 * `{devices, total, page, perPage}` (perPage capped at 100), and per-device GET and DELETE (404).
 */
export async function startLoriotFake(): Promise<LoriotFake> {
  const url = `https://${randomBytes(4).toString('hex')}.loriot.test`;
  const apiKey = `AAAA${randomBytes(24).toString('base64url')}`;
  const applicationId = `BE7A${randomBytes(2).toString('hex').toUpperCase()}`;
  const joinServerId = `70B3D57ED0${randomBytes(3).toString('hex').toUpperCase()}`;
  const app: { joinServerId?: string } = {};
  const devices = new Map<string, any>();
  const error = (status: number, message: string): FakeReply => ({ status, body: { error: message } });
  const view = (d: any): unknown => ({ _id: d.deveui, deveui: d.deveui, appeui: d.appeui, title: d.title, devclass: d.devclass });

  const handle = (req: FakeRequest): FakeReply => {
    if (req.authorization !== `Bearer ${apiKey}`) return error(401, 'Unauthorized');
    const m = /^\/1\/nwk\/app\/([^/]+)\/(app|devices|devices\/otaa|device\/([^/]+)(\/appkey)?)$/.exec(req.path);
    if (!m) return error(404, 'Not found');
    const [, appID, rest, eui, appkey] = m;
    if (appID !== applicationId) return error(404, 'Application not found');
    if (rest === 'app' && req.method === 'POST') {
      if (typeof req.body?.joinServerId !== 'string' || !/^[0-9A-F]{16}$/.test(req.body.joinServerId)) return error(400, 'joinServerId: 16 hex digits');
      app.joinServerId = req.body.joinServerId;
      return { status: 200, body: { _id: applicationId, joinServerId: app.joinServerId } };
    }
    if (rest === 'devices/otaa' && req.method === 'POST') {
      const b = req.body ?? {};
      for (const k of ['title', 'deveui', 'appeui', 'appkey']) if (typeof b[k] !== 'string') return error(400, `${k} is required`);
      if (!/^[0-9A-F]{16}$/.test(b.deveui) || !/^[0-9A-F]{16}$/.test(b.appeui) || !/^[0-9A-F]{32}$/.test(b.appkey)) return error(400, 'deveui, appeui: 16 hex; appkey: 32 hex');
      if (!['A', 'B', 'C'].includes(b.devclass)) return error(400, 'devclass: A, B or C');
      if (devices.has(b.deveui)) return error(409, 'Device already exists');
      devices.set(b.deveui, { ...b });
      return { status: 200, body: view(b) };
    }
    if (rest === 'devices' && req.method === 'GET') {
      const page = Number(req.query.get('page') ?? '1');
      const perPage = Math.min(Number(req.query.get('perPage') ?? '10'), 100);
      if (!Number.isInteger(page) || page < 1 || !(perPage > 0)) return error(400, 'bad page or perPage');
      const all = [...devices.values()].sort((x, y) => x.deveui.localeCompare(y.deveui));
      return { status: 200, body: { devices: all.slice((page - 1) * perPage, page * perPage).map(view), total: all.length, page, perPage } };
    }
    if (eui !== undefined) {
      const d = devices.get(eui);
      if (appkey) {
        if (req.method !== 'DELETE') return error(405, 'Method not allowed');
        if (!d) return error(404, 'Device not found');
        delete d.appkey;
        return { status: 200, body: {} };
      }
      if (req.method === 'GET') return d ? { status: 200, body: view(d) } : error(404, 'Device not found');
      if (req.method === 'DELETE') return devices.delete(eui) ? { status: 200, body: {} } : error(404, 'Device not found');
    }
    return error(405, 'Method not allowed');
  };
  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (status, f) => ({ error: `injected ${f}`, code: status }) });
  return {
    url,
    apiKey,
    applicationId,
    joinServerId,
    app,
    devices,
    accepts: (authorization) => authorization === `Bearer ${apiKey}`,
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey, options: { applicationId, joinServerId } }),
  };
}

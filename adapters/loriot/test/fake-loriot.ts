import { randomBytes } from 'node:crypto';
import { adapterModule } from '@joinery/adapter-loriot';
import type { NetworkServerAdapter } from '@joinery/core';
import { fakePlumbing, startFakeHTTPAPI, type AdapterOverrides, type FakeReply, type FakeRequest } from '../../../test/src/adapters/fake-http-api';
import type { FakeNetworkServer } from '../../../test/src/adapters/fake-network-server';

export interface LoriotFake extends FakeNetworkServer {
  readonly url: string;
  /** APPID, upper-case hex. */
  readonly applicationId: string;
  readonly joinServerId: string;
  /** The application as LORIOT shows it (`joinServer` set through `joinServerId`). */
  readonly app: { joinServer?: string };
  /** DEVEUI (upper case) → the device as stored, `appkey` included while it has one. */
  readonly devices: Map<string, any>;
  /** Whether the account has tier 2 (else setting joinServerId is 403). */
  tier2: boolean;
  /** How a duplicate or unknown device is answered: 409 / 404, or 400 with a message (the spec documents only 400/401/403). */
  errorStyle: 'statuses' | 'bad-request';
  adapter(options?: AdapterOverrides): NetworkServerAdapter;
}

const HEX16 = /^[0-9A-F]{16}$/;

/**
 * LORIOT's NWK REST API as its public OpenAPI 5.0 publishes it, over nock: Bearer API key (401
 * otherwise), APPID upper-case hex in the path;
 *   - `POST .../devices/otaa` requires `title, devclass, appkey, deveui, appeui` (400 without);
 *     `L2Version {major,minor,patch}` and `devVersion` taken when given (LORIOT's own migration
 *     tool sends them);
 *   - `DELETE .../device/{DEVEUI}/appkey` removes the key (204);
 *   - `joinServerId` on the application "requires tier 2": 403 otherwise; the application then
 *     shows `joinServer`;
 *   - `GET .../devices?page&perPage`: pages from 1, `perPage` at most 100 (400 above),
 *     `{devices, total, page, perPage}`, each device's `_id` its DevEUI.
 * INFERENCE, only here: the spec documents 400/401/403 alone, so a duplicate or an unknown
 * device is 409 / 404 or 400 with a message (`errorStyle`); the error body `{error}`; the
 * single-device `GET .../device/{DEVEUI}`.
 */
export async function startLoriotFake(): Promise<LoriotFake> {
  const url = `https://${randomBytes(4).toString('hex')}.loriot.test`;
  const apiKey = `AAAA${randomBytes(24).toString('base64url')}`;
  const applicationId = `BE7A${randomBytes(2).toString('hex').toUpperCase()}`;
  const joinServerId = `70B3D57ED0${randomBytes(3).toString('hex').toUpperCase()}`;
  const app: { joinServer?: string } = {};
  const devices = new Map<string, any>();
  const error = (status: number, message: string): FakeReply => ({ status, body: { error: message } });
  const duplicate = (eui: string): FakeReply => (fake.errorStyle === 'statuses' ? error(409, `Device ${eui} already exists`) : error(400, `Device ${eui} already exists`));
  const unknown = (eui: string): FakeReply => (fake.errorStyle === 'statuses' ? error(404, `Device ${eui} not found`) : error(400, `Device ${eui} not found`));
  const view = (d: any): unknown => ({ _id: d.deveui, title: d.title, devclass: d.devclass, appeui: d.appeui, ...(d.L2Version ? { L2Version: d.L2Version, devVersion: d.devVersion } : {}) });

  function handle(req: FakeRequest): FakeReply {
    if (req.authorization !== `Bearer ${apiKey}`) return error(401, 'Unauthorized');
    const m = /^\/1\/nwk\/app\/([^/]+)\/(app|devices|devices\/otaa|device\/([^/]+)(\/appkey)?)$/.exec(req.path);
    if (!m) return error(400, 'Invalid request');
    const [, appID, rest, eui, appkey] = m;
    if (appID !== applicationId) return error(403, 'Access denied to application');
    if (rest === 'app' && req.method === 'POST') {
      if (!fake.tier2) return error(403, 'joinServerId requires tier 2');
      if (typeof req.body?.joinServerId !== 'string' || !HEX16.test(req.body.joinServerId)) return error(400, 'joinServerId: 16 hex digits');
      app.joinServer = req.body.joinServerId;
      return { status: 200, body: { _id: applicationId, joinServer: app.joinServer } };
    }
    if (rest === 'devices/otaa' && req.method === 'POST') {
      const b = req.body ?? {};
      for (const k of ['title', 'devclass', 'appkey', 'deveui', 'appeui']) if (typeof b[k] !== 'string') return error(400, `${k} is required`);
      if (!HEX16.test(b.deveui) || !HEX16.test(b.appeui) || !/^[0-9A-F]{32}$/.test(b.appkey)) return error(400, 'deveui, appeui: 16 hex; appkey: 32 hex');
      if (!['A', 'B', 'C'].includes(b.devclass)) return error(400, 'devclass: A, B or C');
      if (b.L2Version !== undefined && !['major', 'minor', 'patch'].every((k) => Number.isInteger(b.L2Version[k]))) return error(400, 'L2Version: {major, minor, patch}');
      if (devices.has(b.deveui)) return duplicate(b.deveui);
      devices.set(b.deveui, { ...b });
      return { status: 200, body: view(b) };
    }
    if (rest === 'devices' && req.method === 'GET') {
      const page = Number(req.query.get('page') ?? '1');
      const perPage = Number(req.query.get('perPage') ?? '10');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 100) return error(400, 'page from 1; perPage from 1 to 100');
      const all = [...devices.values()].sort((x, y) => x.deveui.localeCompare(y.deveui));
      return { status: 200, body: { devices: all.slice((page - 1) * perPage, page * perPage).map(view), total: all.length, page, perPage } };
    }
    if (eui !== undefined) {
      const d = devices.get(eui);
      if (appkey) {
        if (req.method !== 'DELETE') return error(400, 'Invalid request');
        if (!d) return unknown(eui);
        delete d.appkey;
        return { status: 204 };
      }
      if (req.method === 'GET') return d ? { status: 200, body: view(d) } : unknown(eui);
      if (req.method === 'DELETE') return devices.delete(eui) ? { status: 204 } : unknown(eui);
    }
    return error(400, 'Invalid request');
  }
  const api = startFakeHTTPAPI({ origin: url, handle, faultBody: (status, f) => ({ error: `injected ${f}`, code: status }) });
  const fake: LoriotFake = {
    url,
    apiKey,
    applicationId,
    joinServerId,
    app,
    devices,
    tier2: true,
    errorStyle: 'statuses',
    accepts: (authorization) => authorization === `Bearer ${apiKey}`,
    ...fakePlumbing(api, adapterModule, { apiUrl: url, apiKey, options: { applicationId, joinServerId } }),
  };
  return fake;
}

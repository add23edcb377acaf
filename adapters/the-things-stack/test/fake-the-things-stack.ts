import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as mqtt from 'mqtt';
import { adapterModule } from '@joinery/adapter-the-things-stack';
import { fakePlumbing, MQTT_URL, type FakeNetworkServer, type FakeTransport, type Fault, type RecordedRequest } from '../../../test/src/adapters/fake-network-server';

export interface TTSFake extends FakeNetworkServer {
  readonly url: string;
  readonly applicationId: string;
  readonly tenantId: string | null;
  readonly topicPrefix: string;
  /** The three registries: device id → what was stored. */
  readonly is: Map<string, any>;
  readonly ns: Map<string, any>;
  readonly as: Map<string, any>;
  /** The cluster's own Join Server registry (a device there is joined by it, never by Joinery). */
  readonly js: Map<string, any>;
}

const FAULT_STATUS: Record<Exclude<Fault, 'hang'>, number> = { 'rate-limited': 429, unavailable: 503, 'bad-request': 400 };

/**
 * A small real HTTP server speaking the part of The Things Stack v3's API the adapter uses:
 * Identity Server, Network Server and Application Server end-device registries, with TTS's
 * status codes and error bodies (`{code, message, details}`), field masks checked, the Bearer
 * API key enforced, every request recorded.
 */
export async function startTTSFake(options: { readonly tenantId?: string | null } = {}): Promise<TTSFake> {
  const apiKey = `NNSXS.${randomBytes(20).toString('hex').toUpperCase()}`;
  const applicationId = `app-${randomBytes(3).toString('hex')}`;
  // TTS Cloud / Enterprise: MQTT user and topics `{app}@{tenant}`; null: open-source TTS, the bare application id.
  const tenantId = options.tenantId ?? null;
  const mqttUser = tenantId === null ? applicationId : `${applicationId}@${tenantId}`;
  const topicPrefix = `joinery-test-${randomBytes(6).toString('hex')}/v3`;
  const is = new Map<string, any>();
  const ns = new Map<string, any>();
  const as = new Map<string, any>();
  const js = new Map<string, any>();
  const recorded: RecordedRequest[] = [];
  const faults: Array<{ fault: Fault; retryAfter?: number }> = [];
  const hanging: http.ServerResponse[] = [];

  const error = (res: http.ServerResponse, status: number, code: number, message: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, message, details: [] }));
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const authorization = req.headers.authorization ?? null;
      const u = new URL(req.url ?? '/', 'http://fake');
      const f = faults.shift();
      recorded.push({ operation: `${req.method} ${u.pathname}`, authorization, body: `${u.search}\n${text}`, fault: f?.fault ?? null });
      if (f?.fault === 'hang') return void hanging.push(res);
      if (f) {
        res.writeHead(FAULT_STATUS[f.fault], { 'content-type': 'application/json', ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}) });
        return void res.end(JSON.stringify({ code: f.fault === 'bad-request' ? 3 : 14, message: `injected ${f.fault}`, details: [] }));
      }
      if (authorization !== `Bearer ${apiKey}`) return error(res, 401, 16, 'error:pkg/auth:unauthenticated (unauthenticated)');
      let body: any = {};
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          return error(res, 400, 3, 'invalid JSON');
        }
      }
      const m = /^\/api\/v3\/(ns\/|as\/|js\/)?applications\/([^/]+)\/devices(?:\/([^/]+))?$/.exec(u.pathname);
      if (!m) return error(res, 404, 5, 'error:pkg/web:not_found (route not found)');
      const [, registryPrefix, app, id] = m;
      if (app !== applicationId) return error(res, 403, 7, 'error:pkg/auth/rights:no_application_rights (no rights for application)');
      if (registryPrefix === 'js/') {
        // The Join Server registry: read (identifiers by field mask) and delete are all the adapter may do.
        if (id === undefined) return error(res, 405, 12, 'fake: method not allowed');
        if (req.method === 'GET') {
          if (!u.searchParams.get('field_mask')) return error(res, 400, 3, 'fake JS: field_mask is required');
          const d = js.get(id);
          return d ? json(res, 200, { ids: d.ids }) : error(res, 404, 5, 'error:pkg/joinserver:device_not_found (end device not found)');
        }
        if (req.method === 'DELETE') return js.delete(id) ? json(res, 200, {}) : error(res, 404, 5, 'error:pkg/joinserver:device_not_found (end device not found)');
        return error(res, 405, 12, 'fake: method not allowed');
      }
      const registry = registryPrefix === 'ns/' ? ns : registryPrefix === 'as/' ? as : is;
      const paths: string[] = body?.field_mask?.paths ?? [];
      const device = body?.end_device;
      const checkIDs = (): boolean => {
        if (!device?.ids?.device_id || !/^[0-9A-F]{16}$/.test(device.ids.dev_eui ?? '') || !/^[0-9A-F]{16}$/.test(device.ids.join_eui ?? '')) {
          error(res, 400, 3, 'error:pkg/ttnpb:field_value (invalid ids)');
          return false;
        }
        for (const p of paths) {
          const top = p.split('.')[0]!;
          if (p !== 'ids.dev_eui' && p !== 'ids.join_eui' && !(top in device)) {
            error(res, 400, 3, `error:pkg/ttnpb:field_mask_paths (field mask path ${p} not in end_device)`);
            return false;
          }
        }
        return true;
      };

      if (req.method === 'POST' && !registryPrefix && id === undefined) {
        if (!checkIDs()) return;
        if ('join_server_address' in device && device.join_server_address !== '') return error(res, 400, 3, 'fake: join_server_address must stay empty');
        if (is.has(device.ids.device_id)) return error(res, 409, 6, 'error:pkg/identityserver/store:id_taken (ID already taken)');
        is.set(device.ids.device_id, device);
        return json(res, 200, device);
      }
      if (req.method === 'PUT' && registryPrefix && id !== undefined) {
        if (!checkIDs()) return;
        if (device.ids.device_id !== id) return error(res, 400, 3, 'device_id does not match the path');
        if (!is.has(id)) return error(res, 404, 5, 'error:pkg/identityserver/store:not_found (end device not found)');
        if (registryPrefix === 'ns/') {
          const old = ns.get(id);
          if (old && old.supports_join !== device.supports_join) return error(res, 400, 3, 'supports_join cannot change');
          for (const k of ['supports_join', 'lorawan_version', 'lorawan_phy_version', 'frequency_plan_id']) {
            if (!paths.includes(k)) return error(res, 400, 3, `fake NS: ${k} is required`);
          }
        }
        registry.set(id, device);
        return json(res, 200, device);
      }
      if (req.method === 'DELETE' && id !== undefined) {
        if (!registryPrefix && (ns.has(id) || as.has(id))) return error(res, 409, 9, 'fake: delete from AS and NS first');
        if (!registry.delete(id)) return error(res, 404, 5, 'error:pkg/registry:not_found (end device not found)');
        return json(res, 200, {});
      }
      if (req.method === 'GET' && !registryPrefix && id !== undefined) {
        const d = is.get(id);
        if (!d) return error(res, 404, 5, 'error:pkg/identityserver/store:not_found (end device not found)');
        return json(res, 200, { ids: d.ids, name: d.name });
      }
      if (req.method === 'GET' && !registryPrefix && id === undefined) {
        const limit = Number(u.searchParams.get('limit') ?? '0');
        const page = Number(u.searchParams.get('page') ?? '1');
        const all = [...is.values()].sort((a, b) => a.ids.device_id.localeCompare(b.ids.device_id));
        const slice = limit > 0 ? all.slice((page - 1) * limit, page * limit) : all;
        return json(res, 200, { end_devices: slice.map((d) => ({ ids: d.ids, name: d.name })) }, { 'x-total-count': String(all.length) });
      }
      return error(res, 405, 12, 'fake: method not allowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let publisher: mqtt.MqttClient | null = null;
  const transport: FakeTransport = {
    requests: () => recorded,
    failNext(count, fault, retryAfterSeconds) {
      for (let i = 0; i < count; i++) faults.push({ fault, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) });
    },
    async stop() {
      await publisher?.endAsync();
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  return {
    url,
    apiKey,
    accepts: (authorization) => authorization === `Bearer ${apiKey}`,
    applicationId,
    tenantId,
    topicPrefix,
    is,
    ns,
    as,
    js,
    seedLocalJoin(devEUI) {
      const d = is.get(`eui-${devEUI}`);
      if (!d) throw new Error(`fake TTS: no device eui-${devEUI} to put in the Join Server`);
      js.set(`eui-${devEUI}`, { ids: d.ids, root_keys: { app_key: { key: randomBytes(16).toString('hex').toUpperCase() } } });
    },
    ...fakePlumbing(transport, adapterModule, { apiUrl: url, apiKey, options: { applicationId, ...(tenantId !== null ? { tenantId } : {}), mqttUrl: MQTT_URL, mqttTopicPrefix: topicPrefix } }),
    async publishEvent(kind, devEUI, payload, fCnt) {
      publisher ??= await mqtt.connectAsync(MQTT_URL);
      const ids = { device_id: `eui-${devEUI}`, application_ids: { application_id: applicationId }, dev_eui: devEUI.toUpperCase(), join_eui: '70B3D57ED0000000', dev_addr: '26011234' };
      const body =
        kind === 'up'
          ? { end_device_ids: ids, received_at: new Date().toISOString(), uplink_message: { f_port: 1, f_cnt: fCnt, frm_payload: payload.toString('base64') } }
          : { end_device_ids: ids, received_at: new Date().toISOString(), join_accept: { session_key_id: 'AYZ', received_at: new Date().toISOString() } };
      await publisher.publishAsync(`${topicPrefix}/${mqttUser}/devices/eui-${devEUI}/${kind}`, JSON.stringify(body));
    },
  };
}

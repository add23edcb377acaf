import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { ClaimRateLimiter } from '../../../core/src/claims/claim-rate-limiter';
import { ClaimService } from '../../../core/src/claims/claim-service';
import { DeviceService } from '../../../core/src/devices/device-service';
import { MasterKey } from '../../../core/src/keys/master-key';
import { SoftwareKeyVault } from '../../../core/src/keys/software-vault';
import { createLogger } from '../../../core/src/log/logger';
import { JoineryMetrics } from '../../../core/src/metrics/metrics';
import { PeerService } from '../../../core/src/peers/peer-service';
import { loadOrCreatePKI } from '../../../core/src/pki/pki-files';
import { createAdminServer } from '../../../core/src/server/admin-server';
import { parseBackendSettings } from '../../../core/src/server/backend-settings';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import { TenantService } from '../../../core/src/tenants/tenant-service';
import { api } from '../support/admin-api';
import { makeTempDir } from '../support/joinery-cli';
import { randomKey } from '../support/lora-device';

/**
 * The admin API in process (the same app the admin listener serves): its OpenAPI document is
 * valid and lists every route of the listener; and a tenant's key, walked over every endpoint
 * against another tenant's devices, keys, peers and tenant, gets 403 or 404 and changes nothing.
 */
let dir: string;
let app: FastifyInstance;
let store: SqliteStore;
const key: Record<string, string> = {};
let aliceDevice: string;
let aliceKeyID: string;

let base: string;

async function call(who: string | null, method: string, url: string, payload?: unknown) {
  return api(base, who ? key[who]! : null, method, url, payload);
}

/** Every route of a fastify app, from its route tree: "METHOD /path". */
function routesOf(instance: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of instance.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.round(m[1]!.length / 4);
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = full;
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== 'HEAD'))
      routes.push(`${method} ${full}`);
  }
  return routes.sort();
}

beforeAll(async () => {
  dir = await makeTempDir('admin-api');
  const settings = parseBackendSettings({ dataDir: path.join(dir, 'data') });
  store = SqliteStore.open(path.join(dir, 'data', 'joinery.db'));
  const vault = new SoftwareKeyVault(MasterKey.generate());
  const tenants = new TenantService(store);
  const claims = new ClaimService(store, vault, new ClaimRateLimiter(store));
  const pki = loadOrCreatePKI(settings.dataDir, ['localhost']);
  app = await createAdminServer({ settings, store, vault, created: [], close: async () => {} }, new JoineryMetrics(), 'test', {
    context: {
      store,
      tenants,
      devices: new DeviceService(store, vault),
      claims,
      peers: new PeerService(
        store,
        vault,
        async () => (await pki).ca,
        () => 'https://localhost:8003',
        settings.dataDir,
      ),
      authenticate: (req) => tenants.authenticate(req.headers.authorization, req.ip),
    },
    log: createLogger({ level: 'silent', destination: process.stderr }),
  });
  // Over a real socket (light-my-request's ESM dependency does not load under jest).
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  base = `${address}/`;
  const operator = await tenants.operator({ actor: 'test', source: null });
  key['ops'] = (await tenants.createApiKey(operator, operator.tenantID, ['admin', 'devices:read', 'devices:write', 'claims', 'peers'], 'test')).key;
  for (const [id, roles] of [
    ['alice', ['owner', 'manufacturer']],
    ['mallory', ['owner', 'manufacturer']],
  ] as const) {
    const r = await call('ops', 'POST', '/tenants', { id, roles });
    expect(r.status).toBe(201);
    key[id] = r.body.key;
  }
  // Alice: a device she made and claimed, bound to her network server; an API key; a peer.
  aliceDevice = '00a11ce000000001';
  const imported = await call('alice', 'POST', '/devices/import', {
    format: 'csv',
    content: `dev_eui,join_eui,mac_version,app_key,nwk_key\n${aliceDevice},70b3d57ed0000000,1.0.3,${randomKey()},\n00a11ce000000002,70b3d57ed0000000,1.0.3,${randomKey()},\n`,
  });
  expect(imported.status).toBe(201);
  expect((await call('alice', 'POST', '/claims', { devEUI: aliceDevice, ownerToken: imported.body.labels[0].ownerToken })).status).toBe(200);
  expect((await call('alice', 'POST', '/network-servers', { name: 'alice-ns', netID: '000013', vendor: 'generic' })).status).toBe(201);
  expect((await call('alice', 'POST', '/application-servers', { name: 'alice-as', asID: 'as.alice.example' })).status).toBe(201);
  expect((await call('alice', 'PUT', `/devices/${aliceDevice}/binding`, { networkServer: 'alice-ns', applicationServer: 'alice-as' })).status).toBe(200);
  const k = await call('alice', 'POST', '/tenants/alice/api-keys', { scopes: ['devices:read'], label: 'ci' });
  aliceKeyID = k.body.apiKey.id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await store?.close();
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
});

test('openapi/the document validates (OpenAPI 3) and lists every route of the admin listener', async () => {
  const doc = (await call(null, 'GET', '/openapi.json')).body;
  expect(doc.openapi).toMatch(/^3\./);
  await SwaggerParser.validate(structuredClone(doc));
  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
    .sort();
  const served = routesOf(app);
  expect(served.length).toBeGreaterThan(20);
  expect(documented).toEqual(served);
  // Every authenticated route says so, and documents {code, message} errors.
  for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>)) {
    if (!p.startsWith('/api/v1/') || p === '/api/v1/openapi.json') continue;
    for (const op of Object.values(ops)) {
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(op.responses['403']).toBeDefined();
    }
  }
});

test('auth/no key, a malformed key, an unknown key, a revoked key: 401 {code, message}', async () => {
  expect(await call(null, 'GET', '/devices')).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
  key['junk'] = 'jny_nothing';
  expect((await call('junk', 'GET', '/devices')).status).toBe(401);
  key['unknown'] = `jny_0123456789abcdef_${'A'.repeat(43)}`;
  expect((await call('unknown', 'GET', '/devices')).status).toBe(401);
  const k = await call('mallory', 'POST', '/tenants/mallory/api-keys', { scopes: ['devices:read'] });
  key['revoked'] = k.body.key;
  expect((await call('revoked', 'GET', '/devices')).status).toBe(200);
  expect((await call('mallory', 'DELETE', `/tenants/mallory/api-keys/${k.body.apiKey.id}`)).status).toBe(204);
  expect((await call('revoked', 'GET', '/devices')).status).toBe(401);
  // A key without the scope: 403.
  expect(await call('revoked', 'GET', '/network-servers')).toMatchObject({ status: 401 });
  const reader = await call('mallory', 'POST', '/tenants/mallory/api-keys', { scopes: ['devices:read'] });
  key['reader'] = reader.body.key;
  expect(await call('reader', 'GET', '/network-servers')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  expect(await call('reader', 'POST', '/claims', { devEUI: aliceDevice, ownerToken: 'X' })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
});

test('errors/bad input is a 400 {code, message}, never a 500', async () => {
  for (const [method, url, body] of [
    ['GET', '/devices?limit=-1', undefined],
    ['GET', '/devices/not-an-eui', undefined],
    ['POST', '/claims', { devEUI: 'zz' }],
    ['POST', '/devices/import', { content: 'garbage' }],
    ['PUT', `/devices/${aliceDevice}/binding`, { homeNetID: 'nope' }],
    ['POST', '/tenants', { id: 'Bad Id', roles: ['owner'] }],
    ['GET', '/usage?since=yesterday', undefined],
    ['GET', '/devices?q=zz', undefined],
    ['GET', "/devices?q=00a1'%20OR%201=1", undefined],
    ['GET', `/devices/${aliceDevice}/joins?limit=51`, undefined],
    ['POST', '/network-servers', { name: 'bad-prefix', netID: '000013', vendor: 'chirpstack', joinEUIPrefixes: ['nope'] }],
    ['POST', '/network-servers', { name: 'bad-dir', netID: '000013', vendor: 'chirpstack', installDir: 'relative/dir' }],
    ['POST', '/network-servers', { name: 'bad-option', netID: '000013', vendor: 'chirpstack', adapter: { apiUrl: 'http://cs:8080', apiKey: 'k', options: { nosuch: 'x' } } }],
    ['POST', '/network-servers', { name: 'bad-value', netID: '000013', vendor: 'chirpstack', adapter: { apiUrl: 'http://cs:8080', apiKey: 'k', options: { applicationId: 'not-a-uuid' } } }],
    ['POST', '/network-servers', { name: 'no-key', netID: '000013', vendor: 'chirpstack', adapter: { apiUrl: 'http://cs:8080' } }],
  ] as const) {
    const r = await call('alice', method, url, body);
    expect([r.status, r.body?.code, typeof r.body?.message]).toEqual([400, expect.any(String), 'string']);
  }
  expect(await call('alice', 'GET', '/nothing-here')).toMatchObject({ status: 404, body: { code: 'not-found' } });
  // Nothing was written by the refused registrations.
  for (const name of ['bad-prefix', 'bad-dir', 'bad-option', 'bad-value', 'no-key']) expect(await store.getPeer(name)).toBeNull();
});

test('devices/import: an owner token shorter than 8 characters is refused, saying why, unless allowWeakOwnerTokens; generated ones are 12', async () => {
  const made = await call('ops', 'POST', '/tenants', { id: 'maker', roles: ['manufacturer'] });
  expect(made.status).toBe(201);
  key['maker'] = made.body.key;
  const csv = (devEUI: string, token: string): string => `dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token\n${devEUI},70b3d57ed0000000,1.0.3,${randomKey()},,${token}\n`;
  const weak = await call('maker', 'POST', '/devices/import', { format: 'csv', content: csv('00ba11ad000000f1', 'AB12CD7') });
  expect(weak.status).toBe(400);
  expect(weak.body.code).toBe('import-refused');
  expect(weak.body.message).toMatch(/line 2: owner_token has 7 characters, fewer than 8: a short owner token can be guessed within the claim rate limits/);
  expect(weak.body.message).toContain('allowWeakOwnerTokens');
  expect(weak.text).not.toContain('AB12CD7');
  expect((await call('maker', 'GET', '/devices/00ba11ad000000f1')).status).toBe(404);
  // Eight characters are enough; fewer are taken when the importer says they are meant.
  expect((await call('maker', 'POST', '/devices/import', { format: 'csv', content: csv('00ba11ad000000f2', 'AB12CD78') })).status).toBe(201);
  const allowed = await call('maker', 'POST', '/devices/import', { format: 'csv', content: csv('00ba11ad000000f1', 'AB12'), allowWeakOwnerTokens: true });
  expect(allowed.status).toBe(201);
  expect(allowed.body.labels[0].ownerToken).toBe('AB12');
  const generated = await call('maker', 'POST', '/devices/import', { format: 'csv', content: `dev_eui,join_eui,mac_version,app_key,nwk_key\n00ba11ad000000f3,70b3d57ed0000000,1.0.3,${randomKey()},\n` });
  expect(generated.body.labels[0].ownerToken).toMatch(/^[A-Z0-9]{12}$/);
});

test('devices/search: a DevEUI or JoinEUI prefix, with paging and the total of the whole match', async () => {
  expect((await call('alice', 'GET', '/devices?q=00A11CE')).body.total).toBe(2);
  expect((await call('alice', 'GET', `/devices?q=0x${aliceDevice}`)).body.devices.map((d: { devEUI: string }) => d.devEUI)).toEqual([aliceDevice]);
  const page = await call('alice', 'GET', '/devices?q=00a11ce&limit=1&offset=1');
  expect([page.body.total, page.body.devices.map((d: { devEUI: string }) => d.devEUI)]).toEqual([2, ['00a11ce000000002']]);
  expect((await call('alice', 'GET', '/devices?q=70b3d57e')).body.total).toBe(2); // the JoinEUI
  expect((await call('alice', 'GET', '/devices?q=70b3d57e&owner=alice')).body.devices.map((d: { devEUI: string }) => d.devEUI)).toEqual([aliceDevice]);
  expect((await call('alice', 'GET', '/devices?q=70b3d57e&networkServer=alice-ns')).body.total).toBe(1);
  expect((await call('alice', 'GET', '/devices?q=ffff')).body).toEqual({ devices: [], total: 0 });
});

test('devices/join history: newest first; a tenant sees the joins since it claimed the device, the operator all', async () => {
  expect((await call('alice', 'GET', `/devices/${aliceDevice}/joins`)).body).toEqual({ joins: [] });
  const claimedAt = (await store.getDevice(aliceDevice as never))!.ownership.claimedAt!;
  const record = (offsetMs: number, result: string, devNonce: number) => ({
    devEUI: aliceDevice as never,
    joinEUI: '70b3d57ed0000000' as never,
    at: new Date(claimedAt.getTime() + offsetMs),
    peer: 'alice-ns',
    joinType: 'join' as const,
    macVersion: '1.0.3',
    result,
    description: result === 'Success' ? null : 'DevNonce 7 already used',
    devNonce,
    joinNonce: result === 'Success' ? 1 : null,
  });
  expect(await store.appendJoinRecords([record(-60_000, 'Success', 3), record(1000, 'Success', 7), record(2000, 'JoinReqFailed', 7)], 50)).toBe(3);
  const joins = (await call('alice', 'GET', `/devices/${aliceDevice}/joins`)).body.joins;
  expect(joins).toEqual([
    {
      at: record(2000, '', 0).at.toISOString(),
      networkServer: 'alice-ns',
      joinEUI: '70b3d57ed0000000',
      joinType: 'join',
      macVersion: '1.0.3',
      result: 'JoinReqFailed',
      description: 'DevNonce 7 already used',
      devNonce: 7,
      joinNonce: null,
    },
    { at: record(1000, '', 0).at.toISOString(), networkServer: 'alice-ns', joinEUI: '70b3d57ed0000000', joinType: 'join', macVersion: '1.0.3', result: 'Success', description: null, devNonce: 7, joinNonce: 1 },
  ]);
  expect((await call('ops', 'GET', `/devices/${aliceDevice}/joins`)).body.joins).toHaveLength(3);
  expect((await call('alice', 'GET', `/devices/${aliceDevice}/joins?limit=1`)).body.joins).toHaveLength(1);
  expect((await call('mallory', 'GET', `/devices/${aliceDevice}/joins`)).status).toBe(404);
});

test('join rate/joins and refusals per minute over the last hour: a tenant counts its own devices since it claimed them, the operator every one; one network server when asked', async () => {
  const now = Date.now();
  const claimedAt = (await store.getDevice(aliceDevice as never))!.ownership.claimedAt!.getTime();
  const attempt = (devEUI: string, peer: string, at: number, result: string) => ({
    devEUI: devEUI as never,
    joinEUI: '70b3d57ed0000000' as never,
    at: new Date(at),
    peer,
    joinType: 'join' as const,
    macVersion: '1.0.3',
    result,
    description: result === 'Success' ? null : 'refused',
    devNonce: 900,
    joinNonce: null,
  });
  // The operator's own device, through another network server.
  const opsDevice = '00a11ce0000000f1';
  expect((await call('ops', 'POST', '/devices/import', { content: `dev_eui,join_eui,mac_version,app_key,nwk_key\n${opsDevice},70b3d57ed0000000,1.0.3,${randomKey()},\n` })).status).toBe(201);
  const added = [
    attempt(aliceDevice, 'alice-ns', claimedAt + 100, 'Success'),
    attempt(aliceDevice, 'alice-ns', claimedAt + 200, 'MICFailed'),
    attempt(aliceDevice, 'alice-ns', claimedAt - 10 * 60_000, 'Success'), // before alice claimed it
    attempt(aliceDevice, 'alice-ns', now - 2 * 3_600_000, 'Success'), // before the hour
    attempt(opsDevice, 'ops-ns', now - 10 * 60_000, 'JoinReqFailed'),
  ];
  expect(await store.appendJoinRecords(added, 50)).toBe(added.length);
  // The join history test before wrote alice's attempts up to 2 s after her claim: the rate's
  // window ends at the request, so ask once every record is in the past (on a fast machine this
  // test starts within those 2 s, and a record still in the future is rightly not counted).
  const latest = claimedAt + 2_000;
  if (Date.now() <= latest) await new Promise((resolve) => setTimeout(resolve, latest - Date.now() + 50));
  /** The non-empty minutes the records give, computed here from the join history itself. */
  const expected = async (devEUIs: string[], keep: (r: { at: Date; peer: string }) => boolean) => {
    const byMinute = new Map<number, { joins: number; refusals: number }>();
    for (const devEUI of devEUIs) {
      for (const r of await store.listJoinRecords(devEUI as never, 50)) {
        if (r.at.getTime() < now - 3_600_000 || !keep(r)) continue;
        const m = Math.floor(r.at.getTime() / 60_000) * 60_000;
        const c = byMinute.get(m) ?? { joins: 0, refusals: 0 };
        byMinute.set(m, r.result === 'Success' ? { ...c, joins: c.joins + 1 } : { ...c, refusals: c.refusals + 1 });
      }
    }
    return [...byMinute].sort(([a], [b]) => a - b).map(([m, c]) => ({ at: new Date(m).toISOString(), ...c }));
  };
  const rate = async (who: string, query = '') => {
    const r = await call(who, 'GET', `/join-rate${query}`);
    expect(r.status).toBe(200);
    const minutes = r.body.minutes as Array<{ at: string; joins: number; refusals: number }>;
    // Every minute of the hour ending now (61 when it did not start on a minute), oldest first.
    expect([r.body.stepSeconds, minutes.length >= 60 && minutes.length <= 61]).toEqual([60, true]);
    expect(minutes.map((m) => m.at)).toEqual([...minutes.map((m) => m.at)].sort());
    return minutes.filter((m) => m.joins + m.refusals > 0);
  };
  const aliceMinutes = await rate('alice');
  expect(aliceMinutes).toEqual(await expected([aliceDevice], (r) => r.at.getTime() >= claimedAt));
  expect(aliceMinutes.reduce((n, m) => n + m.joins + m.refusals, 0)).toBeGreaterThanOrEqual(2);
  const all = await expected([aliceDevice, opsDevice], () => true);
  expect(all.reduce((n, m) => n + m.joins + m.refusals, 0)).toBeGreaterThan(aliceMinutes.reduce((n, m) => n + m.joins + m.refusals, 0));
  expect(await rate('ops')).toEqual(all);
  expect(await rate('ops', '?peer=ops-ns')).toEqual([{ at: new Date(Math.floor((now - 10 * 60_000) / 60_000) * 60_000).toISOString(), joins: 0, refusals: 1 }]);
  expect(await rate('mallory', '?peer=alice-ns')).toEqual([]);
  const threeHours = await call('ops', 'GET', `/join-rate?since=${new Date(now - 3 * 3_600_000).toISOString()}`);
  expect(threeHours.body.minutes).toContainEqual({ at: new Date(Math.floor((now - 2 * 3_600_000) / 60_000) * 60_000).toISOString(), joins: 1, refusals: 0 });
  for (const since of ['yesterday', new Date(Date.now() - 25 * 3_600_000).toISOString(), new Date(Date.now() + 60_000).toISOString()]) {
    expect(await call('alice', 'GET', `/join-rate?since=${encodeURIComponent(since)}`)).toMatchObject({ status: 400, body: { code: 'bad-request' } });
  }
});

test("network servers/the vendor's setup files and steps come with the bundle; the adapter's API key is stored 0600, never returned", async () => {
  const plain = await call('alice', 'POST', '/network-servers', { name: 'alice-cs', netID: '000013', vendor: 'chirpstack', joinEUIPrefixes: ['70b3d57ed0000000/40'] });
  expect(plain.status).toBe(201);
  expect(plain.body.adapterConfigured).toBe(false);
  const files = plain.body.setup.files as Array<{ name: string; content: string; secret: boolean }>;
  const toml = files.find((f) => f.name.endsWith('.toml'));
  expect(toml?.content).toContain('https://localhost:8003/bi/alice-cs');
  expect(toml?.content).toContain('/etc/chirpstack/joinery-alice-cs');
  expect(plain.body.setup.instructions.length).toBeGreaterThan(0);
  expect(Object.keys(plain.body.bundle)).toEqual(expect.arrayContaining(['ca.crt', 'client.crt', 'client.key', 'kek.json']));

  const tts = await call('alice', 'POST', '/network-servers', { name: 'alice-tts', netID: '000013', vendor: 'the-things-stack', joinEUIPrefixes: ['70b3d57ed0000000/40'] });
  // The interop files (config.yml, js.yml, key-vault.yml), then the Device Claiming Server's.
  expect((tts.body.setup.files as Array<{ name: string }>).map((f) => f.name)).toEqual(['config.yml', 'js.yml', 'key-vault.yml', 'dcs-config.yml', 'joinery-alice-tts.yml', 'dcs.yml']);
  expect(tts.body.setup.files.find((f: { name: string }) => f.name === 'joinery-alice-tts.yml').content).toContain('url: https://localhost:8003\n');
  expect(tts.body.setup.files[0].content).toContain('70B3D57ED0000000/40');
  // The secret file holds the bundle's KEK.
  expect(tts.body.setup.files[2]).toMatchObject({ secret: true, content: expect.stringContaining(JSON.parse(tts.body.bundle['kek.json']).kek.toUpperCase()) });
  expect((await call('alice', 'POST', '/network-servers', { name: 'alice-generic', netID: '000013', vendor: 'generic' })).body.setup).toBeNull();

  const apiKey = 'cs-api-token-' + randomKey();
  const managed = await call('alice', 'POST', '/network-servers', {
    name: 'alice-cs-managed',
    netID: '000013',
    vendor: 'chirpstack',
    adapter: { apiUrl: 'http://chirpstack.example:8080', apiKey, options: { applicationId: '11111111-2222-3333-4444-555555555555', tenantId: '11111111-2222-3333-4444-555555555555' } },
  });
  expect(managed.status).toBe(201);
  expect(managed.body.adapterConfigured).toBe(true);
  expect(JSON.stringify(managed.body)).not.toContain(apiKey);
  expect((await store.getPeer('alice-cs-managed'))?.settings.adapter).toEqual({
    apiUrl: 'http://chirpstack.example:8080',
    options: { applicationId: '11111111-2222-3333-4444-555555555555', tenantId: '11111111-2222-3333-4444-555555555555' },
  });
  const keyFile = path.join(dir, 'data', 'adapter-keys', 'alice-cs-managed.key');
  expect((await fs.readFile(keyFile, 'utf8')).trim()).toBe(apiKey);
  expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
  expect(JSON.stringify((await call('alice', 'GET', '/network-servers/alice-cs-managed')).body)).not.toContain(apiKey);
});

test('network servers/lifecycle: summary, disable, enable, renew with overlap, retire, rotate the KEK (vendor files again), delete refused while bound; audited with the caller', async () => {
  const added = await call('alice', 'POST', '/network-servers', { name: 'alice-life', netID: '000013', vendor: 'chirpstack' });
  expect(added.status).toBe(201);
  const summary = await call('alice', 'GET', '/network-servers/alice-life/summary');
  expect(summary.body).toMatchObject({
    name: 'alice-life',
    state: 'enabled',
    vendor: 'chirpstack',
    kekLabel: '000013',
    boundDevices: 0,
    lastJoinAt: null,
    authorizationHeaderSet: false,
    certificateExpiry: expect.any(String),
  });
  expect((await call('alice', 'POST', '/network-servers/alice-life/disable')).body.state).toBe('disabled');
  expect((await store.getPeer('alice-life'))?.state).toBe('disabled');
  expect((await call('alice', 'POST', '/network-servers/alice-life/enable')).body.state).toBe('enabled');

  const renewed = await call('alice', 'POST', '/network-servers/alice-life/renew-certificate', { overlap: '7d' });
  expect(renewed.status).toBe(200);
  expect(renewed.body.bundle['client.crt']).not.toBe(added.body.bundle['client.crt']);
  expect(renewed.body.bundle['kek.json']).toBe(added.body.bundle['kek.json']);
  expect(renewed.body.peer.certificates.map((c: { status: string }) => c.status)).toEqual(['accepted', 'current']);
  expect(Date.parse(renewed.body.peer.certificates[0].retiresAt) - Date.now()).toBeGreaterThan(6 * 86_400_000);
  expect(renewed.body.setup.files.find((f: { name: string }) => f.name.endsWith('.toml'))).toBeDefined();
  expect((await call('alice', 'POST', '/network-servers/alice-life/renew-certificate', { overlap: 'soon' })).status).toBe(400);
  expect((await call('alice', 'POST', '/network-servers/alice-life/renew-certificate', { overlap: '1h', retireOld: true })).status).toBe(400);
  const retired = await call('alice', 'POST', '/network-servers/alice-life/retire-certificates', {});
  expect(retired.body.certificates.map((c: { status: string }) => c.status)).toEqual(['retired', 'current']);
  expect((await call('alice', 'POST', '/network-servers/alice-life/retire-certificates', { fingerprint: retired.body.certificates[1].fingerprint })).status).toBe(400);

  const rotated = await call('alice', 'POST', '/network-servers/alice-life/rotate-kek', {});
  const kek = JSON.parse(rotated.body.bundle['kek.json']) as { label: string; kek: string };
  expect(kek.label).toBe('000013-2');
  expect(kek.kek).not.toBe(JSON.parse(added.body.bundle['kek.json']).kek);
  expect(rotated.body.peer.kekLabel).toBe('000013-2');
  expect(rotated.body.setup.files.find((f: { name: string }) => f.name.endsWith('.toml')).content).toContain('000013-2');
  // The summary never carries a key.
  expect(JSON.stringify(rotated.body.peer)).not.toContain(kek.kek);

  // A device bound to it (alice's unclaimed one, bound here through the store).
  const d2 = (await store.getDevice('00a11ce000000002' as never))!;
  const o = d2.ownership;
  expect(
    await store.changeDevice(
      { devEUI: d2.devEUI, expectedVersion: d2.version, owner: o.owner, ownerTokenHash: o.ownerTokenHash, nsPeer: 'alice-life', asPeer: null, locked: o.locked, claimedAt: o.claimedAt },
      { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'test.bind', devEUI: d2.devEUI, detail: {} },
    ),
  ).toBe(true);
  const bound = await call('alice', 'DELETE', '/network-servers/alice-life');
  expect(bound).toMatchObject({ status: 409, body: { code: 'conflict', message: expect.stringMatching(/1 device\(s\) bound/) } });
  expect((await call('alice', 'DELETE', '/network-servers/alice-life?unbindDevices=true')).body).toEqual({ unbound: 1 });
  expect((await call('alice', 'GET', '/network-servers/alice-life/summary')).status).toBe(404);
  expect((await store.getDevice('00a11ce000000002' as never))?.nsPeer).toBeNull();

  const trail = (await store.listAuditEvents({ limit: 200 }))
    .filter((e) => e.detail['name'] === 'alice-life')
    .map((e) => [e.action, e.tenantID])
    .reverse();
  expect(trail).toEqual([
    ['peer.add', 'alice'],
    ['peer.disable', 'alice'],
    ['peer.enable', 'alice'],
    ['peer.certificate.renew', 'alice'],
    ['peer.certificate.retire', 'alice'],
    ['peer.kek.rotate', 'alice'],
    ['peer.delete', 'alice'],
  ]);
});

test("isolation/every endpoint, with another tenant's key (every scope), on alice's resources: 403 or 404, nothing changed", async () => {
  const doc = (await call(null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const before = JSON.stringify(await store.getDevice(aliceDevice as never));
  const params: Record<string, string> = { devEUI: aliceDevice, tenantID: 'alice', keyID: aliceKeyID, name: 'alice-ns', id: 'mig-000000000000' };
  /** Valid bodies, so refusals are about rights, not shape. */
  const bodies: Record<string, unknown> = {
    'PUT /api/v1/devices/{devEUI}/binding': { networkServer: 'alice-ns', locked: true },
    'POST /api/v1/devices/{devEUI}/transfer': { tenant: 'mallory' },
    'POST /api/v1/devices/{devEUI}/dev-nonce-reset': { reason: 'taking it' },
    'POST /api/v1/tenants/{tenantID}/api-keys': { scopes: ['admin'] },
    'POST /api/v1/network-servers/{name}/bundle': {},
    'POST /api/v1/network-servers/{name}/renew-certificate': { retireOld: true },
    'POST /api/v1/network-servers/{name}/retire-certificates': {},
    'POST /api/v1/network-servers/{name}/rotate-kek': { kekLabel: 'taken' },
    'POST /api/v1/application-servers/{name}/bundle': {},
    'POST /api/v1/application-servers/{name}/renew-certificate': { retireOld: true },
    'POST /api/v1/application-servers/{name}/retire-certificates': {},
    'POST /api/v1/application-servers/{name}/rotate-kek': { kekLabel: 'taken' },
  };
  /** Routes without another tenant's resource in the path: what mallory gets instead. */
  const collections: Record<string, () => Promise<void>> = {
    'GET /api/v1/openapi.json': async () => {},
    'GET /api/v1/whoami': async () => expect((await call('mallory', 'GET', '/whoami')).body.tenant.id).toBe('mallory'),
    'GET /api/v1/tenants': async () => expect((await call('mallory', 'GET', '/tenants')).body.tenants.map((t: { id: string }) => t.id)).toEqual(['mallory']),
    'POST /api/v1/tenants': async () => expect((await call('mallory', 'POST', '/tenants', { id: 'evil', roles: ['admin'] })).status).toBe(403),
    'GET /api/v1/devices': async () => {
      expect((await call('mallory', 'GET', '/devices?limit=1000')).body.total).toBe(0);
      expect((await call('mallory', 'GET', '/devices?q=00a11ce')).body).toEqual({ devices: [], total: 0 });
      expect((await call('mallory', 'GET', '/devices?owner=alice')).body.total).toBe(0);
    },
    'POST /api/v1/devices/import': async () =>
      expect((await call('mallory', 'POST', '/devices/import', { content: `dev_eui,join_eui,mac_version,app_key,nwk_key\n${aliceDevice},70b3d57ed0000000,1.0.3,${randomKey()},\n` })).status).toBe(400),
    'POST /api/v1/claims': async () => expect((await call('mallory', 'POST', '/claims', { devEUI: aliceDevice, ownerToken: 'GUESS' })).status).toBe(403),
    'GET /api/v1/network-servers': async () => expect((await call('mallory', 'GET', '/network-servers')).body.peers).toEqual([]),
    'POST /api/v1/network-servers': async () => expect((await call('mallory', 'POST', '/network-servers', { name: 'alice-ns', netID: '000013', vendor: 'generic' })).status).toBe(409),
    'GET /api/v1/application-servers': async () => expect((await call('mallory', 'GET', '/application-servers')).body.peers).toEqual([]),
    // Its own servers and the operator's: never another owner's.
    'GET /api/v1/binding-targets': async () => {
      const t = (await call('mallory', 'GET', '/binding-targets')).body as { networkServers: Array<{ tenant: string }>; applicationServers: Array<{ tenant: string }> };
      expect([...t.networkServers, ...t.applicationServers].filter((p) => p.tenant !== 'mallory' && p.tenant !== 'operator')).toEqual([]);
    },
    'POST /api/v1/application-servers': async () => expect((await call('mallory', 'POST', '/application-servers', { name: 'alice-as', asID: 'x' })).status).toBe(409),
    'GET /api/v1/audit': async () => {
      const events = (await call('mallory', 'GET', '/audit?limit=1000')).body.events as Array<{ tenantID: string; devEUI: string | null }>;
      expect(events.every((e) => e.tenantID === 'mallory')).toBe(true);
      expect((await call('mallory', 'GET', `/audit?devEUI=${aliceDevice}`)).body.events).toEqual([]);
    },
    'GET /api/v1/audit/verify': async () => expect((await call('mallory', 'GET', '/audit/verify')).status).toBe(403),
    'GET /api/v1/join-rate': async () => expect((await call('mallory', 'GET', '/join-rate?peer=alice-ns')).body.minutes.every((m: { joins: number; refusals: number }) => m.joins + m.refusals === 0)).toBe(true),
    'GET /api/v1/usage': async () => expect((await call('mallory', 'GET', '/usage?since=2000-01-01&tenant=alice')).status).toBe(404),
    // Fleet migrations are the operator's alone.
    'GET /api/v1/migrations': async () => expect((await call('mallory', 'GET', '/migrations')).status).toBe(403),
    'POST /api/v1/migrations': async () => expect((await call('mallory', 'POST', '/migrations', { sourcePeer: 'alice-ns', targetPeer: 'alice-ns' })).status).toBe(403),
    'POST /api/v1/migrations/plan': async () => expect((await call('mallory', 'POST', '/migrations/plan', { sourcePeer: 'alice-ns', targetPeer: 'alice-ns' })).status).toBe(403),
  };
  const walked: string[] = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    if (!p.startsWith('/api/v1/')) continue;
    for (const method of Object.keys(ops)) {
      const id = `${method.toUpperCase()} ${p}`;
      walked.push(id);
      if (!p.includes('{')) {
        const check = collections[id];
        if (!check) throw new Error(`${id}: no isolation check for this route; add one`);
        await check();
        continue;
      }
      const url = p.replace('/api/v1', '').replace(/\{(\w+)\}/g, (_m, name: string) => params[name]!);
      const r = await call('mallory', method.toUpperCase(), url, bodies[id]);
      expect([id, [403, 404].includes(r.status) ? 'refused' : r.status]).toEqual([id, 'refused']);
      expect(typeof r.body.code).toBe('string');
    }
  }
  expect(walked.length).toBeGreaterThan(20);
  expect(JSON.stringify(await store.getDevice(aliceDevice as never))).toBe(before);
  expect((await store.getApiKey(aliceKeyID))?.revokedAt).toBeNull();
  expect(await store.getPeer('alice-ns')).toMatchObject({ tenantID: 'alice', state: 'enabled', kekLabel: '000013', certificates: [expect.objectContaining({ retiresAt: null })] });
});

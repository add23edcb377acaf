import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { api, peerRequest, printedKey, writeBundle } from '../support/admin-api';
import { joinReqMessage } from '../support/bi-request';
import { cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * Acceptance of device ownership, end to end on the real server (`joinery serve`) with real BI
 * joins: a maker imports 100 devices, an owner claims 10 (a wrong token refused), binds them to
 * network server A: they join through A and not through B; the owner transfers one to another
 * owner, who binds it to B: it joins through B, no longer through A. Every step is in the audit
 * trail, whose hash chain `joinery audit verify` checks, and an edited row is found.
 */
const JOIN_EUI = '70b3d57ed0000000';
const NETID_A = '000013';
const NETID_B = '000014';

let work: string;
let dataDir: string;
let server: ServerProcess;
let adminKey: string;
const keys: Record<'maker' | 'alice' | 'bob', string> = { maker: '', alice: '', bob: '' };
let nsA: PeerBundle;
let nsB: PeerBundle;
const devices: DeviceKeys[] = [];
const tokens = new Map<string, string>();
const secrets = new Set<string>();
let nonce = 100;

const remote = (key: string): string[] => ['--url', server.adminURL, '--api-key', key];

async function join(d: DeviceKeys, ns: PeerBundle, netID: string): Promise<{ result: string; verified: boolean }> {
  const devNonce = nonce++;
  const r = await postJSON(server.biURL, joinReqMessage(d, devNonce, { senderID: netID }), ns);
  const result = r.body?.Result?.ResultCode as string;
  if (result !== 'Success') return { result, verified: false };
  const accepted = acceptJoin(d, devNonce, r.body.PHYPayload as string);
  return { result, verified: accepted.micValid && accepted.netID === netID };
}

beforeAll(async () => {
  work = await makeTempDir('ownership');
  dataDir = path.join(work, 'data');
  // Bootstrap on the local data directory: the first admin key.
  adminKey = printedKey((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'ops', '--roles', 'admin'])).stdout);
  server = await startServer(dataDir);
  for (const [id, roles] of [
    ['maker', 'manufacturer'],
    ['alice', 'owner'],
    ['bob', 'owner'],
  ] as const) {
    keys[id] = printedKey((await cli(['tenants', 'add', '--id', id, '--roles', roles, ...remote(adminKey)])).stdout);
  }
  // Each owner registers its network server through the admin API and gets its bundle.
  for (const [owner, name, netID] of [
    ['alice', 'ns-a', NETID_A],
    ['bob', 'ns-b', NETID_B],
  ] as const) {
    const r = await api(server.adminURL, keys[owner], 'POST', '/network-servers', { name, netID, vendor: 'generic' });
    expect(r.status).toBe(201);
    expect(r.body.peer).toMatchObject({ name, kind: 'ns', tenant: owner, netID });
    await writeBundle(path.join(work, name), r.body.bundle);
  }
  nsA = await readBundle(path.join(work, 'ns-a'));
  nsB = await readBundle(path.join(work, 'ns-b'));
  for (const b of [nsA, nsB]) secrets.add(b.kek.toString('hex'));

  for (let i = 0; i < 100; i++) {
    const d: DeviceKeys = { devEUI: `00aa${randomBytes(2).toString('hex')}0000${i.toString(16).padStart(4, '0')}`, joinEUI: JOIN_EUI, macVersion: i % 2 === 0 ? '1.0.3' : '1.0.4', appKey: randomKey() };
    secrets.add(d.appKey);
    devices.push(d);
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

test('ownership/maker imports 100 devices: unclaimed, each with an owner token and a TR005 QR payload on its label', async () => {
  const file = path.join(work, 'batch.csv');
  await fs.writeFile(file, ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devices.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},`)].join('\n') + '\n');
  const labels = path.join(work, 'labels.csv');
  const r = await cli(['devices', 'import', file, '--labels', labels, ...remote(keys.maker)]);
  expect(r.stdout).toContain('imported 100 pre-provisioned devices');
  expect((await fs.stat(labels)).mode & 0o777).toBe(0o600);
  const lines = (await fs.readFile(labels, 'utf8')).trim().split('\n');
  expect(lines[0]).toBe('dev_eui,join_eui,profile_id,owner_token,qr_payload');
  for (const line of lines.slice(1)) {
    const [devEUI, joinEUI, profileID, token, qr] = line.split(',');
    expect(token).toMatch(/^[A-Z0-9]{1,32}$/);
    expect(qr).toBe(`LW:D0:${joinEUI!.toUpperCase()}:${devEUI!.toUpperCase()}:${profileID}:O${token}`);
    tokens.set(devEUI!, token!);
  }
  expect(tokens.size).toBe(100);
  // The maker sees them, unclaimed; the owners see none; nobody sees a token.
  const list = await api(server.adminURL, keys.maker, 'GET', '/devices?limit=1000&claimed=false');
  expect(list.body.total).toBe(100);
  expect((await api(server.adminURL, keys.alice, 'GET', '/devices')).body.total).toBe(0);
  expect(list.text).not.toContain(tokens.get(devices[0]!.devEUI)!);
  // Not claimed: no network server may join it.
  expect((await join(devices[50]!, nsA, NETID_A)).result).toBe('ActivationDisallowed');
});

test('ownership/alice claims 10 with their tokens (a wrong token refused and counted), binds them to A: they join through A, not through B', async () => {
  const mine = devices.slice(0, 10);
  const wrong = await runCLI(['devices', 'claim', mine[0]!.devEUI, '--owner-token', 'WRONGTOKEN1', ...remote(keys.alice)]);
  expect(wrong.code).not.toBe(0);
  expect(wrong.stderr).toContain('invalid-owner-token');
  for (const d of mine) await cli(['devices', 'claim', d.devEUI, '--owner-token', tokens.get(d.devEUI)!, ...remote(keys.alice)]);
  // Bound by name, and by NetID (resolved to the one network server alice may use with it).
  for (const [i, d] of mine.entries()) {
    await cli(['devices', 'bind', d.devEUI, ...(i % 2 === 0 ? ['--ns', 'ns-a'] : ['--net-id', NETID_A]), ...remote(keys.alice)]);
  }
  // A NetID nobody of alice's has: a clear 4xx.
  const none = await runCLI(['devices', 'bind', mine[0]!.devEUI, '--net-id', '00abcd', ...remote(keys.alice)]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('unknown-network-server');
  // B is bob's: alice cannot bind to it.
  expect((await api(server.adminURL, keys.alice, 'PUT', `/devices/${mine[0]!.devEUI}/binding`, { networkServer: 'ns-b' })).status).toBe(422);

  for (const d of mine) {
    expect(await join(d, nsA, NETID_A)).toEqual({ result: 'Success', verified: true });
    expect((await join(d, nsB, NETID_B)).result).toBe('ActivationDisallowed');
  }
  const metrics = await (await fetch(new URL('metrics', server.adminURL))).text();
  expect(metrics).toMatch(/joinery_claim_failures_total\{reason="wrong-token"\} 1/);
});

test('ownership/alice transfers one to bob (new token, the old one stops working); bob binds it to B: it joins through B, no longer through A', async () => {
  const d = devices[0]!;
  const moved = await cli(['devices', 'transfer', d.devEUI, '--to', 'bob', ...remote(keys.alice)]);
  const newToken = /owner token \(shown once\): ([A-Z0-9]+)/.exec(moved.stdout)![1]!;
  expect(newToken).not.toBe(tokens.get(d.devEUI));
  expect(moved.stdout).toContain(`LW:D0:${JOIN_EUI.toUpperCase()}:${d.devEUI.toUpperCase()}:00000000:O${newToken}`);
  // Unbound until its new owner binds it.
  expect((await join(d, nsA, NETID_A)).result).toBe('ActivationDisallowed');
  expect((await api(server.adminURL, keys.alice, 'GET', `/devices/${d.devEUI}`)).status).toBe(404);
  await cli(['devices', 'bind', d.devEUI, '--net-id', NETID_B, ...remote(keys.bob)]);
  expect(await join(d, nsB, NETID_B)).toEqual({ result: 'Success', verified: true });
  expect((await join(d, nsA, NETID_A)).result).toBe('ActivationDisallowed');

  // The old token no longer claims it; the new one does.
  await cli(['devices', 'unclaim', d.devEUI, ...remote(keys.bob)]);
  expect((await join(d, nsB, NETID_B)).result).toBe('ActivationDisallowed');
  expect((await api(server.adminURL, keys.alice, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: tokens.get(d.devEUI) })).status).toBe(403);
  expect((await api(server.adminURL, keys.bob, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: newToken })).status).toBe(200);
  await cli(['devices', 'bind', d.devEUI, '--ns', 'ns-b', '--lock', ...remote(keys.bob)]);
  expect((await join(d, nsB, NETID_B)).result).toBe('Success');
  // Locked: no transfer until its owner unlocks it (the lock keeps others out, not its owner).
  expect((await api(server.adminURL, keys.bob, 'POST', `/devices/${d.devEUI}/transfer`, { tenant: 'alice' })).body.code).toBe('locked');
});

test('ownership/wrong tokens are rate-limited per device: after the burst, even the right token waits (429)', async () => {
  const d = devices[60]!;
  for (let i = 0; i < 5; i++) expect((await api(server.adminURL, keys.bob, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: `BAD${i}` })).status).toBe(403);
  const limited = await api(server.adminURL, keys.bob, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: tokens.get(d.devEUI) });
  expect(limited.status).toBe(429);
  expect(limited.body.code).toBe('rate-limited');
  expect((await api(server.adminURL, keys.bob, 'GET', `/devices/${d.devEUI}`)).status).toBe(404);
});

test('ownership/the owner deletes a device and the maker imports it again with the same keys: its old join-request is refused, its next JoinNonce is higher', async () => {
  // An owner of its own (alice's and bob's counts are checked below).
  const carol = printedKey((await cli(['tenants', 'add', '--id', 'carol', '--roles', 'owner', ...remote(adminKey)])).stdout);
  const NETID_C = '000015';
  const registered = await api(server.adminURL, carol, 'POST', '/network-servers', { name: 'ns-c', netID: NETID_C, vendor: 'generic' });
  expect(registered.status).toBe(201);
  await writeBundle(path.join(work, 'ns-c'), registered.body.bundle);
  const nsC = await readBundle(path.join(work, 'ns-c'));
  secrets.add(nsC.kek.toString('hex'));
  const d = devices[70]!;
  const claimAndBind = async (token: string): Promise<void> => {
    expect((await api(server.adminURL, carol, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: token })).status).toBe(200);
    expect((await api(server.adminURL, carol, 'PUT', `/devices/${d.devEUI}/binding`, { networkServer: 'ns-c' })).status).toBe(200);
  };
  await claimAndBind(tokens.get(d.devEUI)!);
  const devNonce = nonce++;
  const request = joinReqMessage(d, devNonce, { senderID: NETID_C });
  const first = await postJSON(server.biURL, request, nsC);
  expect(first.body.Result.ResultCode).toBe('Success');
  const before = acceptJoin(d, devNonce, first.body.PHYPayload as string);

  expect((await api(server.adminURL, carol, 'DELETE', `/devices/${d.devEUI}`)).status).toBe(204);
  const file = path.join(work, 'again.csv');
  const token = 'REIMPORTED' + randomBytes(3).toString('hex').toUpperCase();
  await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token\n${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},,${token}\n`);
  expect((await cli(['devices', 'import', file, ...remote(keys.maker)])).stdout).toContain('imported 1 pre-provisioned device');
  await claimAndBind(token);

  const replay = await postJSON(server.biURL, { ...request, TransactionID: (request['TransactionID'] as number) + 1 }, nsC);
  expect(replay.body.Result.ResultCode).toBe('JoinReqFailed');
  expect(replay.body).not.toHaveProperty('NwkSKey');
  const next = nonce++;
  const after = await postJSON(server.biURL, joinReqMessage(d, next, { senderID: NETID_C }), nsC);
  expect(after.body.Result.ResultCode).toBe('Success');
  expect(acceptJoin(d, next, after.body.PHYPayload as string).joinNonce).toBeGreaterThan(before.joinNonce);
});

test('ttjs/The Things Stack claims through the TTJS v2 claim API with its client certificate: claim, status, join, unclaim', async () => {
  const d = devices[20]!;
  const url = (p: string): string => new URL(`api/v2/devices/${p}`, server.biURL).href;
  const asKEK = randomKey();
  secrets.add(asKEK);
  const body = { ownerToken: tokens.get(d.devEUI), homeNetID: NETID_B, asID: 'as.bob.example', lock: true, kek: { label: 'bob-as', key: asKEK } };
  expect(await peerRequest(url(`${d.devEUI}/claim`), 'PUT', nsB, { ...body, ownerToken: 'NOPE' })).toMatchObject({ status: 403, body: { message: expect.any(String) } });
  expect((await peerRequest(url('00000000000000ff/claim'), 'PUT', nsB, body)).status).toBe(404);
  const claimed = await peerRequest(url(`${d.devEUI}/claim`), 'PUT', nsB, body);
  expect(claimed.status).toBe(200);
  expect(claimed.text).not.toContain(asKEK);
  expect(await peerRequest(url(`${d.devEUI}/claim`), 'GET', nsB)).toMatchObject({ status: 200, body: { homeNetID: NETID_B, locked: true } });
  // The claim is bob's (the peer's tenant); alice's network server sees another owner's device.
  expect((await peerRequest(url(`${d.devEUI}/claim`), 'GET', nsA)).status).toBe(403);
  const j = await postJSON(server.biURL, joinReqMessage(d, nonce, { senderID: NETID_B }), nsB);
  nonce++;
  expect(j.body.Result.ResultCode).toBe('Success');
  // The AppSKey goes wrapped under the AS KEK given with the claim.
  expect(j.body.AppSKey.KEKLabel).toBe('bob-as');
  const other = devices[21]!;
  await peerRequest(url(`${other.devEUI}/claim`), 'PUT', nsB, { ...body, ownerToken: tokens.get(other.devEUI), lock: false });
  const batch = await peerRequest(url(`${d.devEUI},${other.devEUI},0000000000000bad/claims`), 'DELETE', nsB);
  expect(batch.status).toBe(400);
  // The locked one is unclaimed too: its owner asked (a lock keeps other owners out); the unknown one is reported.
  expect(Object.keys(batch.body)).toEqual(['0000000000000bad']);
  expect((await peerRequest(url(`${other.devEUI}/claim`), 'GET', nsB)).status).toBe(404);
  expect((await peerRequest(url(`${d.devEUI}/claim`), 'GET', nsB)).status).toBe(404);
  expect((await peerRequest(url(`${d.devEUI}/claim`), 'DELETE', nsB)).status).toBe(404);
});

test('usage/devices activated per tenant: alice 10 (first joins), as CSV and JSON', async () => {
  const csv = await cli(['usage', '--tenant', 'alice', '--since', '2000-01-01', ...remote(adminKey)]);
  const rows = csv.stdout.trim().split('\n');
  expect(rows[0]).toBe('dev_eui,join_eui,tenant,activated_at');
  expect(rows).toHaveLength(11);
  const json = await cli(['usage', '--since', '2000-01-01', '--format', 'json', ...remote(keys.bob)]);
  expect(JSON.parse(json.stdout)).toMatchObject({ tenant: 'bob', activated: 1 });
  expect((await api(server.adminURL, keys.bob, 'GET', '/usage?since=2000-01-01&tenant=alice')).status).toBe(404);
});

test('audit/every step is on the record (who, tenant, from where); audit verify passes, and finds a row edited in the database', async () => {
  const events = JSON.parse((await cli(['audit', 'list', '--data-dir', dataDir, '--limit', '1000', '--json'])).stdout) as Array<{
    action: string;
    actor: string;
    tenantID: string | null;
    source: string | null;
    devEUI: string | null;
  }>;
  const actions = new Set(events.map((e) => e.action));
  for (const a of ['tenant.add', 'api-key.add', 'peer.add', 'device.import', 'device.claim', 'device.bind', 'device.transfer', 'device.unclaim']) expect(actions).toContain(a);
  const transfer = events.find((e) => e.action === 'device.transfer')!;
  expect(transfer).toMatchObject({ tenantID: 'alice', devEUI: devices[0]!.devEUI, actor: expect.stringMatching(/^api-key:[0-9a-f]{16}$/), source: expect.stringMatching(/127\.0\.0\.1/) });
  expect(events.filter((e) => e.action === 'device.claim' && e.tenantID === 'alice')).toHaveLength(10);
  expect((await cli(['audit', 'verify', '--data-dir', dataDir])).stdout).toMatch(/verified: \d+ entries/);
  expect((await cli(['audit', 'verify', ...remote(adminKey)])).stdout).toMatch(/verified/);

  await server.stop();
  const db = new Database(path.join(dataDir, 'joinery.db'));
  const row = db.prepare("SELECT id FROM audit_events WHERE action = 'device.transfer'").get() as { id: number };
  db.prepare('UPDATE audit_events SET detail = \'{"to":"mallory"}\' WHERE id = ?').run(row.id);
  db.close();
  const broken = await runCLI(['audit', 'verify', '--data-dir', dataDir]);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain(`entry ${row.id}`);
});

test('exposure/no root key or KEK in any output of the run, nor in any admin API answer; no owner token outside the answers that make one', async () => {
  server = await startServer(dataDir);
  const answers: string[] = [];
  for (const route of [
    '/devices?limit=1000',
    `/devices/${devices[1]!.devEUI}`,
    `/devices/${devices[1]!.devEUI}/session`,
    '/audit?limit=1000',
    '/network-servers',
    '/application-servers',
    '/tenants',
    '/usage?since=2000-01-01',
  ]) {
    const r = await api(server.adminURL, adminKey, 'GET', route);
    expect(r.status).toBe(200);
    answers.push(r.text);
  }
  const all = [...transcript, ...answers].join('\n').toLowerCase();
  for (const s of secrets) expect(all).not.toContain(s.toLowerCase());
  const reads = answers.join('\n');
  for (const t of tokens.values()) expect(reads).not.toContain(`"${t}"`);
  for (const k of Object.values(keys)) expect(reads).not.toContain(k.slice('jny_0123456789abcdef_'.length));
});

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { api, peerRequest, printedKey, writeBundle } from '../support/admin-api';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { randomKey } from '../support/lora-device';
import { readBundle } from '../support/network-server';
import { TTSClaimingClient } from '../support/tts-claiming-client';
import { readDCSDirectory } from '../adapters/vendor-rules/tts-dcs-config-rules';

/**
 * The Things Stack's Device Claiming Server against the real `joinery serve`: each TTS is set
 * up from the files Joinery rendered for it (laid out as their instructions say, read as its
 * loader reads them), and claims with the requests its client builds, its answers read as its
 * client reads them (test/src/support/tts-claiming-client.ts). The listener runs in the
 * `optional` client-certificate mode documented for TTS, so a missing certificate is an answer
 * TTS can name ("invalid credentials"), not a TLS error.
 */
const JOIN_EUI = '70b3d57ed0000000';
const PREFIX = '70b3d57ed0000000/40';

let work: string;
let server: ServerProcess;
const keys: Record<'maker' | 'acme' | 'other', string> = { maker: '', acme: '', other: '' };
let acmeTTS: TTSClaimingClient;
let otherTTS: TTSClaimingClient;
const devices: Array<{ devEUI: string; token: string }> = [];

/** Registers a TTS network server through the admin API and installs its Device Claiming Server's files as instructed. */
async function installTTS(
  owner: 'acme' | 'other',
  name: string,
  netID: string,
  nsID: string | null,
): Promise<{ client: TTSClaimingClient; dcsDir: string; files: Array<{ name: string; content: string; secret: boolean }>; instructions: string[] }> {
  const dcsDir = path.join(work, `dcs-${name}`);
  const r = await api(server.adminURL, keys[owner], 'POST', '/network-servers', { name, netID, ...(nsID ? { nsID } : {}), vendor: 'the-things-stack', joinEUIPrefixes: [PREFIX], installDir: dcsDir });
  expect(r.status).toBe(201);
  const files = r.body.setup.files as Array<{ name: string; content: string; secret: boolean }>;
  const bundleDir = path.join(work, `bundle-${name}`);
  await writeBundle(bundleDir, r.body.bundle);
  // As the instructions say: dcs-config.yml as config.yml, the entry file, ca.crt, client.crt, client.key in the directory.
  await fs.mkdir(dcsDir, { recursive: true });
  const rendered = (n: string): string => files.find((f) => f.name === n)!.content;
  await fs.writeFile(path.join(dcsDir, 'config.yml'), rendered('dcs-config.yml'));
  await fs.writeFile(path.join(dcsDir, `joinery-${name}.yml`), rendered(`joinery-${name}.yml`));
  for (const f of ['ca.crt', 'client.crt', 'client.key']) await fs.copyFile(path.join(bundleDir, f), path.join(dcsDir, f));
  const dcs = await readDCSDirectory(rendered('dcs.yml'), dcsDir);
  expect(dcs.problems).toEqual([]);
  expect(dcs.edcs).toEqual({ netID: netID.toUpperCase(), nsID: nsID ? nsID.toUpperCase() : null, asID: '', source: 'directory', directory: dcsDir });
  expect(dcs.joinServers).toHaveLength(1);
  // The listener's root, as TTS appends /api/v2/... to it.
  expect(dcs.joinServers[0]!.url).toBe(new URL(server.biURL).origin.replace('127.0.0.1', 'localhost'));
  return { client: await TTSClaimingClient.load(dcs.edcs!, dcs.joinServers[0]!), dcsDir, files, instructions: r.body.setup.instructions as string[] };
}

beforeAll(async () => {
  work = await makeTempDir('tts-claiming');
  const dataDir = path.join(work, 'data');
  const adminKey = printedKey((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'ops', '--roles', 'admin'])).stdout);
  server = await startServer(dataDir, ['--bi-client-certificates', 'optional']);
  for (const [id, roles] of [
    ['maker', 'manufacturer'],
    ['acme', 'owner'],
    ['other', 'owner'],
  ] as const) {
    keys[id] = printedKey((await cli(['tenants', 'add', '--id', id, '--roles', roles, '--url', server.adminURL, '--api-key', adminKey])).stdout);
  }
  acmeTTS = (await installTTS('acme', 'acme-tts', '000013', '70b3d57ed0000001')).client;
  otherTTS = (await installTTS('other', 'other-tts', '000014', null)).client;
  for (let i = 0; i < 60; i++) devices.push({ devEUI: `00cc${randomBytes(4).toString('hex')}${i.toString(16).padStart(4, '0')}`, token: `TOKEN${randomBytes(5).toString('hex').toUpperCase()}` });
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token', ...devices.map((d) => `${d.devEUI},${JOIN_EUI},1.0.3,${randomKey()},,${d.token}`)].join('\n');
  expect((await api(server.adminURL, keys.maker, 'POST', '/devices/import', { content: csv })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

test("tts-claiming/the rendered claiming setup: a join-servers entry without components, the listener root, the bundle's TLS files, dcs.edcs naming the network server", async () => {
  const { files, instructions } = await installTTS('acme', 'acme-tts-2', '000013', null);
  expect(parse(files.find((f) => f.name === 'dcs-config.yml')!.content)).toEqual({ 'join-servers': [{ file: './joinery-acme-tts-2.yml', 'join-euis': ['70B3D57ED0000000/40'], type: 'ttjsv2' }] });
  expect(parse(files.find((f) => f.name === 'joinery-acme-tts-2.yml')!.content).tls).toEqual({ source: 'file', 'root-ca': 'ca.crt', certificate: 'client.crt', key: 'client.key' });
  expect(parse(files.find((f) => f.name === 'dcs.yml')!.content)).toEqual({ dcs: { edcs: { 'net-id': '000013', source: 'directory', directory: path.join(work, 'dcs-acme-tts-2') } } });
  for (const name of ['dcs-config.yml', 'joinery-acme-tts-2.yml', 'dcs.yml']) expect(files.find((f) => f.name === name)!.secret).toBe(false);
  expect(instructions.join('\n')).toMatch(/dcs-config\.yml as config\.yml/);
});

test('tts-claiming/requests exactly as TTS builds them: upper-case EUIs, lock true, homeNetID/homeNSID/asID; claim, status, unclaim of the locked device', async () => {
  const d = devices[0]!;
  expect(acmeTTS.supportsJoinEUI(JOIN_EUI)).toBe(true);
  expect(await acmeTTS.claim(d.devEUI, d.token)).toEqual({ ok: true, value: null });
  const wire = acmeTTS.sent.at(-1)!;
  expect(wire).toMatchObject({ method: 'PUT', path: `/api/v2/devices/${d.devEUI.toUpperCase()}/claim`, headers: { 'Content-Type': 'application/json' } });
  expect(wire.body).toBe(`{"ownerToken":"${d.token}","homeNetID":"000013","homeNSID":"70B3D57ED0000001","asID":"","lock":true}`);
  expect((await api(server.adminURL, keys.acme, 'GET', `/devices/${d.devEUI}`)).body).toMatchObject({ owner: 'acme', networkServer: 'acme-tts', locked: true });

  expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: true, value: { homeNetID: '000013', homeNSID: '70B3D57ED0000001' } });
  // Locked keeps others out, not its owner: TTS's "unclaim and delete" goes through.
  expect(await acmeTTS.unclaim(d.devEUI)).toEqual({ ok: true, value: null });
  expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: false, error: { name: 'device_not_claimed' } });
  expect(await acmeTTS.unclaim(d.devEUI)).toEqual({ ok: false, error: { name: 'device_not_claimed' } });
  expect((await api(server.adminURL, keys.acme, 'GET', `/devices/${d.devEUI}`)).status).toBe(404);
});

test('tts-claiming/claim by another tenant: free once unclaimed; while claimed (and locked), refused in the words TTS shows its user', async () => {
  const d = devices[0]!;
  expect(await otherTTS.claim(d.devEUI, d.token)).toEqual({ ok: true, value: null });
  expect(otherTTS.sent.at(-1)!.body).toBe(`{"ownerToken":"${d.token}","homeNetID":"000014","asID":"","lock":true}`);
  expect(await otherTTS.claimStatus(d.devEUI)).toEqual({ ok: true, value: { homeNetID: '000014', homeNSID: null } });
  // acme has the right token, but the device is other's: 403 with the message TTS matches.
  expect(await acmeTTS.claim(d.devEUI, d.token)).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  expect(await acmeTTS.unclaim(d.devEUI)).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  const raw = await peerRequest(`${new URL(server.biURL).origin}/api/v2/devices/${d.devEUI.toUpperCase()}/claim`, 'PUT', await readBundle(path.join(work, 'bundle-acme-tts')), {
    ownerToken: d.token,
    homeNetID: '000013',
    asID: '',
    lock: true,
  });
  expect(raw).toMatchObject({ status: 403, body: { message: 'claim failed with given owner token' } });
  expect((await api(server.adminURL, keys.other, 'GET', `/devices/${d.devEUI}`)).body).toMatchObject({ owner: 'other', networkServer: 'other-tts' });
});

test('tts-claiming/errors TTS can name: wrong token (the exact message), not provisioned, no certificate (invalid credentials), a NetID nobody registered', async () => {
  const d = devices[1]!;
  expect(await acmeTTS.claim(d.devEUI, 'WRONGTOKEN1')).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  expect(await acmeTTS.claim('00000000000000ff', 'WRONGTOKEN1')).toEqual({ ok: false, error: { name: 'device_not_provisioned' } });
  expect(await acmeTTS.withoutCertificate().claim(d.devEUI, d.token)).toEqual({ ok: false, error: { name: 'credentials' } });
  expect(await acmeTTS.withoutCertificate().batchUnclaim([d.devEUI])).toEqual({ ok: false, error: { name: 'credentials' } });
  const bundle = await readBundle(path.join(work, 'bundle-acme-tts'));
  const unknownNet = await peerRequest(`${new URL(server.biURL).origin}/api/v2/devices/${d.devEUI.toUpperCase()}/claim`, 'PUT', bundle, { ownerToken: d.token, homeNetID: '000000', asID: '', lock: true });
  expect(unknownNet.status).toBe(400);
  expect(unknownNet.body.message).toMatch(/no registered network server with NetID 000000/);
});

test("tts-claiming/batch unclaim of 20 (TTS's most) in one path segment; a batch with failures names each by its EUI", async () => {
  const batch = devices.slice(2, 22);
  for (const d of batch) expect(await acmeTTS.claim(d.devEUI, d.token)).toEqual({ ok: true, value: null });
  expect(await acmeTTS.batchUnclaim(batch.map((d) => d.devEUI))).toEqual({ ok: true, value: null });
  expect(acmeTTS.sent.at(-1)).toMatchObject({ method: 'DELETE', path: `/api/v2/devices/${batch.map((d) => d.devEUI.toUpperCase()).join(',')}/claims`, body: null });
  for (const d of batch) expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: false, error: { name: 'device_not_claimed' } });

  for (const d of batch.slice(0, 18)) expect(await acmeTTS.claim(d.devEUI, d.token)).toEqual({ ok: true, value: null });
  // Two failures: one never claimed, one other's (devices[0]).
  const mixed = [...batch.slice(0, 18).map((d) => d.devEUI), batch[18]!.devEUI, devices[0]!.devEUI];
  const result = await acmeTTS.batchUnclaim(mixed);
  expect(result.ok).toBe(false);
  const errors = (result as { error: { name: string; errors: Record<string, string> } }).error;
  expect(errors.name).toBe('unclaim_devices');
  expect(Object.keys(errors.errors).sort()).toEqual([batch[18]!.devEUI.toUpperCase(), devices[0]!.devEUI.toUpperCase()].sort());
  expect(errors.errors[devices[0]!.devEUI.toUpperCase()]).toMatch(/another owner/);
  for (const d of batch.slice(0, 18)) expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: false, error: { name: 'device_not_claimed' } });

  // Joinery's own limit, 500 in one segment (8,499 characters), is heard; 501 is a clear 400.
  const many = Array.from({ length: 501 }, () => `ff${randomBytes(7).toString('hex')}`.toUpperCase());
  const atLimit = await acmeTTS.batchUnclaim(many.slice(0, 500));
  expect(atLimit.ok).toBe(false);
  expect(Object.keys((atLimit as { error: { errors: Record<string, string> } }).error.errors)).toHaveLength(500);
  expect(await acmeTTS.batchUnclaim(many)).toEqual({ ok: false, error: { name: 'internal_error', message: expect.stringMatching(/1 to 500/) } });
});

test("tts-claiming/wrong tokens of one TTS user do not refuse the others: the buckets are per DevEUI (and the peer), not the peer's tenant", async () => {
  // One user guesses on 25 devices (more than a tenant's burst of 20), one wrong token each.
  for (const d of devices.slice(30, 55)) expect(await acmeTTS.claim(d.devEUI, 'WRONGTOKEN2')).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  // Another user of the same TTS claims their device at once.
  const mine = devices[56]!;
  expect(await acmeTTS.claim(mine.devEUI, mine.token)).toEqual({ ok: true, value: null });
  // On one device the guesses are still bounded: after 5, even the right token waits (429).
  const target = devices[57]!;
  for (let i = 0; i < 4; i++) expect(await acmeTTS.claim(target.devEUI, `WRONGTOKEN${i}X`)).toEqual({ ok: false, error: { name: 'device_access_denied' } });
  expect(await acmeTTS.claim(target.devEUI, target.token)).toEqual({ ok: true, value: null });
  const other = devices[58]!;
  for (let i = 0; i < 5; i++) await acmeTTS.claim(other.devEUI, `WRONGTOKEN${i}Y`);
  expect(await acmeTTS.claim(other.devEUI, other.token)).toEqual({ ok: false, error: { name: 'http_status', status: 429 } });
});

test('tts-claiming/an AS-ID without an application server is said in the answer; a claimed device bound to no network server is not claimed for TTS (no NetID 000000)', async () => {
  const d = devices[59]!;
  const bundle = await readBundle(path.join(work, 'bundle-acme-tts'));
  const url = `${new URL(server.biURL).origin}/api/v2/devices/${d.devEUI.toUpperCase()}/claim`;
  const claimed = await peerRequest(url, 'PUT', bundle, { ownerToken: d.token, homeNetID: '000013', asID: 'as.acme.example', lock: true });
  expect(claimed.status).toBe(200);
  expect(claimed.body).toMatchObject({ applicationServer: null, message: expect.stringContaining('AS-ID as.acme.example') });
  expect(await acmeTTS.unclaim(d.devEUI)).toEqual({ ok: true, value: null });
  // Claimed through the admin API, never bound.
  expect((await api(server.adminURL, keys.acme, 'POST', '/claims', { devEUI: d.devEUI, ownerToken: d.token })).status).toBe(200);
  expect(await acmeTTS.claimStatus(d.devEUI)).toEqual({ ok: false, error: { name: 'device_not_claimed' } });
});

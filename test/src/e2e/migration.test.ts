import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { parseEUI64, type MACVersion } from '@joinery/core';
import { CLI, cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { MQTT_URL } from '../adapters/fake-network-server';
import { startChirpStackFake, type ChirpStackFake } from '../../../adapters/chirpstack/test/fake-chirpstack';
import { startTTSFake, type TTSFake } from '../../../adapters/the-things-stack/test/fake-the-things-stack';

/**
 * Fleet migration end to end: devices bound to a ChirpStack (the real in-process gRPC fake)
 * move to a The Things Stack (the HTTP fake) through `joinery migrate`, while simulated devices
 * re-join through a real `joinery serve` with the target's certificate at random times (and
 * are refused until the migration lets the target join them).
 */
jest.setTimeout(300_000);

const JOIN_EUI = '70b3d57ed0000000';
const TTS_NS_ID = '70b3d57ed0000001';

let work: string;
let dataDir: string;
let server: ServerProcess;
const agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
const fakes: Array<ChirpStackFake | TTSFake> = [];

interface Route {
  readonly source: string;
  readonly target: string;
  readonly cs: ChirpStackFake;
  readonly tts: TTSFake;
  readonly ttsBundle: PeerBundle;
  readonly devices: DeviceKeys[];
}

async function addPeers(tag: string, netIDs: [string, string]): Promise<Omit<Route, 'devices'>> {
  const cs = await startChirpStackFake();
  const tts = await startTTSFake();
  fakes.push(cs, tts);
  const source = `cs-${tag}`;
  const target = `tts-${tag}`;
  const csKey = path.join(work, `${source}.key`);
  const ttsKey = path.join(work, `${target}.key`);
  await fs.writeFile(csKey, `${cs.apiKey}\n`, { mode: 0o600 });
  await fs.writeFile(ttsKey, `${tts.apiKey}\n`, { mode: 0o600 });
  await cli([
    'ns',
    'add',
    '--data-dir',
    dataDir,
    '--name',
    source,
    '--net-id',
    netIDs[0],
    '--vendor',
    'chirpstack',
    '--out',
    path.join(work, source),
    '--api-url',
    cs.url,
    '--api-key-file',
    csKey,
    '--application-id',
    cs.applicationId,
    '--tenant-id',
    cs.tenantId,
    '--mqtt-url',
    MQTT_URL,
    '--mqtt-topic-prefix',
    cs.topicPrefix,
  ]);
  await cli([
    'ns',
    'add',
    '--data-dir',
    dataDir,
    '--name',
    target,
    '--net-id',
    netIDs[1],
    '--ns-id',
    TTS_NS_ID,
    '--vendor',
    'the-things-stack',
    '--out',
    path.join(work, target),
    '--api-url',
    tts.url,
    '--api-key-file',
    ttsKey,
    '--application-id',
    tts.applicationId,
    '--mqtt-url',
    MQTT_URL,
    '--mqtt-topic-prefix',
    tts.topicPrefix,
  ]);
  return { source, target, cs, tts, ttsBundle: await readBundle(path.join(work, target)) };
}

/** n devices bound to the source here, and registered on the source ChirpStack by `ns sync`. */
async function fleet(route: Omit<Route, 'devices'>, n: number): Promise<Route> {
  const prefix = randomBytes(3).toString('hex');
  const devices: DeviceKeys[] = Array.from({ length: n }, (_, i) => {
    const devEUI = `${prefix}${i.toString(16).padStart(10, '0')}`;
    return i % 2 === 0 ? { devEUI, joinEUI: JOIN_EUI, macVersion: '1.0.4', appKey: randomKey() } : { devEUI, joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
  });
  const csv = path.join(work, `devices-${prefix}.csv`);
  await fs.writeFile(csv, ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devices.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)].join('\n') + '\n');
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--ns', route.source]);
  await cli(['ns', 'sync', route.source, '--data-dir', dataDir]);
  for (const d of devices) expect(route.cs.devices.has(d.devEUI)).toBe(true);
  return { ...route, devices };
}

/** One JoinReq through the target NS (BI 1.1, as The Things Stack sends it). */
async function joinViaTarget(route: Route, d: DeviceKeys, devNonce: number): Promise<string> {
  const answer = await postJSON(
    server.biURL,
    {
      ProtocolVersion: '1.1',
      SenderID: route.ttsBundle.peer['netID'] ?? route.ttsBundle.peer['net_id'],
      SenderNSID: TTS_NS_ID,
      ReceiverID: d.joinEUI,
      TransactionID: randomInt(1, 2 ** 31),
      MessageType: 'JoinReq',
      MACVersion: d.macVersion === '1.1' ? '1.1' : '1.0.4',
      PHYPayload: joinRequest(d, devNonce).toString('hex'),
      DevEUI: d.devEUI,
      DevAddr: '26011234',
      DLSettings: '00',
      RxDelay: 1,
    },
    route.ttsBundle,
    agent,
  );
  if (answer.status !== 200) throw new Error(`JoinReq: HTTP ${answer.status} ${answer.text}`);
  return answer.body.Result.ResultCode as string;
}

interface Joins {
  /** DevEUI → how many requests the source fake had seen when the successful join was sent. */
  readonly sentAt: Map<string, number>;
  readonly refused: { n: number };
  stop(): void;
  done: Promise<void>;
}

/**
 * Every device (but `never`) re-joins through the target at a random time in the first
 * `spreadMs`, then again every 100-400 ms while Joinery refuses it (not yet allowed there).
 */
function simulateRejoins(route: Route, spreadMs: number, never: ReadonlySet<string> = new Set()): Joins {
  const sentAt = new Map<string, number>();
  const refused = { n: 0 };
  let stopped = false;
  let slots = 24;
  const waiting: Array<() => void> = [];
  const slot = async <T>(f: () => Promise<T>): Promise<T> => {
    if (slots === 0) await new Promise<void>((r) => waiting.push(r));
    else slots--;
    try {
      return await f();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else slots++;
    }
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const done = Promise.all(
    route.devices
      .filter((d) => !never.has(d.devEUI))
      .map(async (d) => {
        await sleep(randomInt(0, spreadMs));
        for (let devNonce = 1; !stopped; devNonce++) {
          const before = route.cs.requests().length;
          const result = await slot(() => joinViaTarget(route, d, devNonce));
          if (result === 'Success') {
            sentAt.set(d.devEUI, before);
            return;
          }
          expect(result).toBe('ActivationDisallowed');
          refused.n++;
          await sleep(randomInt(100, 400));
        }
      }),
  ).then(() => undefined);
  return {
    sentAt,
    refused,
    done,
    stop() {
      stopped = true;
    },
  };
}

function spawnMigrate(args: readonly string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null>; id: Promise<string> } {
  const child = spawn(process.execPath, [CLI, 'migrate', ...args, '--data-dir', dataDir, '--poll-ms', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let resolveID: (id: string) => void;
  const id = new Promise<string>((r) => (resolveID = r));
  const onData = (c: Buffer): void => {
    out += c.toString();
    const m = /migration (mig-[0-9a-f]{12}) created/.exec(out);
    if (m) resolveID(m[1]!);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      transcript.push(out);
      r(code);
    }),
  );
  return { child, output: () => out, exited, id };
}

/** The source fake's Delete requests, in the order it got them, by DevEUI. */
function sourceDeletes(cs: ChirpStackFake): Array<{ index: number; devEUI: string }> {
  return cs
    .requests()
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => r.operation === '/api.DeviceService/Delete' && r.fault === null)
    .map(({ r, index }) => ({ index, devEUI: (JSON.parse(r.body.split('\n')[0]!) as { devEui: string }).devEui }));
}

/** TTS Identity Server creates (the one non-upsert registration call) per device id. */
function targetCreates(tts: TTSFake): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of tts.requests()) {
    if (r.operation !== `POST /api/v3/applications/${tts.applicationId}/devices` || r.fault !== null) continue;
    const id = (JSON.parse(r.body.split('\n')[1]!) as { end_device: { ids: { device_id: string } } }).end_device.ids.device_id;
    n.set(id, (n.get(id) ?? 0) + 1);
  }
  return n;
}

async function report(id: string): Promise<any> {
  return JSON.parse((await cli(['migrate', 'report', id, '--data-dir', dataDir, '--json'])).stdout);
}

/** The final state every successful overlap migration of `route` must reach. */
async function expectMigrated(route: Route, id: string, joins: Joins): Promise<void> {
  const r = await report(id);
  expect(r.status).toBe('finished');
  expect(r.counts.done).toBe(route.devices.length);
  expect(r.total).toBe(route.devices.length);
  // Off the source, on the target (all three TTS registries), bound to the target alone here.
  for (const d of route.devices) {
    expect(route.cs.devices.has(d.devEUI)).toBe(false);
    expect(route.tts.ns.has(`eui-${d.devEUI}`)).toBe(true);
  }
  const list = JSON.parse((await cli(['devices', 'list', '--data-dir', dataDir, '--ns', route.target, '--limit', '100000', '--json'])).stdout) as Array<Record<string, unknown>>;
  const ours = new Set(route.devices.map((d) => d.devEUI));
  const bound = list.filter((d) => ours.has(d['devEUI'] as string));
  expect(bound).toHaveLength(route.devices.length);
  for (const d of bound) expect(d).toMatchObject({ networkServer: route.target, migratingTo: null, lastJoinNetworkServer: route.target });
  // Each device left the source only after the join through the target that moved it was sent.
  const deletes = sourceDeletes(route.cs);
  for (const del of deletes) {
    const sent = joins.sentAt.get(del.devEUI);
    expect(sent).toBeDefined();
    expect(del.index).toBeGreaterThanOrEqual(sent!);
  }
  expect(new Set(deletes.map((d) => d.devEUI)).size).toBe(route.devices.length);
  // The migration never registered anything on the source, nor removed anything from the target.
  const syncCreates = route.devices.length;
  expect(route.cs.requests().filter((q) => q.operation === '/api.DeviceService/Create')).toHaveLength(syncCreates);
  expect(route.tts.requests().filter((q) => q.operation.startsWith('DELETE'))).toHaveLength(0);
  // No key in the report.
  const text = JSON.stringify(r).toLowerCase();
  for (const d of route.devices.slice(0, 50)) expect(text).not.toContain(d.appKey);
}

beforeAll(async () => {
  work = await makeTempDir('migration');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'placeholder', '--net-id', '000001', '--vendor', 'generic', '--out', path.join(work, 'placeholder')]);
  server = await startServer(dataDir);
});

afterAll(async () => {
  agent.destroy();
  await server?.stop();
  for (const f of fakes) await f.stop();
});

describe('e2e/migration', () => {
  test('1000 devices, ChirpStack to The Things Stack, overlap: all done, each removed from the source only after its join through the target', async () => {
    const route = await fleet(await addPeers('a', ['000013', '000014']), 1000);
    const started = Date.now();
    const apply = spawnMigrate(['apply', '--from', route.source, '--to', route.target, '--rate-limit', 'chirpstack=500/16', 'the-things-stack=500/16']);
    const joins = simulateRejoins(route, 4000);
    const code = await apply.exited;
    joins.stop();
    await joins.done;
    if (code !== 0) throw new Error(apply.output());
    const id = await apply.id;
    expect(apply.output()).toContain(`migration ${id} finished: done 1000`);
    await expectMigrated(route, id, joins);
    // Devices that tried before the target was allowed were refused, then joined.
    expect(joins.refused.n).toBeGreaterThan(0);
    for (const [deviceID, n] of targetCreates(route.tts)) expect([deviceID, n]).toEqual([deviceID, 1]);
    // Audited: the migration, and two rebindings per device.
    const audit = JSON.parse((await cli(['audit', 'list', '--data-dir', dataDir, '--limit', '5000', '--json'])).stdout) as Array<{ action: string; detail: Record<string, unknown> }>;
    expect(audit.filter((a) => a.action === 'device.rebound' && a.detail['migration'] === id)).toHaveLength(2000);
    expect(audit.filter((a) => a.action === 'migration.created' && a.detail['migration'] === id)).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'migration.finished' && a.detail['migration'] === id)).toHaveLength(1);
    console.log(`1000-device overlap migration with re-joins: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('the same with the migration killed (kill -9) at three random moments: resumed to the same final state, no duplicate registration', async () => {
    const route = await fleet(await addPeers('k', ['000023', '000024']), 1000);
    const joins = simulateRejoins(route, 6000);
    let run = spawnMigrate(['apply', '--from', route.source, '--to', route.target, '--rate-limit', 'chirpstack=200/8', 'the-things-stack=200/8']);
    const id = await run.id;
    const kills: string[] = [];
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, randomInt(300, 1800)));
      if (run.child.exitCode !== null) break;
      const counts = JSON.parse((await cli(['migrate', 'status', id, '--data-dir', dataDir, '--json'])).stdout).counts;
      run.child.kill('SIGKILL');
      expect(await run.exited).toBeNull();
      kills.push(JSON.stringify(counts));
      run = spawnMigrate(['resume', id]);
    }
    expect(kills).toHaveLength(3);
    const code = await run.exited;
    joins.stop();
    await joins.done;
    if (code !== 0) throw new Error(run.output());
    await expectMigrated(route, id, joins);
    // A registration repeated after a kill is the idempotent kind (TTS answers 409 to a second
    // create of a device it has, which the adapter takes as "already there"): at most the
    // devices in flight at the three kills, and never a third time.
    const creates = targetCreates(route.tts);
    expect(creates.size).toBe(1000);
    const repeated = [...creates.values()].filter((n) => n > 1);
    expect(repeated.every((n) => n <= 4)).toBe(true);
    expect(repeated.length).toBeLessThanOrEqual(3 * 16);
    console.log(`kill -9 at ${kills.join(' | ')}: ${repeated.length} registration(s) repeated`);
  });

  test('a device that never re-joins is reported at the deadline and, with rollback, bound to and registered on the source again', async () => {
    const route = await fleet(await addPeers('d', ['000033', '000034']), 4);
    const lost = route.devices[3]!;
    const joins = simulateRejoins(route, 500, new Set([lost.devEUI]));
    const run = spawnMigrate(['apply', '--from', route.source, '--to', route.target, '--deadline', '5s', '--rollback-at-deadline']);
    const code = await run.exited;
    joins.stop();
    await joins.done;
    if (code !== 0) throw new Error(run.output());
    const id = await run.id;
    const r = await report(id);
    expect(r.status).toBe('rolled-back');
    expect(r.counts).toMatchObject({ done: 3, 'rolled-back': 1 });
    const entry = r.devices.find((d: any) => d.devEUI === lost.devEUI);
    expect(entry).toMatchObject({ state: 'rolled-back', failedStep: 'rebound', joinedAt: null });
    expect(entry.lastError).toContain('deadline');
    const shown = JSON.parse((await cli(['devices', 'show', lost.devEUI, '--data-dir', dataDir, '--json'])).stdout);
    expect(shown).toMatchObject({ networkServer: route.source, migratingTo: null });
    expect(route.cs.devices.has(lost.devEUI)).toBe(true);
    expect(route.tts.is.has(`eui-${lost.devEUI}`)).toBe(false);
    // It joins through the source again, and no longer through the target.
    expect(await joinViaTarget(route, lost, 900)).toBe('ActivationDisallowed');
    const table = (await cli(['migrate', 'report', id, '--data-dir', dataDir])).stdout;
    expect(table).toMatch(new RegExp(`${lost.devEUI}\\s+rolled-back\\s+rebound`));
  });

  test('a device the target already joins itself (its own Join Server has it) is parked with the reason; resumed with --remove-network-server-keys it moves', async () => {
    const route = await fleet(await addPeers('own-keys', ['000063', '000064']), 3);
    const owned = route.devices[0]!;
    const target = route.tts.adapter();
    await target.registerDevice({ devEUI: parseEUI64(owned.devEUI), joinEUI: parseEUI64(owned.joinEUI), macVersion: owned.macVersion as MACVersion });
    route.tts.seedLocalJoin!(owned.devEUI);
    const run = spawnMigrate(['apply', '--strategy', 'cutover', '--from', route.source, '--to', route.target]);
    await run.exited;
    const id = await run.id;
    let r = await report(id);
    expect(r.counts).toMatchObject({ done: 2, parked: 1 });
    const entry = r.devices.find((d: any) => d.devEUI === owned.devEUI);
    expect(entry).toMatchObject({ state: 'parked', failedStep: 'planned' });
    expect(entry.lastError).toContain('own Join Server has it');
    expect(entry.lastError).toContain(`joinery migrate resume ${id} --remove-network-server-keys`);
    expect(route.tts.js.has(`eui-${owned.devEUI}`)).toBe(true); // nothing removed without the operator's word

    const resumed = spawnMigrate(['resume', id, '--remove-network-server-keys']);
    const code = await resumed.exited;
    if (code !== 0) throw new Error(resumed.output());
    r = await report(id);
    expect(r.counts).toMatchObject({ done: 3 });
    expect(route.tts.js.has(`eui-${owned.devEUI}`)).toBe(false);
    expect(route.cs.devices.has(owned.devEUI)).toBe(false);
    const audit = JSON.parse((await cli(['audit', 'list', '--data-dir', dataDir, '--dev-eui', owned.devEUI, '--json'])).stdout) as Array<{ action: string; detail: Record<string, unknown> }>;
    expect(audit.find((a) => a.action === 'ns.local-join.removed')?.detail).toMatchObject({ peer: route.target, vendor: 'the-things-stack', removed: true, migrationID: id });
  });

  test('a target answering 429 for a while slows the migration down but fails nothing', async () => {
    const route = await fleet(await addPeers('r', ['000043', '000044']), 40);
    route.tts.failNext(30, 'rate-limited', 0.2);
    const started = Date.now();
    const run = spawnMigrate(['apply', '--strategy', 'cutover', '--from', route.source, '--to', route.target, '--rate-limit', 'the-things-stack=100/4', 'chirpstack=100/4']);
    const code = await run.exited;
    if (code !== 0) throw new Error(run.output());
    const r = await report(await run.id);
    expect(r.counts).toMatchObject({ done: 40, parked: 0 });
    for (const d of r.devices) expect(d.attempts).toBe(0); // a 429 is not a failed attempt
    expect(route.tts.requests().filter((q) => q.fault === 'rate-limited')).toHaveLength(30);
    expect(Date.now() - started).toBeGreaterThan(1000);
    for (const d of route.devices) {
      expect(route.cs.devices.has(d.devEUI)).toBe(false);
      expect(route.tts.ns.has(`eui-${d.devEUI}`)).toBe(true);
    }
  });

  test('a migration the server was running when it stopped is carried on by the next start, without a resume', async () => {
    const route = await fleet(await addPeers('restart', ['000055', '000056']), 6);
    const apiKey = /(jny_\S+)/.exec((await cli(['api-keys', 'create', '--data-dir', dataDir, '--tenant', 'operator', '--scopes', 'admin'])).stdout)![1]!;
    const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${server.adminURL}api/v1/migrations${p}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: await res.json() };
    };
    // Cutover at 2 calls/s on the target: about 3 s for 6 devices; the server stops long before.
    const created = await api('POST', '', { sourcePeer: route.source, targetPeer: route.target, strategy: 'cutover', limits: { 'the-things-stack': { ratePerSecond: 2, concurrency: 1 } } });
    expect(created).toMatchObject({ status: 201, body: { status: 'running' } });
    const id = created.body.id as string;
    await new Promise((r) => setTimeout(r, 700));
    await server.stop();
    const stopped = await cli(['migrate', 'report', id, '--json', '--data-dir', dataDir]);
    const states = (JSON.parse(stopped.stdout).devices as Array<{ state: string }>).map((d) => d.state);
    expect(states.filter((s) => s === 'done').length).toBeLessThan(6);
    server = await startServer(dataDir);
    await server.outputMatching(/fleet migration resumed at start/);
    let status = (await api('GET', `/${id}`)).body;
    for (let i = 0; i < 150 && status.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api('GET', `/${id}`)).body;
    }
    expect(status).toMatchObject({ status: 'finished', counts: { done: 6 } });
    for (const d of route.devices) {
      expect(route.tts.ns.has(`eui-${d.devEUI}`)).toBe(true);
      expect(route.cs.devices.has(d.devEUI)).toBe(false);
    }
  });

  test('admin API: plan, create, status, report; bad input gets {code, message}', async () => {
    const route = await fleet(await addPeers('api', ['000053', '000054']), 3);
    // The operator's API key (migrations are the operator's alone).
    const apiKey = /(jny_\S+)/.exec((await cli(['api-keys', 'create', '--data-dir', dataDir, '--tenant', 'operator', '--scopes', 'admin'])).stdout)![1]!;
    const api = async (method: string, p: string, body?: unknown, key: string | null = apiKey): Promise<{ status: number; body: any }> => {
      const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
      const res = await fetch(`${server.adminURL}api/v1/migrations${p}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: await res.json() };
    };
    expect(await api('GET', '', undefined, null)).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    expect(await api('GET', '/mig-000000000000')).toMatchObject({ status: 404, body: { code: 'migration-not-found' } });
    expect((await api('GET', '/nope')).status).toBe(400);
    expect(await api('POST', '/plan', { sourcePeer: route.source, targetPeer: route.source })).toMatchObject({ status: 400, body: { code: 'same-peer' } });
    expect(await api('POST', '/plan', { sourcePeer: route.source, targetPeer: 'placeholder' })).toMatchObject({ status: 409, body: { code: 'no-adapter' } });
    expect(await api('POST', '/plan', { sourcePeer: route.source, targetPeer: route.target, deadline: 'soon' })).toMatchObject({ status: 400, body: { code: 'bad-request' } });
    const plan = await api('POST', '/plan', { sourcePeer: route.source, targetPeer: route.target, selection: { kind: 'dev-euis', devEUIs: route.devices.map((d) => d.devEUI) } });
    expect(plan).toMatchObject({ status: 200, body: { devices: 3, skipped: [] } });
    const created = await api('POST', '', { sourcePeer: route.source, targetPeer: route.target, strategy: 'cutover', limits: { 'the-things-stack': { ratePerSecond: 50, concurrency: 2 } } });
    expect(created).toMatchObject({ status: 201, body: { status: 'running', total: 3 } });
    const id = created.body.id as string;
    // The same devices cannot enter a second migration while in this one.
    expect(await api('POST', '', { sourcePeer: route.source, targetPeer: route.target })).toMatchObject({ status: 409 });
    let status = created.body;
    for (let i = 0; i < 100 && status.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api('GET', `/${id}`)).body;
    }
    expect(status).toMatchObject({ status: 'finished', counts: { done: 3 } });
    const rep = await api('GET', `/${id}/report`);
    expect(rep.body.devices.map((d: any) => d.state)).toEqual(['done', 'done', 'done']);
    expect((await api('GET', '')).body.migrations.map((m: any) => m.id)).toContain(id);
    expect(await api('POST', `/${id}/rollback`)).toMatchObject({ status: 202 });
    const bad = await runCLI(['migrate', 'status', 'mig-nope', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);

    // No root key on any surface a migration adds: API answers, CLI report and status, the
    // audit trail, metrics.
    const surfaces = [
      JSON.stringify([plan.body, created.body, status, rep.body, (await api('GET', '')).body, (await api('GET', `/${id}`)).body]),
      (await cli(['migrate', 'report', id, '--json', '--data-dir', dataDir])).stdout,
      (await cli(['migrate', 'report', id, '--data-dir', dataDir])).stdout,
      (await cli(['migrate', 'status', id, '--data-dir', dataDir])).stdout,
      (await cli(['audit', 'list', '--json', '--limit', '1000', '--data-dir', dataDir])).stdout,
      await (await fetch(`${server.adminURL}metrics`)).text(),
    ]
      .join('\n')
      .toLowerCase();
    expect(surfaces).toContain(route.devices[0]!.devEUI.toLowerCase());
    for (const d of route.devices) {
      expect(surfaces).not.toContain(d.appKey.toLowerCase());
      if (d.nwkKey) expect(surfaces).not.toContain(d.nwkKey.toLowerCase());
    }
  });
});

import { randomBytes, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * Join events on Mosquitto (127.0.0.1:1883; a random topic prefix per run, CI reuses the
 * broker), the join metrics on /metrics, and a broker that is down never holding up a join.
 */

const BROKER = process.env['JOINERY_TEST_MQTT'] ?? 'mqtt://127.0.0.1:1883';
const JOIN_EUI = '70b3d57ed0000000';
const PREFIX = `joinery-test-${randomBytes(6).toString('hex')}`;

let work: string;
let dataDir: string;
let ns: PeerBundle;
let server: ServerProcess;
let subscriber: MqttClient;
const received: { topic: string; payload: string }[] = [];
const secrets = new Set<string>();
const d103: DeviceKeys = { devEUI: '00000000000e0103', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const d11: DeviceKeys = { devEUI: '00000000000e0110', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
/** Given to the tenant acme, which binds it to the operator's network server. */
const dAcme: DeviceKeys = { devEUI: '00000000000e0a01', joinEUI: JOIN_EUI, macVersion: '1.0.4', appKey: randomKey() };
const spare: DeviceKeys[] = [0, 1, 2, 3].map((i) => ({ devEUI: `00000000000f010${i}`, joinEUI: JOIN_EUI, macVersion: '1.0.4', appKey: randomKey() }));

function joinReq(d: DeviceKeys, devNonce: number, micKey?: string): Record<string, unknown> {
  return {
    ProtocolVersion: '1.1',
    SenderID: ns.peer['netID'],
    ReceiverID: d.joinEUI,
    TransactionID: randomInt(1, 2 ** 31),
    MessageType: 'JoinReq',
    MACVersion: d.macVersion,
    PHYPayload: joinRequest(micKey ? { ...d, appKey: micKey, nwkKey: undefined } : d, devNonce).toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: d.nwkKey ? '80' : '00',
    RxDelay: 1,
  };
}

async function join(url: string, d: DeviceKeys, devNonce: number, micKey?: string): Promise<Record<string, any>> {
  const a = await postJSON(url, joinReq(d, devNonce, micKey), ns);
  expect(a.status).toBe(200);
  for (const f of ['NwkSKey', 'FNwkSIntKey', 'SNwkSIntKey', 'NwkSEncKey', 'AppSKey']) if (a.body?.[f]) secrets.add(String(a.body[f].AESKey).toLowerCase());
  return a.body as Record<string, any>;
}

function get(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

async function until<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  work = await makeTempDir('events');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-ev', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-ev')]);
  ns = await readBundle(path.join(work, 'ns-ev'));
  secrets.add(ns.kek.toString('hex'));
  const all = [d103, d11, dAcme, ...spare];
  for (const d of all) {
    secrets.add(d.appKey);
    if (d.nwkKey) secrets.add(d.nwkKey);
  }
  const lines = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...all.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
  await fs.writeFile(path.join(work, 'd.csv'), `${lines.join('\n')}\n`);
  await cli(['devices', 'import', path.join(work, 'd.csv'), '--data-dir', dataDir, '--ns', 'ns-ev']);
  await cli(['tenants', 'add', '--id', 'acme', '--roles', 'owner', '--data-dir', dataDir]);
  await cli(['devices', 'transfer', dAcme.devEUI, '--to', 'acme', '--data-dir', dataDir]);
  await cli(['devices', 'bind', dAcme.devEUI, '--ns', 'ns-ev', '--as-tenant', 'acme', '--data-dir', dataDir]);

  subscriber = connect(BROKER, { reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    subscriber.once('connect', () => resolve());
    subscriber.once('error', reject);
  });
  subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  await subscriber.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  server = await startServer(dataDir, ['--mqtt-url', BROKER, '--mqtt-topic-prefix', PREFIX]);
  await until(() => (server.output().includes('mqtt connected') ? true : undefined));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await subscriber?.endAsync();
});

test('ops/events/a join publishes <prefix>/<owner tenant>/devices/<deveui>/join with identifiers, result and JoinNonce, no key', async () => {
  const answer = await join(server.biURL, d103, 1000);
  expect(answer['Result']).toEqual({ ResultCode: 'Success' });
  // The operator imported it, and owns it.
  const m = await until(() => received.find((r) => r.topic === `${PREFIX}/operator/devices/${d103.devEUI}/join`));
  const event = JSON.parse(m.payload) as Record<string, unknown>;
  expect(event).toMatchObject({ messageType: 'JoinReq', devEUI: d103.devEUI, joinEUI: JOIN_EUI, tenant: 'operator', peer: 'ns-ev', macVersion: '1.0.3', result: 'Success', devNonce: 1000 });
  expect(typeof event['joinNonce']).toBe('number');
  expect(Date.parse(String(event['time']))).toBeGreaterThan(Date.now() - 60_000);
  expect(Object.keys(event).filter((k) => /key/i.test(k))).toEqual([]);
  for (const s of secrets) expect(m.payload.toLowerCase()).not.toContain(s);
});

test("ops/events/a device another tenant owns: its events go to that tenant's topic, accepted or refused", async () => {
  expect((await join(server.biURL, dAcme, 7))['Result']).toEqual({ ResultCode: 'Success' });
  await join(server.biURL, dAcme, 8, randomKey()); // wrong MIC
  const events = await until(() => {
    const e = received.filter((r) => r.topic === `${PREFIX}/acme/devices/${dAcme.devEUI}/join`).map((r) => JSON.parse(r.payload) as Record<string, unknown>);
    return e.length >= 2 ? e : undefined;
  });
  expect(events.map((e) => [e['tenant'], e['result']]).sort()).toEqual([
    ['acme', 'MICFailed'],
    ['acme', 'Success'],
  ]);
  expect(received.filter((r) => r.topic.includes(dAcme.devEUI) && !r.topic.startsWith(`${PREFIX}/acme/`))).toEqual([]);
});

test('ops/events/a refused join is an event too (result and description, no JoinNonce)', async () => {
  await join(server.biURL, d11, 5);
  await join(server.biURL, d11, 5); // replayed DevNonce
  await join(server.biURL, d103, 1001, randomKey()); // wrong MIC
  const events = await until(() => {
    const e = received.filter((r) => r.topic.endsWith('/join') && !r.topic.includes(dAcme.devEUI)).map((r) => JSON.parse(r.payload) as Record<string, unknown>);
    return e.length >= 4 ? e : undefined;
  });
  const refused = events.filter((e) => e['result'] !== 'Success');
  expect(refused.map((e) => [e['devEUI'], e['result']]).sort()).toEqual(
    [
      [d103.devEUI, 'MICFailed'],
      [d11.devEUI, 'JoinReqFailed'],
    ].sort(),
  );
  for (const e of refused) {
    expect(e).not.toHaveProperty('joinNonce');
    expect(typeof e['description']).toBe('string');
  }
  const everything = received
    .map((r) => r.payload)
    .join('\n')
    .toLowerCase();
  for (const s of secrets) expect(everything).not.toContain(s);
});

test('ops/metrics/after joins /metrics has joins by result, MAC version and peer, DevNonce refusals, join, store and vault latency histograms', async () => {
  const { status, text } = await get(`${server.adminURL}metrics`);
  expect(status).toBe(200);
  const line = (re: RegExp): number => Number(new RegExp(`^${re.source} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? NaN);
  expect(line(/joinery_joins_total\{message_type="JoinReq",result="Success",mac_version="1\.0\.3",peer="ns-ev"\}/)).toBe(1);
  expect(line(/joinery_joins_total\{message_type="JoinReq",result="Success",mac_version="1\.1",peer="ns-ev"\}/)).toBe(1);
  expect(line(/joinery_joins_total\{message_type="JoinReq",result="MICFailed",mac_version="1\.0\.3",peer="ns-ev"\}/)).toBe(1);
  expect(line(/joinery_joins_total\{message_type="JoinReq",result="JoinReqFailed",mac_version="1\.1",peer="ns-ev"\}/)).toBe(1);
  expect(line(/joinery_dev_nonce_refusals_total\{mac_version="1\.1",peer="ns-ev"\}/)).toBe(1);
  expect(line(/joinery_join_duration_seconds_count\{mac_version="1\.0\.3",outcome="success"\}/)).toBe(1);
  expect(line(/joinery_join_duration_seconds_bucket\{le="\+Inf",mac_version="1\.1",outcome="refused"\}/)).toBe(1);
  expect(line(/joinery_store_operation_duration_seconds_count\{operation="commitJoin",outcome="ok"\}/)).toBeGreaterThanOrEqual(2);
  expect(line(/joinery_vault_operation_duration_seconds_count\{operation="cmac",outcome="ok"\}/)).toBeGreaterThanOrEqual(4);
  expect(line(/joinery_join_events_total\{outcome="published"\}/)).toBeGreaterThanOrEqual(4);
  expect(line(/joinery_mqtt_connected/)).toBe(1);
  // Which release, the devices by state (all seven imported bound to ns-ev), the standard process metrics.
  expect(text).toMatch(/^joinery_build_info\{version="[^"]+",node_version="v\d+\.\d+\.\d+"\} 1$/m);
  expect(line(/joinery_devices\{state="bound"\}/)).toBe(7);
  expect(line(/joinery_devices\{state="unclaimed"\}/)).toBe(0);
  expect(line(/joinery_devices\{state="claimed"\}/)).toBe(0);
  expect(line(/process_cpu_seconds_total/)).toBeGreaterThan(0);
  expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  expect(text).not.toMatch(/^joinery_(process|nodejs)_/m);
  // The vault's cache of opened keys (default 10,000): the three joined devices' root keys, and the KEK of ns-ev.
  expect(line(/joinery_key_cache_entries/)).toBe(4);
  // Low cardinality: no DevEUI, no key in any label.
  for (const d of [d103, d11]) expect(text).not.toContain(d.devEUI);
  for (const s of secrets) expect(text.toLowerCase()).not.toContain(s);
});

test('ops/events/a broker that is down never holds up or fails a join: events are dropped beyond the queue, and counted', async () => {
  const down = await startServer(path.join(work, 'data'), ['--mqtt-url', 'mqtt://127.0.0.1:1', '--mqtt-queue-size', '2', '--bi-listen', '127.0.0.1:0']);
  try {
    const started = Date.now();
    for (const [i, d] of spare.entries()) expect((await join(down.biURL, d, 10 + i))['Result']).toEqual({ ResultCode: 'Success' });
    expect(Date.now() - started).toBeLessThan(3000);
    const { text } = await get(`${down.adminURL}metrics`);
    expect(text).toMatch(/^joinery_join_events_total\{outcome="dropped"\} 2$/m);
    expect(text).toMatch(/^joinery_join_events_queued 2$/m);
    expect(text).toMatch(/^joinery_mqtt_connected 0$/m);
  } finally {
    expect(await down.stop()).toBe(0);
  }
});

test('ops/metrics/--key-cache-size reaches the key vault: with 0 nothing stays opened, and joins go on (each opens its keys again)', async () => {
  const uncached = await startServer(path.join(work, 'data'), ['--key-cache-size', '0', '--bi-listen', '127.0.0.1:0']);
  try {
    for (const [i, d] of spare.entries()) expect((await join(uncached.biURL, d, 20 + i))['Result']).toEqual({ ResultCode: 'Success' });
    const { text } = await get(`${uncached.adminURL}metrics`);
    expect(text).toMatch(/^joinery_joins_total\{message_type="JoinReq",result="Success",mac_version="1\.0\.4",peer="ns-ev"\} 4$/m);
    expect(text).toMatch(/^joinery_key_cache_entries 0$/m);
    // No MQTT configured: no MQTT connection gauge to alert on.
    expect(text).not.toMatch(/joinery_mqtt_connected/);
  } finally {
    expect(await uncached.stop()).toBe(0);
  }
});

import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { joinReqMessage } from '../support/bi-request';

/**
 * Issue 6's acceptance, end to end: two `joinery serve` processes on one PostgreSQL database
 * (one data directory, so one CA and one credential bundle for both), a network server that
 * splits its JoinReqs across them, and lora-packet as every device. Every verdict is taken
 * from the answers the network server received: the JoinNonces come out of the decrypted,
 * MIC-checked join-accepts.
 */

const JOIN_EUI = '70b3d57ed0000000';
/**
 * Joins of distinct devices in the storm: 10 each. The issue asks for 10,000; a join costs about
 * 7 ms of CPU here (Joinery, PostgreSQL and this test's lora-packet device, a third each), so on
 * this project's 2-core machines 10,000 take about a minute, too long for every `npm test`.
 * The suite runs 2,000; `JOINERY_E2E_STORM_JOINS=10000` runs the number.
 */
const STORM_JOINS = Number(process.env['JOINERY_E2E_STORM_JOINS'] ?? 2_000);
const STORM_DEVICES = Math.max(1, Math.round(STORM_JOINS / 10));
const CRASH_DEVICES = 60;
const CRASH_ROUNDS = 10;

let db: TestDatabase;
let work: string;
let dataDir: string;
let ns: PeerBundle;
const servers: ServerProcess[] = [];
const agents: https.Agent[] = [];
const secrets = new Set<string>();

const raceDevices: DeviceKeys[] = [];
const stormDevices: DeviceKeys[] = [];
const crashDevices: DeviceKeys[] = [];

function makeDevice(kind: string, i: number, macVersion: string): DeviceKeys {
  const d: DeviceKeys = {
    devEUI: `${kind}${i.toString(16).padStart(16 - kind.length, '0')}`,
    joinEUI: JOIN_EUI,
    macVersion,
    appKey: randomKey(),
    ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}),
  };
  secrets.add(d.appKey);
  if (d.nwkKey) secrets.add(d.nwkKey);
  return d;
}

const MAC_VERSIONS = ['1.0.3', '1.0.4', '1.1'];

function serverArgs(): string[] {
  return ['--store', db.url, '--log-level', 'warn'];
}

async function start(i: number): Promise<void> {
  servers[i] = await startServer(dataDir, serverArgs());
  agents[i]?.destroy();
  agents[i] = new https.Agent({ keepAlive: true, maxSockets: 32, ca: ns.ca, cert: ns.cert, key: ns.key });
}

beforeAll(async () => {
  db = await createTestDatabase();
  work = await makeTempDir('pg-instances');
  dataDir = path.join(work, 'data');
  const store = ['--data-dir', dataDir, '--store', db.url];
  // One data directory for both servers: the CA (and the master key) are created here, once,
  // before either starts; the bundle then works against both.
  await cli(['ns', 'add', ...store, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  ns = await readBundle(path.join(work, 'ns-a'));
  secrets.add(ns.kek.toString('hex'));

  raceDevices.push(makeDevice('aa', 1, '1.0.3'), makeDevice('aa', 2, '1.1'));
  for (let i = 0; i < STORM_DEVICES; i++) stormDevices.push(makeDevice('bb', i, MAC_VERSIONS[i % 3]!));
  for (let i = 0; i < CRASH_DEVICES; i++) crashDevices.push(makeDevice('cc', i, MAC_VERSIONS[i % 3]!));
  const all = [...raceDevices, ...stormDevices, ...crashDevices];
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...all.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
  await fs.writeFile(path.join(work, 'devices.csv'), `${csv.join('\n')}\n`);
  await cli(['devices', 'import', path.join(work, 'devices.csv'), '--ns', 'ns-a', ...store]);

  // One after the other: the first start also creates the server certificate.
  await start(0);
  await start(1);
}, 120_000);

afterAll(async () => {
  for (const a of agents) a.destroy();
  for (const s of servers) await s?.stop();
  await db?.drop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function joinReq(d: DeviceKeys, devNonce: number): Record<string, unknown> {
  return joinReqMessage(d, devNonce, { senderID: ns.peer['netID']!, protocolVersion: '1.1' });
}

type Outcome = { readonly kind: 'success'; readonly joinNonce: number } | { readonly kind: 'refused'; readonly code: string } | { readonly kind: 'lost'; readonly error: string };

/** One JoinReq to server `i`; a success is checked as the device would (MIC) and its JoinNonce read. */
async function join(i: number, d: DeviceKeys, devNonce: number): Promise<Outcome> {
  let body: Record<string, any>;
  try {
    const answer = await postJSON(servers[i]!.biURL, joinReq(d, devNonce), ns, agents[i]);
    if (answer.status !== 200) return { kind: 'refused', code: `HTTP ${answer.status}` };
    body = answer.body as Record<string, any>;
  } catch (err) {
    return { kind: 'lost', error: String(err) };
  }
  const code = String(body['Result']?.['ResultCode']);
  if (code !== 'Success') return { kind: 'refused', code };
  const accepted = acceptJoin(d, devNonce, body['PHYPayload']);
  if (!accepted.micValid) throw new Error(`${d.devEUI}: join-accept MIC does not verify`);
  return { kind: 'success', joinNonce: accepted.joinNonce };
}

/** Runs `tasks` with at most `limit` at a time. */
async function pool<T>(limit: number, items: readonly T[], task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

describe('e2e/postgres: two instances on one database', () => {
  test.each([0, 1])('race/1,000 concurrent JoinReqs with the same DevNonce, split across both → exactly one Success (device %i)', async (which) => {
    const d = raceDevices[which]!;
    const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => join(i % 2, d, 4242)));
    const codes = outcomes.map((o) => (o.kind === 'success' ? 'Success' : o.kind === 'refused' ? o.code : `lost: ${o.error}`));
    expect(codes.filter((c) => c === 'Success')).toHaveLength(1);
    expect(codes.filter((c) => c !== 'Success' && c !== 'JoinReqFailed')).toEqual([]);
  });

  test(`storm/${STORM_JOINS} joins of ${STORM_DEVICES} devices split across both → every JoinNonce unique per device, every DevNonce accepted once`, async () => {
    const started = Date.now();
    const perDevice = STORM_JOINS / STORM_DEVICES;
    const joinNonces = new Map<string, number[]>();
    const problems: string[] = [];
    // A device joins one request at a time (as a real one does); 64 devices at once; each
    // device's joins alternate between the two servers.
    await pool(64, stormDevices, async (d, index) => {
      const got: number[] = [];
      for (let n = 0; n < perDevice; n++) {
        const o = await join((index + n) % 2, d, 100 + n);
        if (o.kind !== 'success') problems.push(`${d.devEUI} DevNonce ${100 + n}: ${o.kind === 'refused' ? o.code : o.error}`);
        else got.push(o.joinNonce);
      }
      joinNonces.set(d.devEUI, got);
    });
    const elapsed = (Date.now() - started) / 1000;
    expect(problems).toEqual([]);
    for (const [devEUI, got] of joinNonces) {
      expect({ devEUI, unique: new Set(got).size }).toEqual({ devEUI, unique: perDevice });
      expect({ devEUI, increasing: got.every((j, i) => i === 0 || j > got[i - 1]!) }).toEqual({ devEUI, increasing: true });
    }
    // Every accepted DevNonce is accepted once: replaying each device's last one, at the other
    // server than the one that accepted it, is refused.
    const replays = await Promise.all(stormDevices.map((d, index) => join((index + perDevice) % 2, d, 100 + perDevice - 1)));
    expect(replays.filter((o) => o.kind !== 'refused' || o.code !== 'JoinReqFailed')).toEqual([]);
    process.stderr.write(`postgres-instances: ${STORM_JOINS} joins across two instances in ${elapsed.toFixed(1)} s (${(STORM_JOINS / elapsed).toFixed(0)} joins/s)\n`);
  }, 240_000);

  test(`crash/kill -9 a server in the middle of a join storm, ${CRASH_ROUNDS} times: no JoinNonce issued twice, no accepted DevNonce accepted again`, async () => {
    // What the network server saw, per device, over all rounds.
    const issued = new Map<string, number[]>(crashDevices.map((d) => [d.devEUI, []]));
    const accepted = new Map<string, number[]>(crashDevices.map((d) => [d.devEUI, []]));
    const nextNonce = new Map<string, number>(crashDevices.map((d) => [d.devEUI, 1]));
    let lost = 0;
    let successes = 0;
    const refused: string[] = [];

    for (let round = 0; round < CRASH_ROUNDS; round++) {
      const victim = round % 2;
      let stop = false;
      const storm = pool(32, crashDevices, async (d, index) => {
        for (let k = 0; !stop && k < 1000; k++) {
          const devNonce = nextNonce.get(d.devEUI)!;
          nextNonce.set(d.devEUI, devNonce + 1);
          const o = await join((index + k) % 2, d, devNonce);
          if (o.kind === 'success') {
            successes++;
            issued.get(d.devEUI)!.push(o.joinNonce);
            accepted.get(d.devEUI)!.push(devNonce);
          } else if (o.kind === 'lost') {
            lost++;
          } else {
            refused.push(`${d.devEUI} DevNonce ${devNonce}: ${o.code}`);
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 200 + 40 * round)); // kill at a different moment each round
      expect(await servers[victim]!.stop('SIGKILL')).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 150)); // the storm goes on against the survivor (and into the dead one)
      stop = true;
      await storm;
      await start(victim);

      // After the restart: the last accepted DevNonce of every device that has one, whichever
      // server accepted it, is refused by the restarted one (nothing accepted is forgotten).
      const replays = await Promise.all(
        crashDevices.flatMap((d) => {
          const last = accepted.get(d.devEUI)!.at(-1);
          return last === undefined ? [] : [join(victim, d, last)];
        }),
      );
      expect(replays.filter((o) => o.kind !== 'refused' || o.code !== 'JoinReqFailed')).toEqual([]);
    }

    for (const d of crashDevices) {
      const j = issued.get(d.devEUI)!;
      expect({ devEUI: d.devEUI, duplicateJoinNonces: j.length - new Set(j).size }).toEqual({ devEUI: d.devEUI, duplicateJoinNonces: 0 });
      const a = accepted.get(d.devEUI)!;
      expect({ devEUI: d.devEUI, duplicateDevNonces: a.length - new Set(a).size }).toEqual({ devEUI: d.devEUI, duplicateDevNonces: 0 });
    }
    expect(refused).toEqual([]); // fresh DevNonces: a join is answered Success, or lost with its server
    expect(successes).toBeGreaterThan(CRASH_ROUNDS * 20);
    expect(lost).toBeGreaterThan(0); // the kills really hit requests in flight
    process.stderr.write(`postgres-instances: crash test ${CRASH_ROUNDS} rounds, ${successes} joins accepted, ${lost} requests lost to kill -9\n`);
  }, 240_000);

  test('secrets/no root key or KEK appears in any output of either server', async () => {
    const everything = [transcript.join('\n'), ...servers.map((s) => s.output())].join('\n').toLowerCase();
    const leaked = [...secrets].filter((s) => everything.includes(s.toLowerCase()));
    expect(leaked).toEqual([]);
  });
});

import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { Client } from 'pg';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/postgres';
import { joinReqMessage } from '../support/bi-request';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * Losing the database, end to end: two `joinery serve` processes reach one PostgreSQL database
 * through a TCP proxy that the test cuts (every connection reset, new ones refused, as a
 * restart or failover does) and restores, again and again, while 64 devices join at once. Every
 * verdict comes from the answers the network server received.
 */

const JOIN_EUI = '70b3d57ed0000000';
const DEVICES = 64;
const CYCLES = 10;
/** How long the database stays away in each cycle. */
const OUTAGE_MS = 400;
/** A bound on "joins succeed again after a restore", far above the 1 s the server aims for. */
const RECOVERY_BOUND_MS = 15_000;

let db: TestDatabase;
let proxy: TcpProxy;
let work: string;
let dataDir: string;
let ns: PeerBundle;
const servers: ServerProcess[] = [];
const agents: https.Agent[] = [];
const devices: DeviceKeys[] = [];
/** Devices only the recovery checks join (a device joins one request at a time, as a real one does). */
const probes: DeviceKeys[] = [];

function proxiedURL(): string {
  const url = new URL(db.url);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.href;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  work = await makeTempDir('pg-outage');
  dataDir = path.join(work, 'data');
  const store = ['--data-dir', dataDir, '--store', db.url];
  await cli(['ns', 'add', ...store, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  ns = await readBundle(path.join(work, 'ns-a'));
  const macVersions = ['1.0.3', '1.0.4', '1.1'];
  for (let i = 0; i < DEVICES; i++) {
    const macVersion = macVersions[i % 3]!;
    devices.push({ devEUI: `dd${i.toString(16).padStart(14, '0')}`, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) });
  }
  for (const i of [0, 1]) probes.push({ devEUI: `de${i.toString(16).padStart(14, '0')}`, joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() });
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...[...devices, ...probes].map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)];
  await fs.writeFile(path.join(work, 'devices.csv'), `${csv.join('\n')}\n`);
  await cli(['devices', 'import', path.join(work, 'devices.csv'), '--ns', 'ns-a', ...store]);
  for (const i of [0, 1]) {
    servers[i] = await startServer(dataDir, ['--store', proxiedURL(), '--log-level', 'warn']);
    agents[i] = new https.Agent({ keepAlive: true, maxSockets: 32, ca: ns.ca, cert: ns.cert, key: ns.key });
  }
}, 120_000);

afterAll(async () => {
  for (const a of agents) a.destroy();
  for (const s of servers) await s?.stop();
  await proxy?.close();
  await db?.drop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

type Outcome = { readonly kind: 'success'; readonly joinNonce: number } | { readonly kind: 'refused'; readonly code: string } | { readonly kind: 'lost'; readonly error: string };

async function join(i: number, d: DeviceKeys, devNonce: number): Promise<Outcome> {
  return joinAt(servers[i]!.biURL, agents[i]!, d, devNonce);
}

async function joinAt(biURL: string, agent: https.Agent, d: DeviceKeys, devNonce: number): Promise<Outcome> {
  let body: Record<string, any>;
  try {
    const answer = await postJSON(biURL, joinReqMessage(d, devNonce, { senderID: ns.peer['netID']!, protocolVersion: '1.1' }), ns, agent);
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

async function readyz(i: number): Promise<number> {
  return readyzAt(servers[i]!.adminURL);
}

async function readyzAt(adminURL: string): Promise<number> {
  try {
    return (await fetch(new URL('readyz', adminURL))).status;
  } catch {
    return -1;
  }
}

/** The database goes away: every connection through the proxy reset and new ones refused; or every session of the database terminated by the server (it accepts new ones at once). */
type Outage = 'cut' | 'terminate';

async function terminateSessions(): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
  } finally {
    await c.end();
  }
}

describe('e2e/postgres: the database cut and restored under load', () => {
  // What the network server saw, per device, over every test of this file.
  const all = (): DeviceKeys[] => [...devices, ...probes];
  const issued = new Map<string, number[]>();
  const accepted = new Map<string, number[]>();
  const nextNonce = new Map<string, number>();
  const unexpected: string[] = [];
  let successes = 0;
  let others = 0;
  const recordJoin = async (i: number, d: DeviceKeys): Promise<Outcome> => {
    const devNonce = nextNonce.get(d.devEUI) ?? 1;
    nextNonce.set(d.devEUI, devNonce + 1);
    const o = await join(i, d, devNonce);
    if (o.kind === 'success') {
      successes++;
      issued.set(d.devEUI, [...(issued.get(d.devEUI) ?? []), o.joinNonce]);
      accepted.set(d.devEUI, [...(accepted.get(d.devEUI) ?? []), devNonce]);
    } else if (o.kind === 'refused' && o.code === 'Other') {
      others++; // the database away: retryable
    } else {
      unexpected.push(`${d.devEUI} DevNonce ${devNonce}: ${o.kind === 'refused' ? o.code : o.error}`);
    }
    return o;
  };

  test.each([
    ['cut', `outage/${CYCLES} cuts of the database (connections reset, new ones refused)`],
    ['terminate', `outage/${CYCLES} rounds of pg_terminate_backend on every session`],
  ] as const)(
    '%s: %s under 64-concurrent joins over two instances: both stay up, joins succeed after each, no JoinNonce twice, no DevNonce accepted twice',
    async (outage: Outage, _title: string) => {
      const othersBefore = others;
      let slowestRecoveryMs = 0;

      let stop = false;
      // 64 devices, each joining one request at a time, alternating between the two servers.
      const storm = Promise.all(
        devices.map(async (d, index) => {
          for (let k = 0; !stop && k < 100_000; k++) {
            const o = await recordJoin((index + k) % 2, d);
            if (o.kind !== 'success') await new Promise((r) => setTimeout(r, 20)); // a device waits before trying again
          }
        }),
      );

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await new Promise((r) => setTimeout(r, 150 + 30 * cycle)); // cut at a different moment each cycle
        if (outage === 'cut') {
          proxy.cut();
          await new Promise((r) => setTimeout(r, OUTAGE_MS));
          // While the database is away, the servers say they are not ready.
          expect({ cycle, readyz: [await readyz(0), await readyz(1)] }).toEqual({ cycle, readyz: [503, 503] });
          proxy.restore();
        } else {
          await terminateSessions();
        }
        const restored = Date.now();
        // Joins succeed again at both servers, within a bounded wait.
        for (const i of [0, 1]) {
          const deadline = Date.now() + RECOVERY_BOUND_MS;
          let recovered = false;
          for (let n = 0; !recovered && Date.now() < deadline; n++) {
            recovered = (await recordJoin(i, probes[i]!)).kind === 'success';
            if (!recovered) await new Promise((r) => setTimeout(r, 50));
          }
          expect({ cycle, server: i, recovered }).toEqual({ cycle, server: i, recovered: true });
          slowestRecoveryMs = Math.max(slowestRecoveryMs, Date.now() - restored);
        }
        expect({ cycle, exitCodes: servers.map((s) => s.child.exitCode) }).toEqual({ cycle, exitCodes: [null, null] });
      }
      stop = true;
      await storm;

      // Nothing committed is lost: every device's last accepted DevNonce is refused by both servers.
      const replays = await Promise.all(
        all().flatMap((d, index) => {
          const last = accepted.get(d.devEUI)?.at(-1);
          return last === undefined ? [] : [join(index % 2, d, last), join((index + 1) % 2, d, last)];
        }),
      );
      expect(replays.filter((o) => o.kind !== 'refused' || o.code !== 'JoinReqFailed')).toEqual([]);
      for (const d of all()) {
        const j = issued.get(d.devEUI) ?? [];
        expect({ devEUI: d.devEUI, duplicateJoinNonces: j.length - new Set(j).size }).toEqual({ devEUI: d.devEUI, duplicateJoinNonces: 0 });
        const a = accepted.get(d.devEUI) ?? [];
        expect({ devEUI: d.devEUI, duplicateDevNonces: a.length - new Set(a).size }).toEqual({ devEUI: d.devEUI, duplicateDevNonces: 0 });
      }
      expect(unexpected).toEqual([]);
      expect(servers.map((s) => s.child.exitCode)).toEqual([null, null]);
      if (outage === 'cut') expect(others).toBeGreaterThan(othersBefore); // the cuts really hit joins
      process.stderr.write(
        `postgres-outage (${outage}): ${CYCLES} rounds, ${successes} joins accepted so far, ${others - othersBefore} answered Other, joins succeeded at both servers at most ${slowestRecoveryMs} ms after the database was back\n`,
      );
    },
    180_000,
  );

  test('startup/a server started while the database is away waits for it (admin up, /readyz 503, no BI listener), then serves joins', async () => {
    proxy.cut();
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--store', proxiedURL(), '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && child.exitCode === null;) {
        const m = pattern.exec(out);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${pattern} in:\n${out}`);
    };
    try {
      const adminURL = (await waitFor(/admin on (http:\/\/\S+\/) \(not ready: waiting for the store\)/))[1]!;
      await waitFor(/the store is unreachable \(attempt 2: /); // tried again, each attempt said
      expect(await readyzAt(adminURL)).toBe(503);
      expect((await fetch(new URL('healthz', adminURL))).status).toBe(200);
      expect(out).not.toMatch(/Backend Interfaces on/);
      proxy.restore();
      const biURL = (await waitFor(/Backend Interfaces on (https:\/\/\S+\/) .*admin on http:\/\/\S+\//))[1]!;
      expect(out).toContain(`admin on ${adminURL}`); // the same address as the stand-in's
      expect(await readyzAt(adminURL)).toBe(200);
      const agent = new https.Agent({ keepAlive: false, ca: ns.ca, cert: ns.cert, key: ns.key });
      try {
        expect((await joinAt(biURL, agent, probes[0]!, 60_000)).kind).toBe('success');
      } finally {
        agent.destroy();
      }
      expect(child.exitCode).toBeNull();
    } finally {
      proxy.restore();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      transcript.push(out);
    }
  }, 60_000);

  test('startup/--exit-on-store-failure: a server started while the database is away exits non-zero at once', async () => {
    proxy.cut();
    try {
      const r = await runCLI(['serve', '--data-dir', dataDir, '--store', proxiedURL(), '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--exit-on-store-failure']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/PostgreSQL store: opening/);
      expect(r.stderr).not.toMatch(/trying again/);
    } finally {
      proxy.restore();
    }
  }, 60_000);
});

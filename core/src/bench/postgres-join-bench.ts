import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Pool } from 'pg';
import { AES128Key } from '../lorawan/aes128-key';
import { toHex } from '../lorawan/hex';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { encodeJoinRequest } from '../lorawan/join-request';
import { devNonce } from '../lorawan/nonces';

/**
 * Join throughput on PostgreSQL, with one and with two `joinery serve` instances sharing one
 * database, as a ratio to PostgreSQL's own durable single-row conditional UPDATE rate at the
 * same concurrency, measured in the same run (the storage floor: every join is one such
 * UPDATE, group-committed). Joins go through the real BI listener (HTTPS, client certificate,
 * keep-alive), each worker joining its own LoRaWAN 1.0.4 devices with increasing DevNonces.
 *
 * `node core/dist/bench/postgres-join-bench.js [seconds per run, default 5] [concurrency,
 * default 16]`; JOINERY_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is the
 * server on which a fresh database is created and dropped.
 */
const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);
const ADMIN_URL = process.env['JOINERY_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = path.resolve(__dirname, '../cli/main.js');
const JOIN_EUI = parseEUI64('70b3d57ed0000000');

function databaseURL(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.href;
}

/** PostgreSQL's own rate: `concurrency` clients each updating their own row, conditionally, durably. */
async function updateFloor(url: string): Promise<number> {
  const pool = new Pool({ connectionString: url, max: concurrency });
  try {
    await pool.query('CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, payload TEXT)');
    await pool.query('INSERT INTO bench_floor SELECT g, 0, NULL FROM generate_series(0, $1::int - 1) AS g', [concurrency]);
    let done = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, id) => {
        let version = 0;
        while (Date.now() < until) {
          const r = await pool.query('UPDATE bench_floor SET version = version + 1, payload = $3 WHERE id = $1 AND version = $2', [id, version, String(version)]);
          if (r.rowCount !== 1) throw new Error('floor: conditional update lost');
          version++;
          done++;
        }
      }),
    );
    return done / seconds;
  } finally {
    await pool.end();
  }
}

function startServer(dataDir: string, store: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--store', store, '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /Backend Interfaces on (https:\/\/\S+\/)/.exec(err);
      if (m) resolve({ url: m[1]!, child });
    });
    child.on('exit', (code) => reject(new Error(`joinery serve exited ${code}: ${err}`)));
  });
}

interface Device {
  readonly devEUI: EUI64;
  readonly appKey: AES128Key;
  nextDevNonce: number;
}

async function joins(urls: readonly string[], tls: { ca: string; cert: string; key: string }, devices: readonly Device[][]): Promise<{ perSecond: number; failures: number }> {
  const agents = urls.map(() => new https.Agent({ keepAlive: true, maxSockets: concurrency, ...tls }));
  let ok = 0;
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  try {
    await Promise.all(
      devices.map(async (own, worker) => {
        const url = urls[worker % urls.length]!;
        const agent = agents[worker % urls.length]!;
        for (let i = 0; Date.now() < until; i++) {
          const d = own[i % own.length]!;
          const n = devNonce(d.nextDevNonce++);
          const body = JSON.stringify({
            ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: JOIN_EUI, TransactionID: (worker << 20) + i, MessageType: 'JoinReq', MACVersion: '1.0.4',
            PHYPayload: toHex(encodeJoinRequest({ joinEUI: JOIN_EUI, devEUI: d.devEUI, devNonce: n }, d.appKey)), DevEUI: d.devEUI, DevAddr: '26011234', DLSettings: '00', RxDelay: 1,
          });
          const code = await new Promise<string>((resolve, reject) => {
            const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve((JSON.parse(text) as { Result?: { ResultCode?: string } }).Result?.ResultCode ?? `HTTP ${res.statusCode}`));
            });
            req.on('error', reject);
            req.end(body);
          });
          if (code === 'Success') ok++;
          else failures++;
        }
      }),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
  return { perSecond: ok / seconds, failures };
}

async function main(): Promise<void> {
  const dbName = `joinery_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'joinery-bench-pg-'));
  const servers: ChildProcess[] = [];
  try {
    const url = databaseURL(dbName);
    const floor = await updateFloor(url);

    const dataDir = path.join(work, 'data');
    const run = (args: string[]): void => void execFileSync(process.execPath, [CLI, ...args, '--data-dir', dataDir, '--store', url], { stdio: 'ignore' });
    run(['ns', 'add', '--name', 'bench-ns', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns')]);
    const devices: Device[][] = Array.from({ length: concurrency }, (_, w) =>
      Array.from({ length: 4 }, (_, i) => ({ devEUI: parseEUI64(`0000bbbb${w.toString(16).padStart(4, '0')}${i.toString(16).padStart(4, '0')}`), appKey: AES128Key.fromBytes(randomBytes(16)), nextDevNonce: 0 })),
    );
    const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devices.flat().map((d) => `${d.devEUI},${JOIN_EUI},1.0.4,${d.appKey.unsafeBytes().toString('hex')},`)];
    writeFileSync(path.join(work, 'devices.csv'), csv.join('\n'), { mode: 0o600 });
    run(['devices', 'import', path.join(work, 'devices.csv'), '--ns', 'bench-ns']);
    const tls = { ca: readFileSync(path.join(work, 'ns', 'ca.crt'), 'utf8'), cert: readFileSync(path.join(work, 'ns', 'client.crt'), 'utf8'), key: readFileSync(path.join(work, 'ns', 'client.key'), 'utf8') };

    const first = await startServer(dataDir, url);
    servers.push(first.child);
    await joins([first.url], tls, devices); // warm-up (TLS sessions, caches)
    const one = await joins([first.url], tls, devices);
    const second = await startServer(dataDir, url);
    servers.push(second.child);
    const two = await joins([first.url, second.url], tls, devices);

    const results = {
      benchmark: 'postgres-joins',
      seconds,
      concurrency,
      cpus: os.cpus().length,
      postgresConditionalUpdatesPerSecond: Math.round(floor),
      oneInstance: { joinsPerSecond: Math.round(one.perSecond), failures: one.failures, ratioToFloor: +(one.perSecond / floor).toFixed(3) },
      twoInstances: { joinsPerSecond: Math.round(two.perSecond), failures: two.failures, ratioToFloor: +(two.perSecond / floor).toFixed(3) },
    };
    console.log(`PostgreSQL conditional UPDATE floor: ${results.postgresConditionalUpdatesPerSecond}/s at concurrency ${concurrency}`);
    console.log(`joins, 1 instance : ${results.oneInstance.joinsPerSecond}/s (ratio ${results.oneInstance.ratioToFloor}, failures ${one.failures})`);
    console.log(`joins, 2 instances: ${results.twoInstances.joinsPerSecond}/s (ratio ${results.twoInstances.ratioToFloor}, failures ${two.failures})`);
    console.log(JSON.stringify(results));
  } finally {
    for (const s of servers) s.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

import Database from 'better-sqlite3';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import type * as https from 'node:https';
import * as path from 'node:path';
import { fuzzCase, type FuzzCase, type FuzzPeer, type FuzzWorld } from '../fuzz/arbitraries';
import type { RealDevice } from '../fuzz/frames';
import { keepAliveAgent, send, type Exchange } from '../fuzz/http';
import { judge } from '../fuzz/oracle';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { joinReqMessage } from '../support/bi-request';

/**
 * Hostile input at the real BI listener (issue 3): FUZZ_RUNS (default 100,000) generated bad
 * requests over HTTPS keep-alive, each judged by the oracle (test/src/fuzz/oracle.ts): a 4xx or
 * a spec Result, never a 5xx, a dropped connection or a Success. Then the server must still
 * be alive, answer a valid join, have changed no device state, and have logged no error.
 *
 * A failure prints how to replay it: FUZZ_SEED, FUZZ_PATH and FUZZ_RUNS (fast-check's seed and path).
 * FUZZ_SERVER_NODE_OPTIONS is passed to the server as NODE_OPTIONS (to profile it).
 */

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const PATH = process.env['FUZZ_PATH'];
/** NODE_OPTIONS for the server only, e.g. `--require` a profiler hook to see where its time goes. */
const SERVER_NODE_OPTIONS = process.env['FUZZ_SERVER_NODE_OPTIONS'];
const BATCH = Math.min(250, RUNS);
/** Requests in flight at once (and at most that many keep-alive sockets per peer). */
const CONCURRENCY = 32;

const JOIN_EUI = '70b3d57ed0000000';

let work: string;
let dataDir: string;
let server: ServerProcess;
const bundles: Record<string, PeerBundle> = {};
const agents: Record<string, https.Agent> = {};
let world: FuzzWorld;
/** Every device, with its keys, its network server, and the DevNonces it used before the storm. */
const devices: Array<DeviceKeys & { ns: string; nonces: number[] }> = [];
const sessionKeyIDs: string[] = [];
let biRequestsBeforeStorm = 0;
let before: DeviceState;

interface DeviceState {
  readonly list: unknown;
  readonly tables: Record<string, unknown[]>;
}

/** Device state two ways: what `joinery devices list --json` says, and the store's rows (every column). */
async function deviceState(): Promise<DeviceState> {
  const listed = await cli(['devices', 'list', '--data-dir', dataDir, '--json']);
  const db = new Database(path.join(dataDir, 'joinery.db'), { readonly: true, fileMustExist: true });
  try {
    const tables: Record<string, unknown[]> = {};
    for (const t of ['devices', 'sessions']) tables[t] = db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all();
    return { list: JSON.parse(listed.stdout), tables };
  } finally {
    db.close();
  }
}

function joinReqFor(d: DeviceKeys & { ns: string }, devNonce: number): Record<string, unknown> {
  const b = bundles[d.ns]!;
  const bi11 = b.peer['nsID'] !== undefined && b.peer['nsID'] !== '';
  return joinReqMessage(d, devNonce, { senderID: b.peer['netID']!, protocolVersion: bi11 ? '1.1' : '1.0', ...(bi11 ? { senderNSID: b.peer['nsID']! } : {}), transactionID: 4242 });
}

async function join(d: DeviceKeys & { ns: string }, devNonce: number): Promise<Record<string, any>> {
  const answer = await postJSON(server.biURL, joinReqFor(d, devNonce), bundles[d.ns]!);
  expect(answer.status).toBe(200);
  return answer.body as Record<string, any>;
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere). */
async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  try {
    const fields = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function countLines(output: string, needle: string): number {
  let n = 0;
  for (let i = output.indexOf(needle); i >= 0; i = output.indexOf(needle, i + needle.length)) n++;
  return n;
}

beforeAll(async () => {
  work = await makeTempDir('fuzz');
  dataDir = path.join(work, 'data');
  const peerArgs: Array<[string, string[]]> = [
    ['ns-a', ['ns', 'add', '--net-id', '000013', '--vendor', 'generic']],
    ['ns-b', ['ns', 'add', '--net-id', '000042', '--vendor', 'chirpstack']],
    ['ns-c', ['ns', 'add', '--net-id', '000099', '--ns-id', '70b3d57ed000abcd', '--vendor', 'the-things-stack']],
    ['as-1', ['as', 'add', '--as-id', 'as1.example.com']],
  ];
  for (const [name, args] of peerArgs) {
    await cli([...args, '--data-dir', dataDir, '--name', name, '--out', path.join(work, name)]);
    bundles[name] = await readBundle(path.join(work, name));
  }
  const device = (devEUI: string, macVersion: string, ns: string, nonces: number[]): void => {
    devices.push({ devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}), ns, nonces });
  };
  // DevEUIs far from each other and from the fuzzer's unknown ones (fe...).
  device('0004a30b00fa0102', '1.0.2', 'ns-a', [1000, 2000]);
  device('0004a30b00fa0103', '1.0.3', 'ns-a', [31337, 7]);
  device('0004a30b00fa0104', '1.0.4', 'ns-a', [10, 11]);
  device('0004a30b00fa0110', '1.1', 'ns-a', [3, 300]); // with the application server
  device('0004a30b00fa1110', '1.1', 'ns-a', [0, 1]);
  device('0004a30b00fb0110', '1.1', 'ns-b', [5, 6]);
  device('0004a30b00fc0104', '1.0.4', 'ns-c', [100, 200]);
  const csv = (list: typeof devices): string => ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...list.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)].join('\n') + '\n';
  for (const [ns, as, list] of [
    ['ns-a', undefined, devices.filter((d) => d.ns === 'ns-a' && d.devEUI !== '0004a30b00fa0110')],
    ['ns-a', 'as-1', devices.filter((d) => d.devEUI === '0004a30b00fa0110')],
    ['ns-b', undefined, devices.filter((d) => d.ns === 'ns-b')],
    ['ns-c', undefined, devices.filter((d) => d.ns === 'ns-c')],
  ] as const) {
    const file = path.join(work, `${ns}-${as ?? 'none'}.csv`);
    await fs.writeFile(file, csv(list));
    await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', ns, ...(as ? ['--as', as] : [])]);
  }

  server = await startServer(dataDir, [], SERVER_NODE_OPTIONS ? { NODE_OPTIONS: SERVER_NODE_OPTIONS } : {});
  // Real history before the storm: two joins each (so every device has nonces and sessions).
  for (const d of devices) {
    for (const n of d.nonces) {
      const answer = await join(d, n);
      expect(answer['Result']).toEqual({ ResultCode: 'Success' });
      biRequestsBeforeStorm++;
      if (typeof answer['SessionKeyID'] === 'string') sessionKeyIDs.push(answer['SessionKeyID']);
    }
  }
  expect(sessionKeyIDs.length).toBeGreaterThan(0);

  const peers: FuzzPeer[] = Object.entries(bundles).map(([name, b]) =>
    b.peer['kind'] === 'as' ? { name, kind: 'as', senderID: b.peer['asID']! } : { name, kind: 'ns', senderID: b.peer['netID']!, ...(b.peer['nsID'] ? { nsID: b.peer['nsID'] } : {}) },
  );
  const real: RealDevice[] = devices.map((d) => ({
    ...d,
    counter: d.macVersion === '1.0.4' || d.macVersion === '1.1',
    lastDevNonce: Math.max(...d.nonces),
    usedDevNonces: d.nonces,
  }));
  world = { joinEUI: JOIN_EUI, peers, devices: real, sessionKeyIDs };
  for (const [name, b] of Object.entries(bundles)) agents[name] = keepAliveAgent(b, CONCURRENCY);
  before = await deviceState();
}, 120_000);

afterAll(async () => {
  for (const a of Object.values(agents)) a.destroy();
  await server?.stop();
});

/** Outcome counts of the storm, printed at the end. */
const stats = {
  sent: 0,
  seconds: 0,
  /** HTTP 200 answers and acknowledgements: each is one `bi request` log line. */
  ok200: 0,
  newConnections: 0,
  byStatus: new Map<string, number>(),
  byResult: new Map<string, number>(),
  byLabel: new Map<string, number>(),
  closedByServer: new Map<string, number>(),
};
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

function explain(c: FuzzCase, x: Exchange, problem: string): string {
  const body = c.body.length > 600 ? `${c.body.subarray(0, 600).toString('utf8')}... (${c.body.length} bytes)` : c.body.toString('utf8');
  const answer = x.ok ? `HTTP ${x.status} ${x.contentType ?? ''} ${x.text.slice(0, 600)}` : x.error;
  const how = `${c.chunked ? 'chunked' : `${c.body.length} bytes`}, content-type ${c.contentType ?? '(none)'}${Object.keys(c.headers).length ? `, headers ${JSON.stringify(c.headers)}` : ''}`;
  return `${problem}\n  [${c.label}] ${c.method} ${c.path.slice(0, 80)} as ${c.peer}, ${how}\n  request: ${JSON.stringify(body)}\n  answer:  ${answer}`;
}

describe('e2e/fuzz', () => {
  test(`${RUNS} hostile requests: each gets a 4xx or a spec Result, never a 5xx, a dropped connection or a Success`, async () => {
    const url = new URL(server.biURL);
    const started = process.hrtime.bigint();
    const clientCPU = process.cpuUsage();
    const serverCPU = await cpuSecondsOf(server.child.pid);
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzCase(world), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const problems: string[] = [];
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < batch.length) {
            const c = batch[next++]!;
            const x = await send(url, c, agents[c.peer]!);
            stats.sent++;
            bump(stats.byLabel, c.label.replace(/\+.*$/, ''));
            bump(stats.byStatus, x.ok ? String(x.status) : 'transport error');
            if (x.ok && x.status === 200) {
              stats.ok200++;
              bump(stats.byResult, /"ResultCode":"(\w+)"/.exec(x.text)?.[1] ?? (x.text === '' ? '(acknowledged)' : '(none)'));
            }
            if (x.ok && x.newConnection) stats.newConnections++;
            if (x.ok && x.closed) bump(stats.closedByServer, `${x.status} ${c.label.replace(/\+.*$/, '')}`);
            const problem = judge(c, x);
            if (problem) problems.push(explain(c, x, problem));
          }
        };
        await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
        if (problems.length > 0) throw new Error(`${problems.length} of ${batch.length} answers are wrong:\n${problems.slice(0, 5).join('\n')}`);
      }),
      {
        numRuns: Math.ceil(RUNS / BATCH),
        endOnFailure: true, // no shrinking: the report names the bad answers themselves
        ...(SEED === undefined ? {} : { seed: SEED }),
        ...(PATH === undefined ? {} : { path: PATH }),
        // The default report prints the whole batch (250 requests as byte arrays): say what matters.
        reporter: (run) => {
          if (!run.failed) return;
          const cause = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
          throw new Error(`fuzz failed at run ${run.numRuns} of ${Math.ceil(RUNS / BATCH)}; replay: FUZZ_SEED=${run.seed} FUZZ_PATH=${run.counterexamplePath ?? ''} FUZZ_RUNS=${RUNS}\n${cause}`);
        },
      },
    );
    stats.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = Math.round(stats.sent / stats.seconds);
    const client = process.cpuUsage(clientCPU);
    const serverNow = await cpuSecondsOf(server.child.pid);
    const perRequest = (s: number): string => `${Math.round((s * 1e6) / stats.sent)} µs`;
    console.log(
      [
        `fuzz: ${stats.sent} requests in ${stats.seconds.toFixed(1)} s = ${rate} requests/s over ${CONCURRENCY} keep-alive connections`,
        `CPU per request: this process (generation, HTTPS client, oracle) ${perRequest((client.user + client.system) / 1e6)}` +
          (serverNow !== undefined && serverCPU !== undefined ? `, the server ${perRequest(serverNow - serverCPU)}` : ''),
        `new connections (TLS handshakes): ${stats.newConnections}; closed by the server: ${[...stats.closedByServer]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `HTTP status: ${[...stats.byStatus]
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `BI results: ${[...stats.byResult]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `generators: ${[...stats.byLabel]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      ].join('\n'),
    );
    expect(stats.sent).toBeGreaterThanOrEqual(RUNS);
  }, 600_000);

  test('the server is still alive and healthy', async () => {
    expect(server.child.exitCode).toBeNull();
    const health = await fetch(new URL('healthz', server.adminURL));
    expect(health.status).toBe(200);
  });

  test('no device state changed: devices list and every stored device and session row as before', async () => {
    const after = await deviceState();
    expect(after.list).toEqual(before.list);
    expect(after.tables).toEqual(before.tables);
  });

  test('a valid join of every device right after the storm succeeds, with the next JoinNonce', async () => {
    for (const d of devices) {
      const listed = (before.list as Array<Record<string, unknown>>).find((x) => x['devEUI'] === d.devEUI)!;
      const devNonce = Math.max(...d.nonces) + 1;
      const answer = await join(d, devNonce);
      expect({ devEUI: d.devEUI, result: answer['Result'] }).toEqual({ devEUI: d.devEUI, result: { ResultCode: 'Success' } });
      const accepted = acceptJoin(d, devNonce, answer['PHYPayload']);
      expect(accepted.micValid).toBe(true);
      expect(accepted.joinNonce).toBe((listed['lastJoinNonce'] as number) + 1);
    }
  });

  test('the server logged every request and no error', async () => {
    const ackOrAnswer = stats.ok200;
    await server.stop();
    const output = server.output();
    expect(output).toMatch(/"msg":"bi request"/);
    const errors = output.split('\n').filter((l) => /"level":(50|60)/.test(l));
    expect(errors.slice(0, 5)).toEqual([]);
    expect(countLines(output, '"msg":"bi request"')).toBe(biRequestsBeforeStorm + ackOrAnswer + devices.length);
    server = await startServer(dataDir); // afterAll stops it again
  });
});

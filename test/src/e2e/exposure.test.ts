import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, rejoinRequest, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, post, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * Exposure: every API, CLI command and log path is exercised with known keys, then everything
 * the run produced is searched for them: HTTP answers, CLI output, the server's log, error
 * messages, the audit trail, the metrics, and every column of every table of the database.
 * Root keys must appear nowhere; session keys nowhere in clear (the peers here all get them
 * wrapped: generic and The Things Stack dialects, an application server with its own KEK).
 */
const JOIN_EUI = '70b3d57ed0000000';

let work: string;
let dataDir: string;
let server: ServerProcess;
let ns: PeerBundle;
let as1: PeerBundle;
const rootKeys: string[] = [];
const sessionKeys: string[] = [];
const httpAnswers: string[] = [];
const d10: DeviceKeys = { devEUI: '00000000000e0001', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const d11: DeviceKeys = { devEUI: '00000000000e0002', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };

beforeAll(async () => {
  rootKeys.push(d10.appKey, d11.appKey, d11.nwkKey!);
  work = await makeTempDir('exposure');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-x', '--net-id', '000013', '--vendor', 'the-things-stack', '--out', path.join(work, 'ns-x')]);
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-x', '--as-id', 'asx', '--out', path.join(work, 'as-x')]);
  ns = await readBundle(path.join(work, 'ns-x'));
  as1 = await readBundle(path.join(work, 'as-x'));
  const csv = ['dev_eui,join_eui,mac_version,app_key,nwk_key', `${d10.devEUI},${JOIN_EUI},1.0.3,${d10.appKey},`, `${d11.devEUI},${JOIN_EUI},1.1,${d11.appKey},${d11.nwkKey}`];
  await fs.writeFile(path.join(work, 'devices.csv'), csv.join('\n'));
  // Error paths first: a refused import (a key in the wrong column, a duplicate) must not echo keys.
  await fs.writeFile(
    path.join(work, 'bad.csv'),
    ['dev_eui,join_eui,mac_version,app_key,nwk_key', `${d10.devEUI},${JOIN_EUI},${d10.appKey},1.0.3,`, `${d11.devEUI},${d11.nwkKey},1.1,${d11.appKey},zz${d11.nwkKey}`].join('\n'),
  );
  expect((await runCLI(['devices', 'import', path.join(work, 'bad.csv'), '--data-dir', dataDir, '--ns', 'ns-x'])).code).not.toBe(0);
  await cli(['devices', 'import', path.join(work, 'devices.csv'), '--data-dir', dataDir, '--ns', 'ns-x', '--as', 'as-x']);
  expect((await runCLI(['devices', 'import', path.join(work, 'devices.csv'), '--data-dir', dataDir, '--ns', 'ns-x'])).code).not.toBe(0);
  server = await startServer(dataDir);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function exchange(message: Record<string, unknown>, bundle: PeerBundle): Promise<Record<string, any>> {
  const r = await postJSON(server.biURL, message, bundle);
  httpAnswers.push(r.text);
  return r.body as Record<string, any>;
}

test('exposure/no root key anywhere, no session key in clear anywhere', async () => {
  const header = (type: string, d: DeviceKeys) => ({
    ProtocolVersion: '1.0',
    SenderID: '000013',
    ReceiverID: JOIN_EUI,
    TransactionID: randomInt(1, 2 ** 31),
    MessageType: type,
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    RxDelay: 1,
  });
  // Joins, a rejoin, AppSKeyReq, HomeNSReq, refusals, a malformed body.
  for (const d of [d10, d11]) {
    for (const n of [1, 2]) {
      const answer = await exchange({ ...header('JoinReq', d), MACVersion: d.macVersion, PHYPayload: joinRequest(d, n).toString('hex'), DLSettings: d.nwkKey ? '80' : '00' }, ns);
      expect(answer['Result']['ResultCode']).toBe('Success');
      const accepted = acceptJoin(d, n, answer['PHYPayload']);
      sessionKeys.push(...Object.values(accepted.keys));
      expect(openEnvelope(answer['AppSKey'], { label: as1.kekLabel, key: as1.kek })).toBe(accepted.keys['AppSKey']);
      const fetched = await exchange({ ...header('AppSKeyReq', d), SenderID: 'asx', SessionKeyID: answer['SessionKeyID'] }, as1);
      expect(fetched['Result']['ResultCode']).toBe('Success');
    }
    await exchange({ ...header('JoinReq', d), MACVersion: d.macVersion, PHYPayload: joinRequest({ ...d, appKey: randomKey(), nwkKey: randomKey() }, 9).toString('hex'), DLSettings: '00' }, ns);
    await exchange({ ...header('JoinReq', d), MACVersion: d.macVersion, PHYPayload: joinRequest(d, 1).toString('hex'), DLSettings: '00' }, ns);
    await exchange({ ...header('HomeNSReq', d) }, ns);
  }
  const rejoin = await exchange({ ...header('RejoinReq', d11), MACVersion: '1.1', PHYPayload: rejoinRequest(d11, 1, 1).toString('hex'), DLSettings: '80' }, ns);
  sessionKeys.push(...Object.values(acceptJoin(d11, 1, rejoin['PHYPayload'], 1).keys));
  httpAnswers.push((await post(server.biURL, '{"broken', { ca: ns.ca, cert: ns.cert, key: ns.key })).text);

  // Every read path of the CLI and the admin listener.
  for (const args of [
    ['devices', 'list'],
    ['devices', 'list', '--json'],
    ['devices', 'show', d11.devEUI],
    ['devices', 'show', d11.devEUI, '--json'],
    ['devices', 'joins', d11.devEUI],
    ['devices', 'joins', d10.devEUI, '--json'],
    ['audit', 'list', '--json'],
  ]) {
    await cli([...args, '--data-dir', dataDir]);
  }
  await cli(['devices', 'reset-dev-nonce', d10.devEUI, '--reason', 'exposure test', '--data-dir', dataDir]);
  await cli(['audit', 'list', '--data-dir', dataDir]);
  for (const p of ['metrics', 'healthz', 'readyz']) httpAnswers.push(await (await fetch(`${server.adminURL}${p}`)).text());
  // The admin API's device reads: the join history (accepted and refused joins, the rejoin), the search.
  const apiKey = /(jny_\S+)/.exec((await cli(['api-keys', 'create', '--data-dir', dataDir, '--tenant', 'operator', '--scopes', 'devices:read'])).stdout)![1]!;
  const adminGet = async (p: string): Promise<string> => (await fetch(new URL(`/api/v1/${p}`, server.adminURL), { headers: { authorization: `Bearer ${apiKey}` } })).text();
  let history = '';
  for (let i = 0; i < 50 && !history.includes('rejoin-1'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    history = await adminGet(`devices/${d11.devEUI}/joins`);
  }
  expect(history).toContain('"joinType":"rejoin-1"');
  expect(history).toContain('MICFailed');
  expect(history).toContain('JoinReqFailed');
  httpAnswers.push(history, await adminGet(`devices/${d10.devEUI}/joins`), await adminGet('devices?q=00000000000e'));
  await server.stop();
  server = await startServer(dataDir); // afterAll stops it again

  // Everything the database holds, every column of every table, as text and as bytes.
  const db = new Database(path.join(dataDir, 'joinery.db'), { readonly: true });
  const cells: string[] = [];
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        for (const v of Object.values(row)) cells.push(Buffer.isBuffer(v) ? v.toString('hex') : String(v));
      }
    }
  } finally {
    db.close();
  }
  expect(cells.length).toBeGreaterThan(50);

  const everything = [...transcript, ...httpAnswers, server.output(), ...cells].join('\n').toLowerCase();
  expect(everything).toMatch(/"msg":"bi request"/);
  expect(everything).toMatch(/device\.dev-nonce\.reset/);
  expect(sessionKeys.length).toBeGreaterThanOrEqual(14);
  const found = (k: string) => everything.includes(k.toLowerCase()) || everything.includes(Buffer.from(k, 'hex').toString('base64').toLowerCase());
  expect({ rootKeys: rootKeys.filter(found), sessionKeys: sessionKeys.filter(found) }).toEqual({ rootKeys: [], sessionKeys: [] });
});

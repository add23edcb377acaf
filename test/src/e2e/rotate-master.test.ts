import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { joinReqMessage } from '../support/bi-request';

/**
 * `joinery keys rotate-master` while a server runs: every sealed blob (root keys, KEKs, the
 * AppSKeys kept for AppSKeyReq) moves to the new master key id, joins and AppSKeyReqs go on
 * without a restart, `--retire-old` leaves one key in the file, and no key is printed.
 */

const JOIN_EUI = '70b3d57ed0000000';
let work: string;
let dataDir: string;
let server: ServerProcess;
let ns: PeerBundle;
let as: PeerBundle;
const secrets = new Set<string>();
const d10: DeviceKeys = { devEUI: '0000000000ab0103', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const d11: DeviceKeys = { devEUI: '0000000000ab0110', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };

/** The master key id byte of every sealed blob in the database. */
function blobKeyIds(): number[] {
  const db = new Database(path.join(dataDir, 'joinery.db'), { readonly: true, fileMustExist: true });
  try {
    const blobs = [...db.prepare('SELECT sealed_root_keys AS b FROM devices').all(), ...db.prepare('SELECT sealed_kek AS b FROM peers').all(), ...db.prepare('SELECT sealed_app_s_key AS b FROM sessions').all()] as {
      b: Buffer;
    }[];
    return blobs.map((r) => r.b[1]!);
  } finally {
    db.close();
  }
}

async function masterKeyIds(): Promise<number[]> {
  const text = await fs.readFile(path.join(dataDir, 'master.key'), 'utf8');
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return lines.map((l) => (l.includes(':') ? Number(l.split(':')[0]) : 0));
}

let nextDevNonce = 100; // 1.0.4 and 1.1 DevNonces count up

async function join(d: DeviceKeys): Promise<Record<string, any>> {
  const devNonce = nextDevNonce++;
  const request = joinReqMessage(d, devNonce, { senderID: '000013' });
  const answer = (await postJSON(server.biURL, request, ns)).body as Record<string, any>;
  expect(answer['Result']).toEqual({ ResultCode: 'Success' });
  const accepted = acceptJoin(d, devNonce, answer['PHYPayload']);
  expect(accepted.micValid).toBe(true);
  for (const [name, value] of Object.entries(accepted.keys)) {
    secrets.add(value);
    const kek = name === 'AppSKey' && d.nwkKey ? as : ns;
    expect({ name, key: openEnvelope(answer[name], { label: kek.kekLabel, key: kek.kek }) }).toEqual({ name, key: value });
  }
  return answer;
}

async function fetchAppSKey(sessionKeyID: string): Promise<string> {
  const req = { ProtocolVersion: '1.0', SenderID: 'as1.example.com', ReceiverID: JOIN_EUI, TransactionID: 7, MessageType: 'AppSKeyReq', DevEUI: d11.devEUI, SessionKeyID: sessionKeyID };
  const r = (await postJSON(server.biURL, req, as)).body as Record<string, any>;
  expect(r['Result']).toEqual({ ResultCode: 'Success' });
  return openEnvelope(r['AppSKey'], { label: as.kekLabel, key: as.kek });
}

beforeAll(async () => {
  work = await makeTempDir('rotate');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-a')]);
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1.example.com', '--out', path.join(work, 'as-1')]);
  ns = await readBundle(path.join(work, 'ns-a'));
  as = await readBundle(path.join(work, 'as-1'));
  for (const k of [d10.appKey, d11.appKey, d11.nwkKey!, ns.kek.toString('hex'), as.kek.toString('hex')]) secrets.add(k);
  const csv = async (name: string, d: DeviceKeys): Promise<string> => {
    const file = path.join(work, name);
    await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${d.devEUI},${JOIN_EUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}\n`);
    return file;
  };
  await cli(['devices', 'import', await csv('d10.csv', d10), '--data-dir', dataDir, '--ns', 'ns-a']);
  await cli(['devices', 'import', await csv('d11.csv', d11), '--data-dir', dataDir, '--ns', 'ns-a', '--as', 'as-1']);
  server = await startServer(dataDir);
});

afterAll(async () => {
  await server?.stop();
});

describe('e2e/rotate-master', () => {
  test('every blob moves to the new key while the server runs; joins and AppSKeyReqs go on; --retire-old leaves one key', async () => {
    const before = await join(d11);
    await join(d10);
    const appSKeyBefore = await fetchAppSKey(before['SessionKeyID']);
    expect(new Set(blobKeyIds())).toEqual(new Set([0]));

    const r1 = await cli(['keys', 'rotate-master', '--data-dir', dataDir]);
    expect(r1.stdout).toMatch(/master key 1 now seals \(was 0\); re-sealed (\d+) blobs/);
    expect(Number(/re-sealed (\d+)/.exec(r1.stdout)![1])).toBe(blobKeyIds().length);
    expect(new Set(blobKeyIds())).toEqual(new Set([1]));
    expect(await masterKeyIds()).toEqual([0, 1]);
    if (process.platform !== 'win32') expect((await fs.stat(path.join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);

    // The running server: the AppSKey of a session from before (now under key 1), new joins
    // (KEKs under key 1, and the new session's AppSKey sealed with key 1).
    expect(await fetchAppSKey(before['SessionKeyID'])).toBe(appSKeyBefore);
    const after = await join(d11);
    await join(d10);
    expect(new Set(blobKeyIds())).toEqual(new Set([1]));
    secrets.add(await fetchAppSKey(after['SessionKeyID']));

    const r2 = await cli(['keys', 'rotate-master', '--data-dir', dataDir, '--retire-old']);
    expect(r2.stdout).toMatch(/master key 2 now seals \(was 1\)/);
    expect(r2.stdout).toMatch(/retired master keys 0, 1/);
    expect(await masterKeyIds()).toEqual([2]);
    expect(new Set(blobKeyIds())).toEqual(new Set([2]));
    await join(d11);
    expect(await fetchAppSKey(after['SessionKeyID'])).toBeTruthy();

    // ... and after a restart, on the rotated file alone.
    await server.stop();
    server = await startServer(dataDir);
    await join(d10);
    expect(await fetchAppSKey(after['SessionKeyID'])).toBeTruthy();
  });

  test('refused for the PKCS#11 vault and for a master key given in the environment', async () => {
    const pkcs11 = await runCLI(['keys', 'rotate-master', '--data-dir', dataDir, '--vault', 'pkcs11']);
    expect(pkcs11.code).toBe(2);
    expect(pkcs11.stderr).toMatch(/PKCS#11 vault has no master key/);
    const fromEnv = await runCLI(['keys', 'rotate-master', '--data-dir', path.join(work, 'other')], { JOINERY_MASTER_KEY: 'ab'.repeat(32) });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/JOINERY_MASTER_KEY/);
    expect(fromEnv.stderr).not.toContain('ab'.repeat(32));
  });

  test('no key appears in any output', async () => {
    const keyFile = await fs.readFile(path.join(dataDir, 'master.key'), 'utf8');
    for (const line of keyFile.split('\n')) if (/^\d+:/.test(line)) secrets.add(line.split(':')[1]!);
    await server.stop();
    server = await startServer(dataDir);
    const everything = transcript.join('\n').toLowerCase();
    expect([...secrets].filter((s) => everything.includes(s.toLowerCase()))).toEqual([]);
  });
});

import type * as SmolTOML from 'smol-toml' with { 'resolution-mode': 'require' };
import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parse as parseYAML } from 'yaml';
import { createCA, issueServerCertificate } from '../../../core/src/pki/certificate-authority';
import { cli, makeTempDir, runCLI, startServer, type ServerProcess } from '../support/joinery-cli';
import { joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { readBundle, type PeerBundle } from '../support/network-server';

const { parse: parseTOML } = require('smol-toml') as typeof SmolTOML;

/**
 * The vendor setup files, used exactly as rendered: a ChirpStack answer listener built from the
 * rendered `[backend_interfaces]` receives the asynchronous JoinAns; the header secret a rendered
 * file holds is the one Joinery requires; what a vendor cannot use is refused before anything is
 * registered. No management API is given: the setup files do not depend on one.
 */
const JOIN_EUI = '70b3d57ed0000000';
const SECRET = 'Bearer 5d1e9a3c7b2f4e6a8c0d2b4f6a8e1c3d';
const INSTALL_DIR = '/etc/chirpstack/joinery-cs-async';

let work: string;
let dataDir: string;
let server: ServerProcess;
let listener: https.Server;
let listenerPort: number;
const received: { body: any; clientCN: string }[] = [];

function post(url: string, message: unknown, tls: { ca: string; cert?: string; key?: string }, headers: Record<string, string>) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ...tls, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(message));
  });
}

function joinReq(d: DeviceKeys, netID: string, devNonce: number): Record<string, unknown> {
  return {
    ProtocolVersion: '1.0',
    SenderID: netID,
    ReceiverID: d.joinEUI,
    TransactionID: randomInt(1, 2 ** 31),
    MessageType: 'JoinReq',
    MACVersion: '1.0.3',
    PHYPayload: joinRequest(d, devNonce).toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: '00',
    RxDelay: 1,
  };
}

async function importDevice(name: string, devEUI: string): Promise<DeviceKeys> {
  const d: DeviceKeys = { devEUI, joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
  const csv = path.join(work, `${name}.csv`);
  await fs.writeFile(csv, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${d.devEUI},${d.joinEUI},1.0.3,${d.appKey},\n`);
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--ns', name]);
  return d;
}

/** The bundle file a rendered path names (the operator copies the bundle to the install directory). */
function bundleFile(bundleDir: string, renderedPath: string): string {
  expect(path.posix.dirname(renderedPath)).toBe(INSTALL_DIR);
  return path.join(bundleDir, path.posix.basename(renderedPath));
}

beforeAll(async () => {
  work = await makeTempDir('rendered-setup');
  dataDir = path.join(work, 'data');
  // ChirpStack's answer listener: started first on a port of the OS's choosing with a stand-in
  // certificate, then given exactly the TLS material the rendered [backend_interfaces] names.
  const standIn = await issueServerCertificate(await createCA('stand-in'), ['127.0.0.1']);
  listener = https.createServer({ cert: standIn.certPem, key: standIn.keyPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(text), clientCN: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;
  server = await startServer(dataDir, []);
}, 60_000);

/** Where network servers reach the running server: what the rendered files must name. */
const publicURL = (): string => new URL(server.biURL).origin;

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => listener?.close(resolve));
});

describe('e2e/rendered setup', () => {
  test('ChirpStack async: ns add without a management API renders chirpstack.toml; a listener configured as it says receives the JoinAns', async () => {
    const dir = path.join(work, 'cs-async');
    const added = await cli([
      'ns',
      'add',
      '--data-dir',
      dataDir,
      '--name',
      'cs-async',
      '--net-id',
      '000014',
      '--vendor',
      'chirpstack',
      '--out',
      dir,
      '--async-answer-url',
      `https://127.0.0.1:${listenerPort}/`,
      '--authorization-header',
      SECRET,
      '--join-eui-prefix',
      `${JOIN_EUI}/40`,
      '--ns-config-dir',
      INSTALL_DIR,
      '--public-url',
      publicURL(),
    ]);
    expect(added.stdout).toContain('chirpstack.toml');
    const toml = parseTOML(await fs.readFile(path.join(dir, 'chirpstack.toml'), 'utf8')) as any;
    expect((await fs.stat(path.join(dir, 'chirpstack.toml'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dir, 'async-listener.key'))).mode & 0o777).toBe(0o600);
    const server0 = toml.join_server.servers[0];
    expect(server0).toMatchObject({ join_eui_prefix: `${JOIN_EUI}/40`, async_timeout: '1s', authorization_header: SECRET });
    const bi = toml.backend_interfaces;
    expect(bi.bind).toBe(`0.0.0.0:${listenerPort}`);
    listener.setSecureContext({
      cert: await fs.readFile(bundleFile(dir, bi.tls_cert), 'utf8'),
      key: await fs.readFile(bundleFile(dir, bi.tls_key), 'utf8'),
      ca: await fs.readFile(bundleFile(dir, bi.ca_cert), 'utf8'),
    });

    const d = await importDevice('cs-async', '00000000000b5001');
    const bundle: PeerBundle = await readBundle(dir);
    // ChirpStack's own request: its TLS files and its header, as [[join_server.servers]] names them.
    const tls = { ca: await fs.readFile(bundleFile(dir, server0.ca_cert), 'utf8'), cert: await fs.readFile(bundleFile(dir, server0.tls_cert), 'utf8'), key: await fs.readFile(bundleFile(dir, server0.tls_key), 'utf8') };
    expect(tls.cert).toBe(bundle.cert);
    const request = joinReq(d, '000014', 3);
    expect((await post(server0.server, request, tls, {})).status).toBe(401); // the header secret is required
    const ack = await post(server0.server, request, tls, { authorization: server0.authorization_header });
    expect(ack).toEqual({ status: 200, text: '' });
    const until = Date.now() + 10_000;
    while (!received.some((r) => r.body.TransactionID === request['TransactionID']) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    const answer = received.find((r) => r.body.TransactionID === request['TransactionID']);
    expect(answer?.clientCN).toBe('joinery-join-server');
    // ChirpStack looks an 8-byte SenderID up as the JoinEUI of a configured Join Server.
    expect(answer?.body).toMatchObject({ MessageType: 'JoinAns', SenderID: JOIN_EUI, ReceiverID: '000014', Result: { ResultCode: 'Success' } });

    // README.txt gives the same steps as SETUP.txt, naming the same paths.
    const readme = await fs.readFile(path.join(dir, 'README.txt'), 'utf8');
    const setup = await fs.readFile(path.join(dir, 'SETUP.txt'), 'utf8');
    const steps = setup.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(steps.length).toBeGreaterThan(2);
    for (const step of steps) expect(readme).toContain(step);
    expect(readme).toContain(INSTALL_DIR);
    expect(readme).not.toContain(SECRET);
  }, 60_000);

  test('The Things Stack: js.yml carries the header secret Joinery requires; labels and async it cannot use are refused', async () => {
    const dir = path.join(work, 'tts');
    await cli([
      'ns',
      'add',
      '--data-dir',
      dataDir,
      '--name',
      'tts',
      '--net-id',
      '000015',
      '--vendor',
      'the-things-stack',
      '--out',
      dir,
      '--authorization-header',
      SECRET,
      '--kek-label',
      'ns:000015:joinery',
      '--public-url',
      publicURL(),
    ]);
    const js = parseYAML(await fs.readFile(path.join(dir, 'js.yml'), 'utf8'));
    expect((await fs.stat(path.join(dir, 'js.yml'))).mode & 0o777).toBe(0o600);
    expect(js.headers).toEqual({ Authorization: SECRET });
    const config = parseYAML(await fs.readFile(path.join(dir, 'config.yml'), 'utf8'));
    expect(config['join-servers'][0]['join-euis']).toEqual(['0000000000000000/0']);
    const d = await importDevice('tts', '00000000000b5002');
    const url = `https://${js.fqdn}:${js.port}/${js.paths.join}`;
    const tls = { ca: await fs.readFile(path.join(dir, js.tls['root-ca']), 'utf8'), cert: await fs.readFile(path.join(dir, js.tls.certificate), 'utf8'), key: await fs.readFile(path.join(dir, js.tls.key), 'utf8') };
    expect((await post(url, joinReq(d, '000015', 1), tls, {})).status).toBe(401);
    const ok = await post(url, joinReq(d, '000015', 2), tls, js.headers);
    expect(JSON.parse(ok.text).Result.ResultCode).toBe('Success');

    for (const [flags, message] of [
      [['--kek-label', 'NS:000016:Joinery'], /^joinery: --kek-label: the-things-stack cannot find the KEK label "NS:000016:Joinery": its configuration loader lower-cases keys/m],
      [['--kek-label', 'ns.000016'], /splits them on "\."/],
      [['--async-answer-url', 'https://127.0.0.1:9/'], /--async-answer-url: the-things-stack reads every answer from the HTTP response/],
    ] as const) {
      const refused = await runCLI(['ns', 'add', '--data-dir', dataDir, '--name', 'tts-refused', '--net-id', '000016', '--vendor', 'the-things-stack', '--out', path.join(work, 'tts-refused'), ...flags]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(message);
      await expect(fs.stat(path.join(work, 'tts-refused', 'client.key'))).rejects.toThrow(/ENOENT/);
    }
    const set = await runCLI(['ns', 'set', 'tts', '--async-answer-url', 'https://127.0.0.1:9/', '--data-dir', dataDir]);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toMatch(/reads every answer from the HTTP response/);
  }, 60_000);

  test('ns set --api-url adds the management API to a network server added without one', async () => {
    const keyFile = path.join(work, 'tts.key');
    await fs.writeFile(keyFile, 'NNSXS.TESTKEY', { mode: 0o600 });
    const stray = await runCLI(['ns', 'set', 'tts', '--application-id', 'app1', '--data-dir', dataDir]);
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toMatch(/--application-id: needs --api-url/);
    const set = await cli(['ns', 'set', 'tts', '--api-url', 'https://tts.example.com', '--api-key-file', keyFile, '--application-id', 'app1', '--data-dir', dataDir]);
    expect(set.stdout).toContain('management API: https://tts.example.com (applicationId=app1');
    expect(set.stdout + set.stderr).not.toContain('NNSXS.TESTKEY');
    expect(await fs.readFile(path.join(dataDir, 'adapter-keys', 'tts.key'), 'utf8')).toContain('NNSXS.TESTKEY');
    // Its MQTT user on open-source TTS is the bare application id; a bad option is still refused.
    const bad = await runCLI(['ns', 'set', 'tts', '--api-url', 'https://tts.example.com', '--api-key-file', keyFile, '--data-dir', dataDir]);
    expect(bad.stderr).toMatch(/--application-id/);
  }, 60_000);
});

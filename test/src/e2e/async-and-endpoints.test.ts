import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createCA, issueServerCertificate } from '../../../core/src/pki/certificate-authority';
import { cli, makeTempDir, runCLI, startServer, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * Asynchronous answers (TS002 async mode, as ChirpStack uses it), per-peer endpoints with an
 * Authorization header secret, and a trusted TLS-terminating proxy, through a real server.
 */
const JOIN_EUI = '70b3d57ed0000000';
const SECRET = 'Bearer 3f9c1e7a5b2d4c6e8a0b1d3f5a7c9e2b';

let work: string;
let dataDir: string;
let server: ServerProcess;
let answerListener: https.Server;
const received: { body: any; clientCN: string }[] = [];
const bundles: Record<string, PeerBundle> = {};
const devices: Record<string, DeviceKeys> = {};

function device(name: string, devEUI: string): DeviceKeys {
  const d: DeviceKeys = { devEUI, joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
  devices[name] = d;
  return d;
}

beforeAll(async () => {
  work = await makeTempDir('async');
  dataDir = path.join(work, 'data');
  // A network server's own BI listener for async answers: its own CA, and it checks that the
  // caller presents a certificate from Joinery's CA.
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-sync', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-sync')]);
  const nsCA = await createCA('Test NS CA');
  const nsServer = await issueServerCertificate(nsCA, ['127.0.0.1']);
  await fs.writeFile(path.join(work, 'ns-ca.pem'), nsCA.certPem);
  answerListener = https.createServer({ cert: nsServer.certPem, key: nsServer.keyPem, ca: await fs.readFile(path.join(dataDir, 'ca.crt'), 'utf8'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(text), clientCN: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => answerListener.listen(0, '127.0.0.1', resolve));
  const port = (answerListener.address() as AddressInfo).port;

  await cli([
    'ns',
    'add',
    '--data-dir',
    dataDir,
    '--name',
    'ns-async',
    '--net-id',
    '000014',
    '--vendor',
    'chirpstack',
    '--out',
    path.join(work, 'ns-async'),
    '--async-answer-url',
    `https://127.0.0.1:${port}/answers`,
    '--async-answer-ca',
    path.join(work, 'ns-ca.pem'),
  ]);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-dead', '--net-id', '000015', '--vendor', 'chirpstack', '--out', path.join(work, 'ns-dead'), '--async-answer-url', 'https://127.0.0.1:1/answers']);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-header', '--net-id', '000016', '--vendor', 'chirpstack', '--out', path.join(work, 'ns-header'), '--authorization-header', SECRET]);
  for (const n of ['ns-sync', 'ns-async', 'ns-dead', 'ns-header']) bundles[n] = await readBundle(path.join(work, n));

  for (const [name, devEUI] of [
    ['ns-sync', '00000000000a5001'],
    ['ns-async', '00000000000a5002'],
    ['ns-dead', '00000000000a5003'],
    ['ns-header', '00000000000a5004'],
  ] as const) {
    const d = device(name, devEUI);
    await fs.writeFile(path.join(work, `${name}.csv`), `dev_eui,join_eui,mac_version,app_key,nwk_key\n${d.devEUI},${d.joinEUI},1.0.3,${d.appKey},\n`);
    await cli(['devices', 'import', path.join(work, `${name}.csv`), '--data-dir', dataDir, '--ns', name]);
  }
  server = await startServer(dataDir, ['--bi-client-certificates', 'optional', '--async-attempts', '3', '--async-retry-delay', '50', '--trusted-proxy', '127.0.0.1']);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => answerListener?.close(resolve));
});

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

async function waitFor<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metric(pattern: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`${server.adminURL}metrics`)).text();
  return pattern.exec(text)?.[1];
}

describe('e2e/async answers', () => {
  test("acknowledged at once; the answer arrives at the peer's listener over mTLS, exactly once", async () => {
    const d = devices['ns-async']!;
    const request = joinReq(d, '000014', 7);
    const ack = await postJSON(server.biURL, request, bundles['ns-async']!);
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');
    const answer = await waitFor('the async JoinAns', () => received.find((r) => r.body.TransactionID === request['TransactionID']));
    expect(answer.clientCN).toBe('joinery-join-server');
    expect(answer.body).toMatchObject({ MessageType: 'JoinAns', SenderID: JOIN_EUI, ReceiverID: '000014', Result: { ResultCode: 'Success' } });
    const accepted = acceptJoin(d, 7, answer.body.PHYPayload);
    expect(accepted.micValid).toBe(true);
    const ns = bundles['ns-async']!;
    expect(openEnvelope(answer.body.NwkSKey, { label: ns.kekLabel, key: ns.kek })).toBe(accepted.keys['NwkSKey']);
    // Refusals are answered asynchronously too.
    const replay = { ...request, TransactionID: randomInt(1, 2 ** 31) };
    expect((await postJSON(server.biURL, replay, ns)).status).toBe(200);
    const refused = await waitFor('the async refusal', () => received.find((r) => r.body.TransactionID === replay['TransactionID']));
    expect(refused.body.Result.ResultCode).toBe('JoinReqFailed');
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => r.body.TransactionID === request['TransactionID'])).toHaveLength(1);
    expect(await metric(/joinery_async_answers_total\{outcome="delivered",peer="ns-async"\} (\d+)/)).toBe('2');
  });

  test('a dead answer URL: other joins go on; given up after the retries, counted; no second JoinNonce', async () => {
    const d = devices['ns-dead']!;
    expect((await postJSON(server.biURL, joinReq(d, '000015', 1), bundles['ns-dead']!)).status).toBe(200);
    const started = Date.now();
    const sync = await postJSON(server.biURL, joinReq(devices['ns-sync']!, '000013', 1), bundles['ns-sync']!);
    expect(sync.body['Result']['ResultCode']).toBe('Success');
    expect(Date.now() - started).toBeLessThan(2000);
    const failed = await (async () => {
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const v = await metric(/joinery_async_answers_total\{outcome="failed",peer="ns-dead"\} (\d+)/);
        if (v) return v;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    })();
    expect(failed).toBe('1');
    expect(await metric(/joinery_async_answers_total\{outcome="retry",peer="ns-dead"\} (\d+)/)).toBe('2');
    const shown = await runCLI(['devices', 'show', d.devEUI, '--json', '--data-dir', dataDir]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ lastJoinNonce: 1, lastDevNonce: 1 });
    await server.outputMatching(/async answer could not be delivered/);
  });
});

describe('e2e/per-peer endpoints', () => {
  const url = (p: string) => new URL(p, server.biURL).href;

  test('/bi/<name> without a client certificate: the Authorization header secret identifies the peer', async () => {
    const d = devices['ns-header']!;
    const ca = bundles['ns-header']!.ca;
    const ok = await postHeaders(url('bi/ns-header'), joinReq(d, '000016', 1), { ca }, { authorization: SECRET });
    expect(ok.status).toBe(200);
    expect(ok.body['Result']['ResultCode']).toBe('Success');
    expect((await postHeaders(url('bi/ns-header'), joinReq(d, '000016', 2), { ca }, { authorization: 'Bearer wrong-wrong-wrong-wrong' })).status).toBe(401);
    expect((await postHeaders(url('bi/ns-header'), joinReq(d, '000016', 3), { ca }, {})).status).toBe(401);
    // The shared endpoint needs a certificate; a peer without a secret needs its certificate.
    expect((await postHeaders(url('/'), joinReq(d, '000016', 4), { ca }, { authorization: SECRET })).status).toBe(401);
    expect((await postHeaders(url('bi/ns-sync'), joinReq(devices['ns-sync']!, '000013', 9), { ca }, {})).status).toBe(401);
  });

  test("a peer with a secret must send it with its certificate too; a certificate on another peer's path is refused", async () => {
    const d = devices['ns-header']!;
    const b = bundles['ns-header']!;
    expect((await postHeaders(url('/'), joinReq(d, '000016', 10), { ca: b.ca, cert: b.cert, key: b.key }, {})).status).toBe(401);
    const both = await postHeaders(url('/'), joinReq(d, '000016', 11), { ca: b.ca, cert: b.cert, key: b.key }, { authorization: SECRET });
    expect(both.body['Result']['ResultCode']).toBe('Success');
    const s = bundles['ns-sync']!;
    const crossed = await postHeaders(url('bi/ns-header'), joinReq(devices['ns-sync']!, '000013', 12), { ca: s.ca, cert: s.cert, key: s.key }, {});
    expect(crossed.body['Result']['ResultCode']).toBe('UnknownSender');
    const own = await postHeaders(url('bi/ns-sync'), joinReq(devices['ns-sync']!, '000013', 13), { ca: s.ca, cert: s.cert, key: s.key }, {});
    expect(own.body['Result']['ResultCode']).toBe('Success');
  });

  test('a trusted proxy forwards the client certificate in a header (URL-encoded PEM); a foreign one is not believed', async () => {
    const s = bundles['ns-sync']!;
    const forwarded = await postHeaders(url('/'), joinReq(devices['ns-sync']!, '000013', 20), { ca: s.ca }, { 'x-client-cert': encodeURIComponent(s.cert) });
    expect(forwarded.body['Result']['ResultCode']).toBe('Success');
    const foreignCA = await createCA('Foreign');
    const foreign = await issueServerCertificate(foreignCA, ['127.0.0.1']);
    expect((await postHeaders(url('/'), joinReq(devices['ns-sync']!, '000013', 21), { ca: s.ca }, { 'x-client-cert': encodeURIComponent(foreign.certPem) })).status).toBe(401);
  });

  test('ns set: a secret set on a running server takes effect at once; --no-authorization removes it', async () => {
    await cli(['ns', 'set', 'ns-sync', '--authorization-header', SECRET, '--data-dir', dataDir]);
    const s = bundles['ns-sync']!;
    const tls = { ca: s.ca, cert: s.cert, key: s.key };
    expect((await postHeaders(url('/'), joinReq(devices['ns-sync']!, '000013', 30), tls, {})).status).toBe(401);
    await cli(['ns', 'set', 'ns-sync', '--no-authorization', '--data-dir', dataDir]);
    expect((await postHeaders(url('/'), joinReq(devices['ns-sync']!, '000013', 31), tls, {})).body['Result']['ResultCode']).toBe('Success');
    expect(server.output()).not.toContain(SECRET.split(' ')[1]);
  });
});

function postHeaders(u: string, message: unknown, tls: { ca: string; cert?: string; key?: string }, headers: Record<string, string>) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(u, { method: 'POST', ...tls, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(message));
  });
}

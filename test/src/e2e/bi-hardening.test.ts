import * as https from 'node:https';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { createCA, issueClientCertificate } from '../../../core/src/pki/certificate-authority';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { readBundle, type PeerBundle } from '../support/network-server';

/**
 * The BI listener's transport hardening, on real `joinery serve` processes: TLS 1.2 with ECDHE
 * AEAD suites only and no renegotiation; wrong Authorization header secrets throttled per source
 * address, with a 401 that never says whether the peer exists; and one rate-limited warn line
 * for every request refused before the BI handler. Clients bind distinct loopback addresses
 * (127.0.0.x) so each test has its own source address.
 */
const SECRET = 'Bearer hardening-secret-0123456789';

let work: string;
let dataDir: string;
let required: ServerProcess;
let optional: ServerProcess;
let nsCert: PeerBundle;
let ca: string;

beforeAll(async () => {
  work = await makeTempDir('bi-hardening');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-cert', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-cert')]);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-header', '--net-id', '000016', '--vendor', 'chirpstack', '--out', path.join(work, 'ns-header'), '--authorization-header', SECRET]);
  nsCert = await readBundle(path.join(work, 'ns-cert'));
  ca = nsCert.ca;
  required = await startServer(dataDir);
  optional = await startServer(dataDir, ['--bi-client-certificates', 'optional']);
}, 60_000);

afterAll(async () => {
  await optional?.stop();
  await required?.stop();
});

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** One request from `localAddress`, without a client certificate unless given one. */
function request(
  server: ServerProcess,
  o: { readonly localAddress: string; readonly method?: string; readonly path?: string; readonly headers?: Record<string, string>; readonly body?: string | Buffer; readonly cert?: PeerBundle },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(o.path ?? '/', server.biURL),
      { method: o.method ?? 'POST', ca, localAddress: o.localAddress, agent: false, headers: { 'content-type': 'application/json', ...o.headers }, ...(o.cert ? { cert: o.cert.cert, key: o.cert.key } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

const homeNSReq = (senderID: string): string => JSON.stringify({ ProtocolVersion: '1.0', SenderID: senderID, ReceiverID: '70b3d57ed0000000', TransactionID: 1, MessageType: 'HomeNSReq', DevEUI: '0000000000000001' });

/** A TLS connection's outcome: the protocol and cipher agreed, or the error. */
function handshake(server: ServerProcess, options: tls.ConnectionOptions): Promise<{ ok: true; socket: tls.TLSSocket } | { ok: false; error: string }> {
  const url = new URL(server.biURL);
  return new Promise((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, servername: 'localhost', ...options });
    socket.once('secureConnect', () => resolve({ ok: true, socket }));
    socket.once('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/** The refusal lines the server logged (JSON log lines), once a line matching `last` is there. */
async function refusalLines(server: ServerProcess, last: RegExp): Promise<Record<string, unknown>[]> {
  const out = await server.outputMatching(last);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['msg'] === 'bi request refused');
}

describe('e2e/bi-hardening/tls', () => {
  // (Suites of RSA key exchange or signature cannot match the server's ECDSA key at all.)
  test.each(['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES256-SHA'])('TLS 1.2 offering only %s (CBC, not AEAD): refused', async (cipher) => {
    const r = await handshake(optional, { maxVersion: 'TLSv1.2', ciphers: cipher });
    expect(r.ok).toBe(false);
  });

  test.each(['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'])('TLS 1.2 with %s: accepted', async (cipher) => {
    const r = await handshake(optional, { maxVersion: 'TLSv1.2', ciphers: cipher });
    if (!r.ok) throw new Error(r.error);
    expect(r.socket.getProtocol()).toBe('TLSv1.2');
    expect(r.socket.getCipher().standardName).toMatch(/^TLS_ECDHE_ECDSA_WITH_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
    r.socket.destroy();
  });

  test('TLS 1.3 stays on', async () => {
    const r = await handshake(required, { cert: nsCert.cert, key: nsCert.key });
    if (!r.ok) throw new Error(r.error);
    expect(r.socket.getProtocol()).toBe('TLSv1.3');
    r.socket.destroy();
  });

  test('TLS 1.2: a client-initiated renegotiation is refused', async () => {
    const r = await handshake(required, { maxVersion: 'TLSv1.2', cert: nsCert.cert, key: nsCert.key });
    if (!r.ok) throw new Error(r.error);
    // Refused: the server answers no_renegotiation, which the client reports as an error on the
    // socket (the renegotiation's callback never runs). Accepted, the callback runs without one.
    let timer: NodeJS.Timeout | undefined;
    const renegotiated = await new Promise<Error | null>((resolve) => {
      timer = setTimeout(() => resolve(new Error('no answer to the renegotiation within 5 s')), 5_000);
      r.socket.once('error', resolve);
      r.socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err));
      r.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    clearTimeout(timer);
    r.socket.destroy();
    expect(renegotiated?.message).toMatch(/no renegotiation/);
  });
});

describe('e2e/bi-hardening/header secrets', () => {
  test('the 401 is the same whether the peer on /bi/<name> exists (wrong secret, no secret configured) or not', async () => {
    const bodies = [];
    for (const name of ['ns-header', 'ns-cert', 'no-such-peer']) {
      const r = await request(optional, { localAddress: '127.0.0.2', path: `/bi/${name}`, headers: { authorization: 'Bearer wrong-wrong-wrong' }, body: homeNSReq('000016') });
      expect(r.status).toBe(401);
      bodies.push(r.text.split(name).join('<name>'));
    }
    expect(new Set(bodies).size).toBe(1);
  });

  test('wrong secrets are throttled per source address: 429 with Retry-After, even for the right secret; other addresses unaffected', async () => {
    const attempt = (localAddress: string, secret: string): Promise<Answer> => request(optional, { localAddress, path: '/bi/ns-header', headers: { authorization: secret }, body: homeNSReq('000016') });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt('127.0.0.3', `Bearer wrong-${i}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const right = await attempt('127.0.0.3', SECRET);
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(right.text)).toEqual({ message: expect.stringMatching(/too many wrong Authorization headers/) });
    expect((await attempt('127.0.0.4', SECRET)).status).toBe(200);
  });
});

describe('e2e/bi-hardening/refusal log', () => {
  test('every request refused before the handler leaves one warn line with the address and the reason, rate-limited; never the secret or the body', async () => {
    const from = '127.0.0.5';
    const bodyMarker = 'body-marker-not-logged';
    for (let i = 0; i < 2; i++) {
      await request(optional, { localAddress: from, body: `${bodyMarker} not json` });
      await request(optional, { localAddress: from, body: Buffer.alloc(33 * 1024, 0x7b) });
      await request(optional, { localAddress: from, method: 'GET', path: '/bi/ns-cert' });
      await request(optional, { localAddress: from, body: homeNSReq('000013') });
      await request(optional, { localAddress: from, path: '/bi/ns-header', headers: { authorization: `Bearer ${bodyMarker}` }, body: homeNSReq('000016') });
    }
    // A line from another address after them: the lines before it are all written.
    await request(optional, { localAddress: '127.0.0.6', method: 'DELETE' });
    const lines = (await refusalLines(optional, /"address":"127\.0\.0\.6"/)).filter((l) => l['address'] === from);
    expect(lines.map((l) => l['reason']).sort()).toEqual(['bad or missing header secret', 'no client certificate', 'not JSON', 'too large', 'wrong method']);
    for (const l of lines) expect(l).toMatchObject({ level: 40, suppressed: 0 });
    expect(lines.find((l) => l['reason'] === 'bad or missing header secret')!['detail']).toBe('/bi/ns-header: missing or wrong Authorization header');
    expect(optional.output()).not.toContain(bodyMarker);
  });

  test("connections TLS refuses are logged too: no client certificate, another CA's certificate", async () => {
    const foreignCA = await createCA('Foreign CA');
    const foreign = await issueClientCertificate(foreignCA, 'foreign');
    await request(required, { localAddress: '127.0.0.7' }).catch(() => undefined);
    await request(required, { localAddress: '127.0.0.8', cert: { ...nsCert, cert: foreign.certPem, key: foreign.keyPem } }).catch(() => undefined);
    const lines = await refusalLines(required, /"address":"127\.0\.0\.8"/);
    expect(lines.find((l) => l['address'] === '127.0.0.7')).toMatchObject({ reason: 'no client certificate' });
    expect(lines.find((l) => l['address'] === '127.0.0.8')).toMatchObject({ reason: 'unknown client certificate' });
  });
});

describe('e2e/bi-hardening/direct path', () => {
  // A BI POST with a Content-Length is answered on the listener's direct path; the same request
  // sent chunked goes through fastify's route. Both must give the same status, content type and
  // body, for answers and refusals alike.
  test('a message answers the same on the direct path (Content-Length) as through fastify (chunked)', async () => {
    const cases: { readonly server: ServerProcess; readonly body: string; readonly path?: string; readonly headers?: Record<string, string>; readonly cert?: PeerBundle }[] = [
      { server: required, body: homeNSReq('000013'), cert: nsCert },
      { server: required, body: homeNSReq('000099'), cert: nsCert },
      { server: required, body: '{"ProtocolVersion":"9.9","MessageType":"JoinReq"}', cert: nsCert },
      { server: required, body: '[1, 2]', cert: nsCert },
      { server: required, body: '{"not json', cert: nsCert },
      { server: required, body: '   ', cert: nsCert },
      { server: required, body: homeNSReq('000013'), cert: nsCert, headers: { 'content-type': 'application/json; charset=utf-8' } },
      { server: optional, body: homeNSReq('000016'), path: '/bi/ns-header', headers: { authorization: SECRET } },
      { server: optional, body: homeNSReq('000016'), path: '/bi/ns-header' },
    ];
    for (const c of cases) {
      const send = (chunked: boolean): Promise<Answer> =>
        request(c.server, { localAddress: '127.0.0.9', body: c.body, path: c.path, cert: c.cert, headers: { ...c.headers, ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) } });
      const direct = await send(false);
      const routed = await send(true);
      expect({ body: c.body, status: direct.status, type: direct.headers['content-type'], text: direct.text }).toEqual({ body: c.body, status: routed.status, type: routed.headers['content-type'], text: routed.text });
      expect(direct.headers['content-length']).toBe(String(Buffer.byteLength(direct.text)));
    }
  });
});

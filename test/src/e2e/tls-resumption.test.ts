import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { readBundle, type PeerBundle } from '../support/network-server';

/**
 * TLS sessions resumed across a restart of `joinery serve` (core/src/pki/session-ticket-keys.ts):
 * the listener's ticket keys live in the data directory, so a network server that kept its
 * session resumes it after the restart instead of a full handshake, and a resumed session is
 * still the peer of its certificate, refused like a new one once the peer is disabled. Keys
 * that are a day old, or a file that group or others can read, are replaced at start: their
 * tickets no longer open. A session is never more than the certificate of its handshake: once
 * that certificate is retired, or its network server deleted (and another registered under the
 * same name), the session is refused like a new connection would be.
 */
const TICKET_KEYS = 'tls-ticket-keys.json';
const NET_ID = '000013';

let work: string;
let dataDir: string;
let ns: PeerBundle;
let server: ServerProcess | undefined;

beforeAll(async () => {
  work = await makeTempDir('tls-resumption');
  dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', NET_ID, '--vendor', 'chirpstack', '--out', path.join(work, 'ns-a')]);
  ns = await readBundle(path.join(work, 'ns-a'));
}, 60_000);

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

interface Exchange {
  readonly reused: boolean;
  readonly result: string | undefined;
  /** The session to resume next time (TLS 1.3 sends it after the handshake). */
  readonly session: Buffer;
}

/** A HomeNSReq on a new connection (resuming `session` when given): whether it resumed, the answer's ResultCode. */
function homeNSReq(biURL: string, session?: Buffer, peer: { readonly bundle: PeerBundle; readonly netID: string } = { bundle: ns, netID: NET_ID }): Promise<Exchange> {
  const body = JSON.stringify({ ProtocolVersion: '1.0', SenderID: peer.netID, ReceiverID: '0000000000000000', TransactionID: 7, MessageType: 'HomeNSReq', DevEUI: '00000000000000a1' });
  const { ca, cert, key } = peer.bundle;
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    const req = https.request(biURL, { method: 'POST', ca, cert, key, agent: false, ...(session ? { session } : {}), headers: { 'content-type': 'application/json' } }, (res) => {
      const socket = res.socket as TLSSocket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { Result?: { ResultCode?: string } };
        resolve({ reused: socket.isSessionReused(), result: answer.Result?.ResultCode, session: latest ?? socket.getSession()! });
      });
    });
    req.on('socket', (socket: TLSSocket) => socket.on('session', (s: Buffer) => (latest = s)));
    req.on('error', reject);
    req.end(body);
  });
}

async function restart(): Promise<ServerProcess> {
  await server?.stop();
  server = await startServer(dataDir);
  return server;
}

async function ticketKeysFile(): Promise<{ mode: number; createdAt: string; keys: string }> {
  const file = path.join(dataDir, TICKET_KEYS);
  const stat = await fs.stat(file);
  return { mode: stat.mode & 0o777, ...(JSON.parse(await fs.readFile(file, 'utf8')) as { createdAt: string; keys: string }) };
}

/** A session from a running server, then the server stopped: its ticket key file, and what it held. */
async function sessionThenStop(): Promise<{ first: Exchange; file: string; before: Awaited<ReturnType<typeof ticketKeysFile>> }> {
  const first = await homeNSReq((await restart()).biURL);
  await server!.stop();
  server = undefined;
  return { first, file: path.join(dataDir, TICKET_KEYS), before: await ticketKeysFile() };
}

test('a session from before a restart is resumed after it, and is still its peer', async () => {
  const first = await homeNSReq((await restart()).biURL);
  expect(first).toMatchObject({ reused: false, result: 'UnknownDevEUI' });

  const file = await ticketKeysFile();
  expect(file.mode).toBe(0o600);
  expect(file.keys).toMatch(/^[0-9a-f]{96}$/);
  expect(server!.output()).toContain(`created TLS session ticket keys ${path.join(dataDir, TICKET_KEYS)}`);

  const s = await restart();
  const resumed = await homeNSReq(s.biURL, first.session);
  // The peer of the certificate of the first handshake: known, so the device is what is unknown.
  expect(resumed).toMatchObject({ reused: true, result: 'UnknownDevEUI' });
  expect(await ticketKeysFile()).toEqual(file);
  // The keys never reach the log.
  expect(s.output()).not.toContain(file.keys);
  expect(s.output()).not.toContain(file.keys.slice(32, 64));
}, 60_000);

test('a disabled peer is refused on a resumed session as on a new one', async () => {
  const first = await homeNSReq((await restart()).biURL);
  await cli(['ns', 'disable', 'ns-a', '--data-dir', dataDir]);
  try {
    const s = await restart();
    const resumed = await homeNSReq(s.biURL, first.session);
    expect(resumed).toMatchObject({ reused: true, result: 'UnknownSender' });
    expect(await homeNSReq(s.biURL)).toMatchObject({ reused: false, result: 'UnknownSender' });
  } finally {
    await cli(['ns', 'enable', 'ns-a', '--data-dir', dataDir]);
  }
}, 60_000);

test('keys a day old are replaced at start, and their sessions are not resumed', async () => {
  const { first, file, before } = await sessionThenStop();
  await fs.writeFile(file, JSON.stringify({ createdAt: new Date(Date.now() - 24 * 3600_000 - 60_000).toISOString(), keys: before.keys }));

  const s = await restart();
  const after = await ticketKeysFile();
  expect(after.keys).not.toBe(before.keys);
  expect(Date.now() - Date.parse(after.createdAt)).toBeLessThan(60_000);
  // A full handshake: the same peer, served.
  expect(await homeNSReq(s.biURL, first.session)).toMatchObject({ reused: false, result: 'UnknownDevEUI' });
}, 60_000);

test('a key file others can read is replaced, with a warning, and its keys never open a session', async () => {
  const { first, file, before } = await sessionThenStop();
  await fs.chmod(file, 0o644);

  const s = await restart();
  await s.outputMatching(/TLS session ticket key file unusable: replaced/);
  expect(s.output()).toMatch(/mode 0644: group or others could read it/);
  const after = await ticketKeysFile();
  expect(after.mode).toBe(0o600);
  expect(after.keys).not.toBe(before.keys);
  expect(await homeNSReq(s.biURL, first.session)).toMatchObject({ reused: false, result: 'UnknownDevEUI' });
}, 60_000);

test('a key file that is not ours is replaced, and the server starts', async () => {
  await fs.writeFile(path.join(dataDir, TICKET_KEYS), 'not json', { mode: 0o600 });
  const s = await restart();
  await s.outputMatching(/TLS session ticket key file unusable: replaced/);
  expect(s.output()).toContain('not JSON');
  expect((await ticketKeysFile()).keys).toMatch(/^[0-9a-f]{96}$/);
  expect(await homeNSReq(s.biURL)).toMatchObject({ reused: false, result: 'UnknownDevEUI' });
}, 60_000);

/** Registers a network server of its own for a test: its bundle in `<work>/<name>`, and the peer to send as. */
async function addNS(name: string, netID: string): Promise<{ readonly bundle: PeerBundle; readonly netID: string }> {
  const out = path.join(work, `${name}-${Date.now()}`);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', name, '--net-id', netID, '--vendor', 'chirpstack', '--out', out]);
  return { bundle: await readBundle(out), netID };
}

test('a deleted network server is refused on a resumed session, and one registered again under its name is not it', async () => {
  const before = await addNS('ns-b', '000014');
  const s = await restart();
  const first = await homeNSReq(s.biURL, undefined, before);
  expect(first).toMatchObject({ reused: false, result: 'UnknownDevEUI' });

  // Deleted by another process while this server runs: refused from its next request on.
  await cli(['ns', 'delete', 'ns-b', '--data-dir', dataDir]);
  expect(await homeNSReq(s.biURL, first.session, before)).toMatchObject({ reused: true, result: 'UnknownSender' });

  // The same name again, with a new certificate: the old session stands for the old certificate.
  const again = await addNS('ns-b', '000014');
  const restarted = await restart();
  expect(await homeNSReq(restarted.biURL, first.session, before)).toMatchObject({ reused: true, result: 'UnknownSender' });
  expect(await homeNSReq(restarted.biURL, undefined, again)).toMatchObject({ reused: false, result: 'UnknownDevEUI' });
}, 60_000);

test('a retired certificate is refused on a resumed session while its successor is served', async () => {
  const old = await addNS('ns-c', '000015');
  const s = await restart();
  const first = await homeNSReq(s.biURL, undefined, old);
  expect(first).toMatchObject({ reused: false, result: 'UnknownDevEUI' });

  const renewed = path.join(work, 'ns-c-renewed');
  await cli(['ns', 'renew-certificate', 'ns-c', '--data-dir', dataDir, '--out', renewed]);
  // Until it is retired, the old certificate's session is served.
  expect(await homeNSReq(s.biURL, first.session, old)).toMatchObject({ reused: true, result: 'UnknownDevEUI' });
  await cli(['ns', 'retire-certificate', 'ns-c', '--data-dir', dataDir]);
  expect(await homeNSReq(s.biURL, first.session, old)).toMatchObject({ reused: true, result: 'UnknownSender' });
  expect(await homeNSReq(s.biURL, undefined, { bundle: await readBundle(renewed), netID: '000015' })).toMatchObject({ reused: false, result: 'UnknownDevEUI' });
}, 60_000);

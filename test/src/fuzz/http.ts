import * as https from 'node:https';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { PeerBundle } from '../support/network-server';

/** What came back: an HTTP answer, or the transport error that replaced it (a dropped connection). */
export type Exchange =
  | { readonly ok: true; readonly status: number; readonly contentType: string | undefined; readonly text: string; readonly newConnection: boolean; readonly resumedTLS: boolean; readonly closed: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * A keep-alive client with one peer's certificate: what a network server's BI client is. One
 * TLS context for all its connections: built per connection from the PEMs (as passing ca, cert
 * and key does), it costs the client ~3 ms of CPU each time the server closes a connection.
 */
export function keepAliveAgent(bundle: PeerBundle, maxSockets: number): https.Agent {
  const secureContext = createSecureContext({ ca: bundle.ca, cert: bundle.cert, key: bundle.key });
  return new https.Agent({ keepAlive: true, maxSockets, secureContext });
}

/**
 * Sends a raw request (POST, mostly) on a keep-alive agent. Never rejects: a socket error, a reset or a hang-up
 * before the answer is complete is returned as `{ ok: false }` for the oracle to judge.
 */
export function send(
  url: URL,
  request: {
    readonly method: string;
    readonly path: string;
    readonly contentType: string | undefined;
    readonly headers?: Readonly<Record<string, string>>;
    readonly chunked?: boolean;
    readonly body: Buffer;
  },
  agent: https.Agent,
  timeoutMs = 30_000,
): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (e: Exchange): void => {
      if (!settled) {
        settled = true;
        resolve(e);
      }
    };
    let resumedTLS = false;
    const req = https.request(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: request.path,
        method: request.method,
        agent,
        headers: {
          ...request.headers,
          ...(request.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(request.body.length) }),
          ...(request.contentType === undefined ? {} : { 'content-type': request.contentType }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            ok: true,
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
            newConnection: !req.reusedSocket,
            resumedTLS,
            closed: res.headers['connection'] === 'close',
          }),
        );
        res.on('error', (e) => done({ ok: false, error: `response: ${e.message}` }));
        res.on('aborted', () => done({ ok: false, error: 'response aborted' }));
      },
    );
    req.on('socket', (socket) => {
      if (!req.reusedSocket) (socket as TLSSocket).once('secureConnect', () => (resumedTLS = (socket as TLSSocket).isSessionReused()));
    });
    req.setTimeout(timeoutMs, () => {
      done({ ok: false, error: `no answer in ${timeoutMs} ms` });
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: `${e.code ?? ''} ${e.message}`.trim() }));
    if (request.chunked) {
      // Two chunks, the second a moment later: a body that arrives in pieces.
      const cut = request.body.length >> 1;
      req.write(request.body.subarray(0, cut));
      setImmediate(() => req.end(request.body.subarray(cut)));
    } else {
      req.end(request.body);
    }
  });
}

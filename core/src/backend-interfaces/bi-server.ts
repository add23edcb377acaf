import { constants as cryptoConstants, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger';
import type { ClaimService } from '../claims/claim-service';
import { TICKET_LIFETIME_SECONDS } from '../pki/session-ticket-keys';
import { registerTTJSClaimRoutes, TTJS_MAX_PARAM_LENGTH } from '../claims/ttjs-claim-routes';
import type { Store } from '../store/store';
import type { BackendInterfacesHandler } from './bi-handler';
import { resolveCaller, type Caller } from './caller';
import { forwardedCertificateFingerprint } from './forwarded-certificate';
import { RefusalLog, type RefusalReason } from './refusal-log';
import { TokenBuckets } from '../rate-limit/token-buckets';

/** Larger bodies are refused with HTTP 400: no BI message comes near it. */
export const BI_BODY_LIMIT = 32 * 1024;

export interface BIServerOptions {
  readonly handler: BackendInterfacesHandler;
  readonly log: Logger;
  readonly tls: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly caPem: string;
    /** Session ticket keys that outlive the process (session-ticket-keys.ts); node draws its own when absent. */
    readonly ticketKeys?: Buffer;
  };
  /**
   * `required` (default): no client certificate from Joinery's CA, no TLS handshake.
   * `optional`: connections without one are accepted, for peers identified on their endpoint
   * `/bi/<name>` by an Authorization header secret, and for a trusted proxy.
   */
  readonly clientCertificates?: 'required' | 'optional';
  /** Addresses of TLS-terminating proxies whose client-certificate header is believed. */
  readonly trustedProxies?: readonly string[];
  /** The header such a proxy puts the client certificate in (default `x-client-cert`). */
  readonly clientCertHeader?: string;
  /** The TTJS-v2-compatible claim API (`/api/v2/devices/...`) for registered peers. */
  readonly claims?: { readonly service: ClaimService; readonly store: Store };
}

/**
 * TLS 1.2: only ECDHE key exchange (forward secrecy) with AEAD ciphers; the server key is an
 * ECDSA one, the RSA suites are for an operator's own RSA certificate. TLS 1.3's suites (all
 * ECDHE/AEAD) are named too: a list without them would turn TLS 1.3 off.
 */
export const BI_TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Wrong header secrets per source address: a burst of 10, then one every 6 s. Beyond, every
 * request from that address gets 429 until a token is back, before any secret is compared.
 * In memory, per listener; behind a TLS-terminating proxy all its clients share its address.
 */
export const SECRET_FAILURES = { burst: 10, refillMs: 6_000 } as const;

const fingerprints = new WeakMap<TLSSocket, string | null>();

/** The client certificate's SHA-256 fingerprint, computed once per TLS connection. */
function peerFingerprint(socket: TLSSocket): string | null {
  let fp = fingerprints.get(socket);
  if (fp === undefined) {
    const raw = socket.authorized ? socket.getPeerCertificate()?.raw : undefined;
    fp = raw && raw.length > 0 ? createHash('sha256').update(raw).digest('hex') : null;
    fingerprints.set(socket, fp);
  }
  return fp;
}

/** How much of a refused, too large body is read (and dropped) before answering anyway. */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

/**
 * A body over the limit is refused before it is read (fastify checks Content-Length, or stops
 * reading at the limit) and the connection is closed after the answer. A client still
 * uploading then gets a reset (EPIPE, ECONNRESET) instead of the 400: found by the fuzz test
 * with bodies of a few MB. So the rest of the body is read and dropped first, within bounds.
 */
function drainRefusedBody(body: IncomingMessage): Promise<void> {
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let received = 0;
    const done = (): void => {
      clearTimeout(timer);
      body.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    body.on('data', onData).once('end', done).once('close', done).once('error', done);
    body.resume();
  });
}

class BadRequest extends Error {
  readonly statusCode = 400;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same proxy. */
function normalizeAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/**
 * The Backend Interfaces listener: HTTPS that requires a client certificate issued by
 * Joinery's CA (no certificate, or another CA's, fails the TLS handshake). Every path is
 * accepted (`/`, whatever a network server is configured with): the certificate identifies the
 * peer. `/bi/<peer-name>` is a peer's own endpoint: a certificate there must be that peer's,
 * and in `optional` mode a peer without one is identified by its Authorization header secret.
 */
export function createBIServer(options: BIServerOptions): FastifyInstance {
  const required = (options.clientCertificates ?? 'required') === 'required';
  const trustedProxies = new Set((options.trustedProxies ?? []).map(normalizeAddress));
  const certHeader = (options.clientCertHeader ?? 'x-client-cert').toLowerCase();
  const app = Fastify({
    https: {
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ca: options.tls.caPem,
      requestCert: true,
      rejectUnauthorized: required,
      minVersion: 'TLSv1.2',
      ciphers: BI_TLS_CIPHERS,
      // TLS 1.2 renegotiation (TLS 1.3 has none): refused, whoever asks.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
      ...(options.tls.ticketKeys ? { ticketKeys: options.tls.ticketKeys, sessionTimeout: TICKET_LIFETIME_SECONDS } : {}),
    },
    bodyLimit: BI_BODY_LIMIT,
    // A batch unclaim names its DevEUIs in one path segment (see MAX_BATCH_UNCLAIM).
    routerOptions: { maxParamLength: TTJS_MAX_PARAM_LENGTH },
    logger: false,
    return503OnClosing: true,
  });

  // Refused requests and connections: one warn line per address and reason every 10 s.
  const refusals = new RefusalLog(options.log);
  const addressOf = (req: FastifyRequest): string => normalizeAddress(req.raw.socket.remoteAddress);
  const refused = (req: FastifyRequest, reason: RefusalReason, detail?: string): void => refusals.refused(addressOf(req), reason, detail);
  const secretFailures = new TokenBuckets(SECRET_FAILURES.burst, SECRET_FAILURES.refillMs, 100_000);

  // Connections refused by TLS: no client certificate, another CA's (node lets that handshake
  // finish, then closes the connection, reporting a hang-up and the verification error on the
  // socket), no shared cipher. A connection merely dropped during the handshake (a port probe)
  // is not a refusal. Node reports a socket it has destroyed, which no longer knows its peer: the
  // address is read (and so kept by node) on the TCP socket as it connects, and found there
  // through the TLS socket's `_parent` (node's name for the socket it wraps).
  app.server.on('connection', (raw: Socket) => void raw.remoteAddress);
  app.server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    const address = normalizeAddress(socket.remoteAddress ?? (socket as unknown as { _parent?: Socket })._parent?.remoteAddress);
    const verifyError = socket.authorizationError;
    if (verifyError) return refusals.refused(address, 'unknown client certificate', String(verifyError));
    const code = err.code ?? '';
    if (!code.startsWith('ERR_SSL_')) return;
    refusals.refused(address, code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' ? 'no client certificate' : 'TLS handshake failed', code);
  });

  // Peers send JSON with or without a JSON content type: parse every body as JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(new BadRequest('empty body: expected a Backend Interfaces JSON message'), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new BadRequest('body is not valid JSON: expected a Backend Interfaces JSON message'), undefined);
    }
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      refused(req, 'too large');
      await drainRefusedBody(req.raw);
      return reply.code(400).send({ message: `body larger than ${BI_BODY_LIMIT} bytes` });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      refused(req, err instanceof BadRequest ? 'not JSON' : 'bad request', err instanceof BadRequest ? undefined : err.code);
      return reply.code(400).send({ message: err.message });
    }
    options.log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'BI listener error');
    return reply.code(500).send({ message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) => {
    refused(req, 'wrong method', req.method);
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ message: `${req.method} is not supported: POST a Backend Interfaces message` });
  });

  /** Who the transport says is calling: the client certificate (or a trusted proxy's header), the path's peer, the secret. */
  const callerOf = (req: IncomingMessage): Caller => {
    const socket = req.socket as TLSSocket;
    let certFingerprint = peerFingerprint(socket);
    const forwarded = req.headers[certHeader];
    if (certFingerprint === null && typeof forwarded === 'string' && trustedProxies.has(normalizeAddress(socket.remoteAddress))) {
      certFingerprint = forwardedCertificateFingerprint(forwarded, options.tls.caPem);
    }
    const m = /^\/bi\/([^/?#]+)\/?(?:[?#].*)?$/.exec(req.url ?? '');
    return { certFingerprint, pathPeer: m ? m[1]! : null, authorization: req.headers.authorization };
  };

  if (options.claims) {
    const { service, store } = options.claims;
    registerTTJSClaimRoutes(app, {
      store,
      claims: service,
      identify: async (req) => {
        const caller = callerOf(req.raw);
        if (caller.certFingerprint === null) return null;
        const resolved = await resolveCaller(store, { ...caller, pathPeer: null });
        return resolved.kind === 'peer' ? resolved.peer : null;
      },
    });
  }

  /** A BI message's HTTP reply: the same whether it came through fastify or the direct path below. */
  const answerMessage = async (body: unknown, raw: IncomingMessage): Promise<HTTPReply> => {
    const address = normalizeAddress(raw.socket.remoteAddress);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      refusals.refused(address, 'not JSON', 'not a JSON object');
      return { status: 400, payload: { message: 'expected a JSON object (a Backend Interfaces message)' } };
    }
    const waitMs = secretFailures.waitMs(address, Date.now());
    if (waitMs > 0) {
      refusals.refused(address, 'too many failed header secrets');
      const seconds = Math.ceil(waitMs / 1000);
      return { status: 429, headers: { 'retry-after': String(seconds) }, payload: { message: `too many wrong Authorization headers from this address: retry in ${seconds} s` } };
    }
    const result = await options.handler.handle(body as Record<string, unknown>, callerOf(raw));
    switch (result.kind) {
      case 'acknowledge':
        return { status: 200, payload: undefined };
      case 'unauthenticated':
        if (result.cause === 'bad or missing header secret') secretFailures.take(address, Date.now());
        refusals.refused(address, result.cause, result.detail);
        return { status: 401, payload: { message: result.message } };
      case 'answer':
        // Fastify sends it as `application/json; charset=utf-8` (it adds the charset to a JSON type set without one).
        return { status: 200, payload: result.answer };
    }
  };

  app.post('/*', async (req, reply) => {
    const r = await answerMessage(req.body, req.raw);
    reply.code(r.status);
    if (r.headers) reply.headers(r.headers);
    return reply.send(r.payload);
  });

  directBIPath(app, { answer: answerMessage, notJSON: (raw) => refusals.refused(normalizeAddress(raw.socket.remoteAddress), 'not JSON'), log: options.log });
  return app;
}

interface HTTPReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON; undefined: no body. */
  readonly payload: unknown;
}

/**
 * The BI messages' own path, beside fastify: a POST of a JSON body with its length given, to any
 * path but the claim API's, is read, parsed and answered here, with the same reply (status,
 * headers, body) and the same refusals as through fastify's route; everything else (other
 * methods, the claim API, a chunked or empty or too large body, another content type, and every
 * request once the listener is closing) goes to fastify as before. Fastify's request lifecycle
 * (its Request and Reply objects, hooks, routing, content-type parser, the serializer's checks)
 * cost the server about 30 µs a join, on two cores where the whole HTTPS exchange of a bare node
 * server costs 65-80 (bench/README.md).
 */
function directBIPath(app: FastifyInstance, { answer, notJSON, log }: { answer: (body: unknown, raw: IncomingMessage) => Promise<HTTPReply>; notJSON: (raw: IncomingMessage) => void; log: Logger }): void {
  const server = app.server;
  const [fastifyHandler, ...others] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (fastifyHandler === undefined || others.length > 0) throw new Error('BI listener: expected fastify to be the only request handler');
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const length = directLength(req);
    if (closing || length === null) return fastifyHandler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('error', () => undefined);
    req.once('end', () => {
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = NOT_JSON;
      }
      if (body === NOT_JSON) {
        notJSON(req);
        return send(res, badRequest(text.trim() === '' ? 'empty body: expected a Backend Interfaces JSON message' : 'body is not valid JSON: expected a Backend Interfaces JSON message'));
      }
      answer(body, req).then(
        (r) => send(res, r),
        (err: Error) => {
          log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'BI listener error');
          send(res, { status: 500, payload: { message: 'internal error' } });
        },
      );
    });
  });
}

const NOT_JSON = Symbol('not JSON');
const badRequest = (message: string): HTTPReply => ({ status: 400, payload: { message } });

/** The body's length when the direct path takes the request (a POST outside the claim API, JSON or no content type, 1..BI_BODY_LIMIT bytes by Content-Length); else null. */
function directLength(req: IncomingMessage): number | null {
  if (req.method !== 'POST' || req.url === undefined || req.url.startsWith('/api/')) return null;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h['expect'] !== undefined) return null;
  const type = h['content-type'];
  if (type !== undefined && type !== 'application/json' && !type.startsWith('application/json;')) return null;
  const length = Number(h['content-length']);
  return Number.isInteger(length) && length > 0 && length <= BI_BODY_LIMIT ? length : null;
}

/** Writes a reply as fastify does: JSON with `application/json; charset=utf-8` unless a content type is given; no body: Content-Length 0. */
function send(res: ServerResponse, r: HTTPReply): void {
  if (r.payload === undefined) {
    res.writeHead(r.status, { ...r.headers, 'content-length': '0' });
    res.end();
    return;
  }
  const json = JSON.stringify(r.payload);
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers, 'content-length': String(Buffer.byteLength(json)) });
  res.end(json);
}

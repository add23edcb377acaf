import nock from 'nock';
import type { Fault, RecordedRequest } from './fake-network-server';

export { NO_LIMIT, fakePlumbing, type AdapterOverrides } from './fake-network-server';

/** A request to a faked vendor API, as its handler sees it. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | null;
  /** The Accept header ('' when absent). */
  readonly accept: string;
  /** The body parsed as JSON, or the form fields, or undefined. */
  readonly body: any;
  readonly text: string;
}

export interface FakeReply {
  readonly status: number;
  /** JSON, or a string sent as it is (give its content-type in headers). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface FakeHTTPAPIOptions {
  /** `https://host` the fake answers for (nock intercepts that origin only). */
  readonly origin: string;
  /** The vendor's answer to a request (its status codes and bodies). */
  readonly handle: (req: FakeRequest) => FakeReply;
  /** The vendor's error body for an injected fault (429, 503, 400). */
  readonly faultBody: (status: number, fault: Fault) => unknown;
  /** Requests that are OAuth2 token exchanges: recorded, never faulted. */
  readonly isTokenExchange?: (req: FakeRequest) => boolean;
}

export interface FakeHTTPAPI {
  requests(): readonly RecordedRequest[];
  failNext(count: number, fault: Fault, retryAfterSeconds?: number): void;
  stop(): void;
}

const FAULT_STATUS: Record<Exclude<Fault, 'hang'>, number> = { 'rate-limited': 429, unavailable: 503, 'bad-request': 400 };
/** Fakes started and not yet stopped in this jest worker. */
let runningFakes = 0;
// Loading nock turns it on; it stays off until a fake starts.
if (nock.isActive()) nock.restore();

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * What the three HTTP fakes (Actility, LORIOT, Orbiwise) share, over nock: every request to
 * `origin` recorded (operation, Authorization, query and body), injected faults answered
 * first (429 with Retry-After, 503, 400, or no answer at all), the rest handed to the vendor's
 * handler. Other hosts are untouched.
 */
export function startFakeHTTPAPI(o: FakeHTTPAPIOptions): FakeHTTPAPI {
  // nock patches node:http for the whole jest worker, which later test files share: it is on
  // only while a fake is running, so other files' real HTTP requests never meet it.
  if (!nock.isActive()) nock.activate();
  runningFakes++;
  let stopped = false;
  const recorded: RecordedRequest[] = [];
  const faults: Array<{ fault: Fault; retryAfter?: number }> = [];
  const scope = nock(o.origin).persist();
  const interceptors = METHODS.map((method) => {
    const interceptor = scope.intercept(() => true, method);
    interceptor.reply(function (uri, requestBody, callback) {
      const u = new URL(uri, o.origin);
      const text = typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody);
      const header = this.req.headers['authorization'];
      const contentType = String(this.req.headers['content-type'] ?? '');
      let body: any;
      if (contentType.includes('application/x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(text));
      else if (typeof requestBody === 'string' && requestBody !== '') {
        try {
          body = JSON.parse(requestBody);
        } catch {
          body = undefined;
        }
      } else if (typeof requestBody === 'object' && requestBody !== null) body = requestBody;
      const accept = this.req.headers['accept'];
      const req: FakeRequest = { method, path: u.pathname, query: u.searchParams, authorization: typeof header === 'string' ? header : null, accept: typeof accept === 'string' ? accept : '', body, text };
      const tokenExchange = o.isTokenExchange?.(req) ?? false;
      const f = tokenExchange ? undefined : faults.shift();
      recorded.push({ operation: `${method} ${u.pathname}`, authorization: req.authorization, body: `${u.search}\n${text}`, fault: f?.fault ?? null, ...(tokenExchange ? { tokenExchange } : {}) });
      if (f?.fault === 'hang') return; // never answered: the client's timeout must fire
      if (f) {
        const status = FAULT_STATUS[f.fault];
        return callback(null, [status, JSON.stringify(o.faultBody(status, f.fault)), { 'content-type': 'application/json', ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}) }]);
      }
      const r = o.handle(req);
      const raw = typeof r.body === 'string';
      callback(null, [r.status, r.body === undefined ? '' : raw ? r.body : JSON.stringify(r.body), { ...(r.body === undefined || raw ? {} : { 'content-type': 'application/json' }), ...(r.headers ?? {}) }]);
    });
    return interceptor;
  });
  return {
    requests: () => recorded,
    failNext(count, fault, retryAfterSeconds) {
      for (let i = 0; i < count; i++) faults.push({ fault, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      scope.persist(false);
      for (const i of interceptors) nock.removeInterceptor(i);
      if (--runningFakes === 0) nock.restore();
    },
  };
}

/** `Bearer <token>` → token, else null. */
export function bearer(authorization: string | null): string | null {
  const m = /^Bearer (\S+)$/.exec(authorization ?? '');
  return m ? m[1]! : null;
}

import type { FuzzCase } from './arbitraries';
import type { Exchange } from './http';

/**
 * What a Join Server may answer to a hostile request (README "Tolerant input, strict output",
 * TS002's rule that every protocol outcome is HTTP 200 with a Result): never a 5xx, never a dropped connection; a 4xx with a
 * JSON `{message}` for what is not a BI message (not POST, not JSON, not an object, over the
 * body limit); HTTP 200 with a spec `Result` for every JSON object (a bare acknowledgement for
 * an ErrorNotif), never `Success`, never a `null`, the TransactionID echoed.
 */

/** TS002 result codes (backend-interfaces.md), as the test knows them, not as the server does. */
export const SPEC_RESULT_CODES: ReadonlySet<string> = new Set([
  'Success',
  'MICFailed',
  'JoinReqFailed',
  'NoRoamingAgreement',
  'DevRoamingDisallowed',
  'RoamingActDisallowed',
  'ActivationDisallowed',
  'UnknownDevEUI',
  'UnknownDevAddr',
  'UnknownSender',
  'UnknownReceiver',
  'Deferred',
  'XmitFailed',
  'InvalidFPort',
  'InvalidProtocolVersion',
  'StaleDeviceProfile',
  'MalformedRequest',
  'MalformedMessage',
  'FrameSizeError',
  'Other',
]);

/** The BI listener's documented body limit (README: "bodies over 32 KiB get HTTP 400"). */
export const BODY_LIMIT = 32 * 1024;

export interface Expectation {
  /** A 4xx with a JSON {message} is right (not a BI message, or not an HTTP request fit to carry one). */
  readonly clientError: boolean;
  /** The JSON object the server must answer as a BI message (HTTP 200), when the body is one. */
  readonly message?: Record<string, unknown>;
}

/** A Content-Type that is a media type at all (`type/subtype`); fastify refuses others with a 4xx. */
function wellFormedMediaType(ct: string | undefined): boolean {
  return ct === undefined || /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*(;|$)/.test(ct.trim());
}

/** A path whose percent-encoding decodes (fastify answers others 400 FST_ERR_BAD_URL). */
function decodablePath(p: string): boolean {
  try {
    decodeURIComponent(p.split('?')[0]!);
    return true;
  } catch {
    return false;
  }
}

/** What the body is, as the server must see it (the same decoding: UTF-8, JSON.parse). */
export function classify(c: FuzzCase): Expectation {
  if (c.method !== 'POST') return { clientError: true };
  if (c.body.length > BODY_LIMIT) return { clientError: true };
  const text = c.body.toString('utf8');
  if (text.trim() === '') return { clientError: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { clientError: true };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { clientError: true };
  // A JSON object: answered as a BI message, unless the HTTP request around it is itself broken.
  return { clientError: !wellFormedMediaType(c.contentType) || !decodablePath(c.path), message: parsed as Record<string, unknown> };
}

function findNull(v: unknown, at: string): string | undefined {
  if (v === null) return at;
  if (typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const found = findNull(x, `${at}.${k}`);
    if (found) return found;
  }
  return undefined;
}

/** The request's TransactionID when it is one (a uint32, or its decimal string): it must come back. */
function validTransactionID(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** The request's ProtocolVersion when it is exactly one (its answer must carry the same). */
function exactProtocolVersion(v: unknown): string | undefined {
  return v === '1.0' || v === '1.1' ? v : undefined;
}

function isJSONType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\b/i.test(contentType);
}

/** Undefined when the answer is acceptable, else what is wrong with it. */
export function judge(c: FuzzCase, x: Exchange): string | undefined {
  if (!x.ok) return `dropped connection / transport error: ${x.error}`;
  if (x.status >= 500) return `HTTP ${x.status}`;
  const expectHeader = Object.entries(c.headers).find(([k]) => k.toLowerCase() === 'expect')?.[1];
  if (expectHeader !== undefined && expectHeader.trim().toLowerCase() !== '100-continue') {
    // An expectation HTTP cannot meet: node's HTTP server answers 417 before any route runs (RFC 9110, 10.1.1).
    return x.status === 417 ? undefined : `Expect: ${expectHeader} answered HTTP ${x.status}, not 417`;
  }
  const { clientError, message } = classify(c);

  if (x.status >= 400 && x.status <= 499) {
    if (!clientError) return `a JSON object got HTTP ${x.status}, not 200 with a Result`;
    if (!isJSONType(x.contentType)) return `4xx with content-type ${x.contentType ?? '(none)'}`;
    let body: unknown;
    try {
      body = JSON.parse(x.text);
    } catch {
      return '4xx whose body is not JSON';
    }
    if (typeof body !== 'object' || body === null || typeof (body as Record<string, unknown>)['message'] !== 'string') return '4xx without a JSON {message}';
    return undefined;
  }
  if (message === undefined) return `expected a 4xx, got HTTP ${x.status}`;

  // A JSON object: a BI message, however bad. Every protocol outcome is HTTP 200.
  const msg = message;
  if (x.status !== 200) return `a JSON object got HTTP ${x.status}, not 200 with a Result`;
  const messageType = typeof msg['MessageType'] === 'string' ? msg['MessageType'].trim() : undefined;
  if (x.text === '') return messageType === 'ErrorNotif' ? undefined : 'HTTP 200 with an empty body (only an ErrorNotif may be acknowledged so)';
  if (!isJSONType(x.contentType)) return `200 with content-type ${x.contentType ?? '(none)'}`;
  let answer: unknown;
  try {
    answer = JSON.parse(x.text);
  } catch {
    return '200 whose body is not JSON';
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return '200 whose body is not a JSON object';
  const a = answer as Record<string, unknown>;
  const nullAt = findNull(a, '$');
  if (nullAt) return `null in the answer at ${nullAt}`;
  const result = a['Result'];
  if (typeof result !== 'object' || result === null) return messageType === 'ErrorNotif' ? undefined : 'answer without a Result';
  const code = (result as Record<string, unknown>)['ResultCode'];
  if (typeof code !== 'string' || !SPEC_RESULT_CODES.has(code)) return `ResultCode ${JSON.stringify(code)} is not a spec result code`;
  if (code === 'Success') return 'Success for a hostile request';
  const description = (result as Record<string, unknown>)['Description'];
  if (description !== undefined && typeof description !== 'string') return 'Result.Description is not a string';

  const pv = a['ProtocolVersion'];
  if (pv !== '1.0' && pv !== '1.1') return `answer ProtocolVersion ${JSON.stringify(pv)}`;
  const asked = exactProtocolVersion(msg['ProtocolVersion']);
  if (asked !== undefined && pv !== asked) return `asked in BI ${asked}, answered in ${String(pv)}`;
  if ((code === 'MalformedRequest' && pv !== '1.0') || (code === 'MalformedMessage' && pv !== '1.1')) return `${code} in a BI ${String(pv)} answer`;
  const txid = validTransactionID(msg['TransactionID']);
  if (txid !== undefined && a['TransactionID'] !== txid) return `TransactionID ${txid} answered as ${JSON.stringify(a['TransactionID'])}`;
  if (typeof a['TransactionID'] !== 'number') return 'answer without a numeric TransactionID';
  if (typeof a['MessageType'] !== 'string') return 'answer without a MessageType';
  return undefined;
}

import { AdapterError, isRetryableHTTPStatus, parseRetryAfter, type AdapterOperation } from './adapter-error';

/** An HTTP answer as adapters' clients (axios) give it: any status, never thrown. */
export interface HTTPAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly data: unknown;
}

export interface HTTPAttemptContext {
  readonly vendor: string;
  readonly operation: AdapterOperation;
  /** Non-2xx statuses that are answers, not failures (404 on get, 409 on create...). */
  readonly accept?: readonly number[];
  /** The vendor's own error text in an error body (default: a string `message` field). */
  readonly messageOf?: (data: unknown) => string | undefined;
}

/**
 * One HTTP request to a network server's API, its outcome as adapters need it: a 2xx (or an
 * accepted status) is returned; any other status becomes an AdapterError (retryable for
 * 408/429/5xx, with the server's Retry-After); no answer at all (refused, reset, aborted)
 * becomes a retryable AdapterError with status null. The message is the vendor's error text
 * or `HTTP <status>`: never a header, so never a credential.
 */
export async function httpAttempt<A extends HTTPAnswer>(what: HTTPAttemptContext, send: () => Promise<A>): Promise<A> {
  let res: A;
  try {
    res = await send();
  } catch (err) {
    if (err instanceof AdapterError) throw err;
    const code = (err as { code?: unknown }).code;
    throw new AdapterError({ vendor: what.vendor, operation: what.operation, status: null, retryable: true, message: `no answer (${typeof code === 'string' ? code : 'network error'})`, cause: err });
  }
  if ((res.status >= 200 && res.status < 300) || what.accept?.includes(res.status)) return res;
  const retryAfter = res.headers['retry-after'];
  throw new AdapterError({
    vendor: what.vendor,
    operation: what.operation,
    status: res.status,
    retryable: isRetryableHTTPStatus(res.status),
    message: (what.messageOf ?? messageField)(res.data) ?? `HTTP ${res.status}`,
    retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null),
  });
}

function messageField(data: unknown): string | undefined {
  const m = (data as { message?: unknown } | null | undefined)?.message;
  return typeof m === 'string' && m !== '' ? m.slice(0, 500) : undefined;
}

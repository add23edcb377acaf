/** What an adapter was doing when a network server's API failed. */
export type AdapterOperation = 'registerDevice' | 'deregisterDevice' | 'getDevice' | 'listDevices' | 'ensureDeviceProfile' | 'localJoin' | 'removeLocalJoin' | 'watch' | 'config';

/**
 * A network server's management API failed. `status` is the HTTP status (REST APIs) or the
 * gRPC status code name (`UNAVAILABLE`, `NOT_FOUND`, ...); null when no answer came (timeout,
 * connection refused). `retryable` says whether the same call may succeed later (429, 5xx,
 * gRPC UNAVAILABLE / RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED, timeouts, refused connections).
 * The message never contains a key: adapters build it from status and the vendor's error text.
 */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  readonly vendor: string;
  readonly operation: AdapterOperation;
  readonly status: number | string | null;
  readonly retryable: boolean;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | null;

  constructor(fields: { vendor: string; operation: AdapterOperation; status: number | string | null; retryable: boolean; message: string; retryAfterMs?: number | null; cause?: unknown }) {
    super(`${fields.vendor} ${fields.operation}: ${fields.status === null ? '' : `${fields.status}: `}${fields.message}`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.vendor = fields.vendor;
    this.operation = fields.operation;
    this.status = fields.status;
    this.retryable = fields.retryable;
    this.retryAfterMs = fields.retryAfterMs ?? null;
  }
}

/** HTTP statuses worth retrying: 408, 429 and every 5xx. */
export function isRetryableHTTPStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A `Retry-After` header value (seconds, or an HTTP date) in milliseconds; null when absent or
 * unreadable. Capped at `maxMs` so a hostile server cannot park a call forever.
 */
export function parseRetryAfter(value: string | null | undefined, maxMs = 60_000, now = Date.now()): number | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  const s = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(s)) ms = Number(s) * 1000;
  else {
    const at = Date.parse(s);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), maxMs);
}

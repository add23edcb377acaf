import axios, { type AxiosInstance, type Method } from 'axios';
import { AdapterError, isRetryableHTTPStatus, parseRetryAfter, type AdapterOperation } from '@joinery/core';

export interface TTSResponse {
  readonly status: number;
  readonly data: unknown;
  readonly headers: Record<string, unknown>;
}

/** An axios instance for TTS's HTTP API: Bearer API key on every call, no status throws. */
export function ttsHTTP(baseURL: string, apiKey: string): AxiosInstance {
  return axios.create({
    baseURL,
    headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' },
    validateStatus: () => true,
    maxRedirects: 0,
    // The API key must never follow a redirect to another host, nor be echoed: no proxies either.
    proxy: false,
  });
}

/**
 * One HTTP call; any status outside `ok` (and not in `accept`) becomes an AdapterError carrying
 * TTS's own error message (`{code, message, details}`), Retry-After on 429/503.
 */
export async function ttsCall(
  http: AxiosInstance,
  req: { method: Method; url: string; data?: unknown; params?: Record<string, string | number> },
  what: { operation: AdapterOperation; signal: AbortSignal; timeoutMs: number; accept?: readonly number[] },
): Promise<TTSResponse> {
  let res;
  try {
    res = await http.request({ ...req, signal: what.signal, timeout: what.timeoutMs });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'network error';
    throw new AdapterError({ vendor: 'the-things-stack', operation: what.operation, status: null, retryable: true, message: `no answer (${code})`, cause: err });
  }
  if ((res.status >= 200 && res.status < 300) || what.accept?.includes(res.status)) {
    return { status: res.status, data: res.data, headers: res.headers as Record<string, unknown> };
  }
  const body = res.data as { message?: unknown } | undefined;
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${res.status}`;
  const retryAfter = res.headers['retry-after'];
  throw new AdapterError({
    vendor: 'the-things-stack',
    operation: what.operation,
    status: res.status,
    retryable: isRetryableHTTPStatus(res.status),
    message,
    retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null),
  });
}

import axios, { type AxiosInstance, type Method } from 'axios';
import { httpAttempt, type AdapterOperation, type HTTPAnswer } from '@joinery/core';

export type TTSResponse = HTTPAnswer;

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
 * One HTTP call; any status outside 2xx (and not in `accept`) becomes an AdapterError carrying
 * TTS's own error message (`{code, message, details}`), Retry-After on 429/503.
 */
export function ttsCall(
  http: AxiosInstance,
  req: { method: Method; url: string; data?: unknown; params?: Record<string, string | number> },
  what: { operation: AdapterOperation; signal: AbortSignal; timeoutMs: number; accept?: readonly number[] },
): Promise<TTSResponse> {
  return httpAttempt({ vendor: 'the-things-stack', operation: what.operation, ...(what.accept ? { accept: what.accept } : {}) }, () =>
    http.request({ ...req, signal: what.signal, timeout: what.timeoutMs }),
  );
}

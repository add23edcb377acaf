import axios, { type AxiosInstance } from 'axios';

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

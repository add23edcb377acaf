import * as https from 'node:https';

export interface BIClientCredentials {
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export interface BIResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A BI URL that is not one: not https://, or no TLS server behind it. */
export class NotABIURLError extends Error {
  override readonly name = 'NotABIURLError';
}

/**
 * POSTs one Backend Interfaces message over HTTPS with a client certificate, as a network
 * server does, and reads the answer. A URL that is not HTTPS, or a plain-HTTP server behind an
 * https:// URL (the admin listener's port, say), is named as such rather than as OpenSSL's
 * record-layer error.
 */
export function postBIMessage(url: string, message: unknown, credentials: BIClientCredentials, timeoutMs = 10_000): Promise<BIResponse> {
  const payload = Buffer.from(JSON.stringify(message));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new NotABIURLError(`${url}: not a URL`));
  }
  if (parsed.protocol !== 'https:') {
    return Promise.reject(new NotABIURLError(`${url}: the Backend Interfaces listener is HTTPS (mutual TLS): expected an https:// URL, got ${parsed.protocol}//`));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: credentials.caPem,
        cert: credentials.clientCertPem,
        key: credentials.clientKeyPem,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const notTLS = err.code === 'EPROTO' || /wrong version number|packet length too long|unknown protocol/.test(err.message);
      reject(notTLS ? new NotABIURLError(`${url}: no TLS server answered there (plain HTTP, such as the admin listener, or another service?): the Backend Interfaces listener is HTTPS`) : err);
    });
    req.end(payload);
  });
}

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

/**
 * POSTs one Backend Interfaces message over HTTPS with a client certificate, as a network
 * server does, and reads the answer.
 */
export function postBIMessage(url: string, message: unknown, credentials: BIClientCredentials, timeoutMs = 10_000): Promise<BIResponse> {
  const payload = Buffer.from(JSON.stringify(message));
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
    req.on('error', reject);
    req.end(payload);
  });
}

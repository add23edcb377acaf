import { createDecipheriv } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';

/** A network server (or application server) as Joinery's peer: its credential bundle and an HTTPS client. */
export interface PeerBundle {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly kekLabel: string;
  readonly kek: Buffer;
  readonly peer: Record<string, string>;
}

export async function readBundle(dir: string): Promise<PeerBundle> {
  const read = (f: string): Promise<string> => fs.readFile(path.join(dir, f), 'utf8');
  const kek = JSON.parse(await read('kek.json')) as { label: string; kek: string };
  return {
    dir,
    ca: await read('ca.crt'),
    cert: await read('client.crt'),
    key: await read('client.key'),
    kekLabel: kek.label,
    kek: Buffer.from(kek.kek, 'hex'),
    peer: JSON.parse(await read('peer.json')) as Record<string, string>,
  };
}

export interface HTTPAnswer {
  readonly status: number;
  readonly body: any;
  readonly text: string;
}

/** POSTs a raw body with the bundle's client certificate (or none, or another one). */
export function post(url: string, body: string | Buffer, tls: { ca: string; cert?: string; key?: string }, agent?: https.Agent): Promise<HTTPAnswer> {
  return send('POST', url, body, tls, agent);
}

/** Any method, a raw body (or none), with a client certificate (or none). */
export function send(method: string, url: string, body: string | Buffer | undefined, tls: { ca: string; cert?: string; key?: string }, agent?: https.Agent): Promise<HTTPAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: tls.ca, cert: tls.cert, key: tls.key, headers: body === undefined ? {} : { 'content-type': 'application/json' }, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function postJSON(url: string, message: unknown, bundle: PeerBundle, agent?: https.Agent): Promise<HTTPAnswer> {
  return post(url, JSON.stringify(message), { ca: bundle.ca, cert: bundle.cert, key: bundle.key }, agent);
}

/** RFC 3394 unwrap with node's OpenSSL (independent of Joinery's own key-wrap code). */
export function unwrap(kek: Buffer, wrappedHex: string): string {
  const d = createDecipheriv('id-aes128-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  return Buffer.concat([d.update(Buffer.from(wrappedHex, 'hex')), d.final()]).toString('hex');
}

/** The clear key of a BI KeyEnvelope, unwrapping with the given KEK when it carries a label. */
export function openEnvelope(envelope: { KEKLabel: string; AESKey: string } | undefined, kek: { label: string; key: Buffer }): string {
  if (!envelope) throw new Error('no key envelope');
  if (envelope.KEKLabel === '') return envelope.AESKey.toLowerCase();
  if (envelope.KEKLabel !== kek.label) throw new Error(`envelope wrapped under ${envelope.KEKLabel}, not ${kek.label}`);
  return unwrap(kek.key, envelope.AESKey);
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { send, type PeerBundle } from './network-server';

export interface APIAnswer {
  readonly status: number;
  readonly body: any;
  readonly text: string;
}

/** A request to the admin API (plain HTTP) with an API key. */
export async function api(adminURL: string, key: string | null, method: string, route: string, body?: unknown): Promise<APIAnswer & { readonly headers: Readonly<Record<string, string>> }> {
  const res = await fetch(new URL(`api/v1${route}`, adminURL), {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: Object.fromEntries(res.headers) };
}

/** Writes a credential bundle the admin API returned ({file: content}) into a directory. */
export async function writeBundle(dir: string, bundle: Record<string, string>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(bundle)) await fs.writeFile(path.join(dir, name), content, { mode: 0o600 });
}

/** Any method, with a peer's client certificate (the TTJS claim API on the BI listener). */
export function peerRequest(url: string, method: string, bundle: PeerBundle, body?: unknown): Promise<APIAnswer> {
  return send(method, url, body === undefined ? undefined : JSON.stringify(body), { ca: bundle.ca, cert: bundle.cert, key: bundle.key });
}

/** The API key a `joinery tenants add` / `api-keys create` printed. */
export function printedKey(stdout: string): string {
  const m = /(jny_[0-9a-f]{16}_[A-Za-z0-9_-]{43})/.exec(stdout);
  if (!m) throw new Error(`no API key in:\n${stdout}`);
  return m[1]!;
}

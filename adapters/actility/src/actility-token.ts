import { AdapterError, httpAttempt, type AdapterOperation } from '@joinery/core';
import type { AxiosInstance } from 'axios';

interface Token {
  readonly accessToken: string;
  /** Date.now() after which the token is refreshed before use (Infinity: only on a 401). */
  readonly refreshAt: number;
}

/** Refresh when a tenth of the token's life, at most a minute, is left. */
export function refreshMarginMs(expiresInMs: number): number {
  return Math.min(60_000, expiresInMs / 10);
}

/**
 * ThingPark's OAuth2 client-credentials token (`POST <tokenURL>`, form `grant_type`,
 * `client_id`, `client_secret`), cached and shared: one request at a time fetches it, every
 * caller waiting on the same promise; refreshed before it expires and, once per call, when the
 * API answers 401 with it (`invalidate`). The client secret goes only into that form body.
 */
export class ActilityTokenSource {
  private token: Token | null = null;
  private fetching: Promise<Token> | null = null;

  constructor(
    private readonly http: AxiosInstance,
    private readonly tokenURL: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  /** A valid access token (cached, or fetched now). */
  async get(operation: AdapterOperation, signal: AbortSignal): Promise<string> {
    const t = this.token;
    if (t && Date.now() < t.refreshAt) return t.accessToken;
    this.fetching ??= this.fetch(operation, signal).finally(() => (this.fetching = null));
    return (await this.fetching).accessToken;
  }

  /** The API refused `accessToken`: forget it (unless a newer one is already cached). */
  invalidate(accessToken: string): void {
    if (this.token?.accessToken === accessToken) this.token = null;
  }

  private async fetch(operation: AdapterOperation, signal: AbortSignal): Promise<Token> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret });
    const res = await httpAttempt({ vendor: 'actility', operation, messageOf: oauthError }, () =>
      this.http.request({ method: 'POST', url: this.tokenURL, data: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, signal }),
    );
    const body = res.data as { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token === '' || (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer')) {
      throw new AdapterError({ vendor: 'actility', operation, status: res.status, retryable: false, message: 'the token endpoint answered without a bearer access_token' });
    }
    const expiresInMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : null;
    const token = { accessToken: body.access_token, refreshAt: expiresInMs === null ? Infinity : Date.now() + expiresInMs - refreshMarginMs(expiresInMs) };
    this.token = token;
    return token;
  }
}

/** RFC 6749 §5.2 error body: `{error, error_description}`. */
function oauthError(data: unknown): string | undefined {
  const d = data as { error?: unknown; error_description?: unknown } | null | undefined;
  if (typeof d?.error !== 'string') return undefined;
  return `OAuth2 ${d.error}${typeof d.error_description === 'string' ? `: ${d.error_description.slice(0, 300)}` : ''}`;
}

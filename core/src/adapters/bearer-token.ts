import { AdapterError, type AdapterOperation } from './adapter-error';
import { httpAttempt, type HTTPAnswer, type HTTPAttemptContext } from './http-attempt';

/** Refresh when a tenth of the token's life, at most a minute, is left. */
export function refreshMarginMs(expiresInMs: number): number {
  return Math.min(60_000, expiresInMs / 10);
}

/**
 * Where an adapter's `Authorization` header comes from: a fixed value (an API key, HTTP Basic)
 * or an OAuth2 token endpoint. `refused` is told the header the API answered 401 to, and says
 * whether asking again may bring a better one (a token can be refreshed; a fixed key cannot).
 */
export interface Credentials {
  authorization(operation: AdapterOperation, signal: AbortSignal): Promise<string>;
  refused(authorization: string): boolean;
}

/** A header that never changes (`Bearer <api key>`, `Basic ...`). */
export function fixedCredentials(authorization: string): Credentials {
  return { authorization: async () => authorization, refused: () => false };
}

/** The form of one OAuth2 token request: the first grant, or a refresh with the refresh token the last answer gave. */
export type OAuth2Grant = (refreshToken: string | null) => Record<string, string>;

/** POSTs a form to the token endpoint; its answer as any status (never thrown). */
export type TokenPost = (form: string, signal: AbortSignal) => Promise<HTTPAnswer>;

interface Token {
  readonly authorization: string;
  /** Date.now() after which the token is refreshed before use (Infinity: only on a 401). */
  readonly refreshAt: number;
  readonly refreshToken: string | null;
}

/**
 * An OAuth2 bearer token (RFC 6749), cached and shared: one request at a time fetches it, every
 * caller waiting on the same promise; refreshed before it expires (with the refresh token when
 * the endpoint gave one, else with the first grant again) and, once per call, when the API
 * answers 401 with it. The grant's secrets go only into the token request's form body.
 */
export class OAuth2Credentials implements Credentials {
  private token: Token | null = null;
  private fetching: Promise<Token> | null = null;

  constructor(
    private readonly vendor: string,
    private readonly post: TokenPost,
    private readonly grant: OAuth2Grant,
  ) {}

  async authorization(operation: AdapterOperation, signal: AbortSignal): Promise<string> {
    const t = this.token;
    if (t && Date.now() < t.refreshAt) return t.authorization;
    this.fetching ??= this.fetch(operation, signal, t?.refreshToken ?? null).finally(() => (this.fetching = null));
    return (await this.fetching).authorization;
  }

  /** The API refused it: forget it (unless a newer one is already cached); a new one may do. */
  refused(authorization: string): boolean {
    if (this.token?.authorization === authorization) this.token = { ...this.token, refreshAt: -Infinity };
    return true;
  }

  private async fetch(operation: AdapterOperation, signal: AbortSignal, refreshToken: string | null): Promise<Token> {
    if (refreshToken !== null) {
      // A refresh token the endpoint no longer honours is not an error: the first grant follows.
      const refreshed = await this.request(operation, signal, refreshToken).catch((err: unknown) => {
        if (err instanceof AdapterError && !err.retryable) return null;
        throw err;
      });
      if (refreshed) return refreshed;
    }
    return (await this.request(operation, signal, null))!;
  }

  private async request(operation: AdapterOperation, signal: AbortSignal, refreshToken: string | null): Promise<Token> {
    const form = new URLSearchParams(this.grant(refreshToken)).toString();
    const res = await httpAttempt({ vendor: this.vendor, operation, messageOf: oauthError }, () => this.post(form, signal));
    const body = (res.data ?? {}) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown; refresh_token?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token === '' || (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer')) {
      throw new AdapterError({ vendor: this.vendor, operation, status: res.status, retryable: false, message: 'the token endpoint answered without a bearer access_token' });
    }
    const expiresInMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : null;
    const token: Token = {
      authorization: `Bearer ${body.access_token}`,
      refreshAt: expiresInMs === null ? Infinity : Date.now() + expiresInMs - refreshMarginMs(expiresInMs),
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : null,
    };
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

/**
 * One API request with the credentials' header; on a 401, when the credentials say a new header
 * may help, one more with a fresh one. A second 401 (or the first, for fixed credentials) is
 * the AdapterError httpAttempt makes of it: not retryable.
 */
export async function authorizedAttempt(what: HTTPAttemptContext, credentials: Credentials, signal: AbortSignal, send: (authorization: string) => Promise<HTTPAnswer>): Promise<HTTPAnswer> {
  const refusedIs401 = !what.accept?.includes(401);
  const once = async (): Promise<{ header: string; res: HTTPAnswer }> => {
    const header = await credentials.authorization(what.operation, signal);
    return { header, res: await httpAttempt({ ...what, accept: [...(what.accept ?? []), 401] }, () => send(header)) };
  };
  let { header, res } = await once();
  if (res.status === 401 && refusedIs401 && credentials.refused(header)) ({ res } = await once());
  if (res.status === 401 && refusedIs401) return httpAttempt(what, async () => res);
  return res;
}

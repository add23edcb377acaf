import { consoleWording } from './console-wording';

/** An error answer of the admin API: `{code, message}` with the HTTP status, its message in the console's words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The admin API under `/api/v1` on the origin that served the page. The API key goes in the
 * Authorization header of each request, never in the URL; an error never carries it.
 */
export class ApiClient {
  constructor(private readonly apiKey: string) {}

  get<T>(path: string, query?: Query): Promise<T> {
    return this.send<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.send<T>('DELETE', path);
  }

  /** A non-JSON answer (a CSV, a file) as a Blob. */
  async download(path: string, query?: Query): Promise<Blob> {
    const res = await this.fetch('GET', withQuery(path, query));
    return res.blob();
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`/api/v1${path}`, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'network', 'Joinery did not answer: is the server running?');
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') return new ApiError(res.status, typeof body.code === 'string' ? body.code : String(res.status), consoleWording(body.message));
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(res.status, String(res.status), `${res.status} ${res.statusText}`.trim());
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

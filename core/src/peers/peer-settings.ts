/**
 * How a peer wants to be talked to, beyond its identity and KEK. Kept as one JSON document per
 * peer in the store; parsed here, at the edge, into this type.
 */
export interface PeerSettings {
  /**
   * Asynchronous mode (TS002): requests are acknowledged with HTTP 200 at once and the answer
   * is POSTed to the peer's own BI listener at `url` (ChirpStack: its `[backend_interfaces]`
   * listener), over mutual TLS with Joinery's client certificate. `caPem` verifies the peer's
   * server certificate (absent: the system's CAs).
   */
  readonly asyncAnswers: { readonly url: string; readonly caPem: string | null } | null;
  /**
   * SHA-256 (hex) of the `Authorization` header value the peer sends (ChirpStack
   * `authorization_header`, The Things Stack `headers` / `basic-auth`): with it, the peer may
   * call its own endpoint `/bi/<name>` without a client certificate. Null: certificate only.
   */
  readonly authorizationSHA256: string | null;
  /**
   * Network servers only: how Joinery reaches the network server's management API through its
   * vendor adapter (`ns sync`). Never the API key: that is a secret kept apart (see the CLI's
   * adapter-api-key file). Null: no adapter configured.
   */
  readonly adapter?: PeerAdapterSettings | null;
}

export interface PeerAdapterSettings {
  /** The management API's base URL (ChirpStack gRPC `http(s)://host:port`, TTS `https://host`). */
  readonly apiUrl: string;
  /** The vendor's own options (application id, tenant, ...), as the adapter reads them. */
  readonly options: Readonly<Record<string, string>>;
}

export const DEFAULT_PEER_SETTINGS: PeerSettings = { asyncAnswers: null, authorizationSHA256: null };

/** Reads stored settings; anything unreadable falls back to the defaults, field by field. */
export function parsePeerSettings(json: string | null | undefined): PeerSettings {
  let raw: unknown;
  try {
    raw = json ? JSON.parse(json) : {};
  } catch {
    return DEFAULT_PEER_SETTINGS;
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const a = o['asyncAnswers'] as Record<string, unknown> | null | undefined;
  const asyncAnswers = a && typeof a === 'object' && typeof a['url'] === 'string' ? { url: a['url'], caPem: typeof a['caPem'] === 'string' ? a['caPem'] : null } : null;
  const h = o['authorizationSHA256'];
  const adapter = parseAdapterSettings(o['adapter']);
  return { asyncAnswers, authorizationSHA256: typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? h : null, ...(adapter ? { adapter } : {}) };
}

function parseAdapterSettings(raw: unknown): PeerAdapterSettings | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r['apiUrl'] !== 'string') return null;
  const options: Record<string, string> = {};
  if (typeof r['options'] === 'object' && r['options'] !== null) {
    for (const [k, v] of Object.entries(r['options'] as Record<string, unknown>)) if (typeof v === 'string') options[k] = v;
  }
  return { apiUrl: r['apiUrl'], options };
}

export function serializePeerSettings(settings: PeerSettings): string {
  const { adapter, ...rest } = settings;
  return JSON.stringify(adapter ? { ...rest, adapter } : rest);
}

import type { Command } from 'commander';
import { Option } from 'commander';
import { ClaimRateLimiter } from '../claims/claim-rate-limiter';
import { ClaimService } from '../claims/claim-service';
import { DeviceService } from '../devices/device-service';
import { createLogger } from '../log/logger';
import { JoineryMetrics } from '../metrics/metrics';
import { PeerService } from '../peers/peer-service';
import { createAdminServer } from '../server/admin-server';
import { openBackends, type Backends } from '../server/open-backends';
import { serverHosts } from '../server/server-hosts';
import { VERSION } from '../server/version';
import { parseTenantID } from '../tenants/tenant';
import { TenantService } from '../tenants/tenant-service';
import { ADMIN_API_PREFIX } from '../admin/admin-api';
import { backendSettings, configuredPublicURL, SERVER_ADDRESS_SETTINGS, withBackendOptions, type BackendFlags, type ServerAddressFlags } from './backend-options';
import { cliAuditContext } from './cli-actor';
import { note } from './output';

/** An answer of the admin API. */
export interface AdminResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/**
 * The admin API, as the CLI talks to it: over HTTP to a remote instance (`--url`, `--api-key`),
 * or in this process on the local data directory (the same routes, run without a listener),
 * where the CLI acts as the operator (or, with `--tenant`, as that tenant, with every scope).
 */
export interface AdminClient {
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminResponse>;
  close(): Promise<void>;
}

/** The admin API refused the request: its {code, message}. */
export class AdminRequestError extends Error {
  override readonly name = 'AdminRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${message} (${code}, HTTP ${status})`);
  }
}

export interface RemoteFlags extends BackendFlags, Partial<ServerAddressFlags> {
  readonly url?: string;
  readonly apiKey?: string;
  readonly asTenant?: string;
}

/** The flags of a command that works locally or against a remote instance. */
export function withAdminClientOptions(cmd: Command): Command {
  return withBackendOptions(cmd, SERVER_ADDRESS_SETTINGS)
    .addOption(new Option('--url <url>', 'a remote Joinery admin listener (http://host:8090) instead of the local data directory').env('JOINERY_URL'))
    .addOption(new Option('--api-key <key>', 'API key for --url').env('JOINERY_API_KEY'))
    .addOption(new Option('--as-tenant <id>', 'local data directory only: act as this tenant, with every scope (default: the operator)'));
}

/** `existing`: a read-only command's, refused where there is no Joinery data (nothing created). */
export async function openAdminClient(flags: RemoteFlags, options: { readonly existing?: boolean } = {}): Promise<AdminClient> {
  if (flags.url !== undefined) {
    if (flags.asTenant !== undefined) throw new Error('--as-tenant is for the local data directory; with --url the API key says who you are');
    if (!flags.apiKey) throw new Error('--url needs --api-key (or JOINERY_API_KEY)');
    return remoteClient(flags.url, flags.apiKey);
  }
  // The BI URL a bundle made here names: JOINERY_PUBLIC_URL, else the configured server's.
  const publicURL =
    process.env['JOINERY_PUBLIC_URL'] ?? (flags.biListen !== undefined ? configuredPublicURL({ biListen: flags.biListen, ...(flags.publicHost ? { publicHost: flags.publicHost } : {}) }) : 'https://localhost:8003');
  return localClient(await openBackends(backendSettings(flags), process.env, { existing: options.existing === true }), flags.asTenant, publicURL);
}

function remoteClient(url: string, apiKey: string): AdminClient {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new Error(`--url: not a URL: ${url}`);
  }
  return {
    async request(method, path, body) {
      const res = await fetch(new URL(`${ADMIN_API_PREFIX}${path}`, base), {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, text, body: parseJSON(text) };
    },
    async close() {},
  };
}

async function localClient(backends: Backends, tenantFlag: string | undefined, publicURL: string): Promise<AdminClient> {
  for (const c of backends.created) note(`joinery: created ${c}`);
  const { store, vault } = backends;
  const tenants = new TenantService(store);
  const context = cliAuditContext();
  let principal = await tenants.operator(context);
  if (tenantFlag !== undefined) {
    const tenant = await store.getTenant(parseTenantID(tenantFlag, '--as-tenant'));
    if (!tenant) throw new Error(`--as-tenant: no tenant ${tenantFlag}`);
    principal = { ...principal, tenant, tenantID: tenant.id };
  }
  const acting = principal;
  const ca = async () => {
    const { loadOrCreatePKI } = await import('../pki/pki-files.js');
    return (await loadOrCreatePKI(backends.settings.dataDir, serverHosts([]))).ca;
  };
  const app = await createAdminServer(backends, new JoineryMetrics(), VERSION, {
    context: {
      store,
      tenants,
      devices: new DeviceService(store, vault),
      claims: new ClaimService(store, vault, new ClaimRateLimiter(store)),
      peers: new PeerService(store, vault, ca, () => publicURL, backends.settings.dataDir),
      authenticate: async () => acting,
    },
    log: createLogger({ level: 'error', destination: process.stderr }),
  });
  return {
    async request(method, path, body) {
      const res = await app.inject({ method, url: `${ADMIN_API_PREFIX}${path}`, ...(body !== undefined ? { payload: body as object } : {}) });
      return { status: res.statusCode, text: res.body, body: parseJSON(res.body) };
    },
    async close() {
      await app.close();
      await backends.close();
    },
  };
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The answer's body when it is a success; else the API's {code, message} as an error. */
export async function call<T>(client: AdminClient, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await client.request(method, path, body);
  if (res.status >= 200 && res.status < 300) return res.body as T;
  const err = (res.body ?? {}) as { code?: string; message?: string };
  throw new AdminRequestError(res.status, err.code ?? 'error', err.message ?? (res.text || `HTTP ${res.status}`));
}

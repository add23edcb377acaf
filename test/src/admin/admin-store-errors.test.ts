import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { ClaimRateLimiter } from '../../../core/src/claims/claim-rate-limiter';
import { ClaimService } from '../../../core/src/claims/claim-service';
import { DeviceService } from '../../../core/src/devices/device-service';
import { MasterKey } from '../../../core/src/keys/master-key';
import { SoftwareKeyVault } from '../../../core/src/keys/software-vault';
import { createLogger } from '../../../core/src/log/logger';
import { JoineryMetrics } from '../../../core/src/metrics/metrics';
import { PeerService } from '../../../core/src/peers/peer-service';
import { loadOrCreatePKI } from '../../../core/src/pki/pki-files';
import { createAdminServer } from '../../../core/src/server/admin-server';
import { parseBackendSettings } from '../../../core/src/server/backend-settings';
import { PostgresStore } from '../../../core/src/store/postgres/postgres-store';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import type { Store } from '../../../core/src/store/store';
import { TenantService } from '../../../core/src/tenants/tenant-service';
import { api } from '../support/admin-api';
import { makeTempDir } from '../support/joinery-cli';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * The admin API when the store is busy or away (503 with Retry-After, never a 500), and with a
 * NUL character in a field (400, on both stores: PostgreSQL cannot store one in text).
 */

interface AdminUnderTest {
  readonly base: string;
  readonly key: string;
  close(): Promise<void>;
}

async function startAdmin(dir: string, store: Store): Promise<AdminUnderTest> {
  const settings = parseBackendSettings({ dataDir: path.join(dir, 'data') });
  const vault = new SoftwareKeyVault(MasterKey.generate());
  const tenants = new TenantService(store);
  const pki = loadOrCreatePKI(settings.dataDir, ['localhost']);
  const app: FastifyInstance = await createAdminServer({ settings, store, vault, created: [], close: async () => {} }, new JoineryMetrics(), 'test', {
    context: {
      store,
      tenants,
      devices: new DeviceService(store, vault),
      claims: new ClaimService(store, vault, new ClaimRateLimiter(store)),
      peers: new PeerService(
        store,
        vault,
        async () => (await pki).ca,
        () => 'https://localhost:8003',
        settings.dataDir,
      ),
      authenticate: (req) => tenants.authenticate(req.headers.authorization, req.ip),
    },
    log: createLogger({ level: 'silent', destination: process.stderr }),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const operator = await tenants.operator({ actor: 'test', source: null });
  const key = (await tenants.createApiKey(operator, operator.tenantID, ['admin', 'devices:read', 'devices:write', 'claims', 'peers'], 'test')).key;
  return {
    base: `${address}/`,
    key,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

let work: string;
let db: TestDatabase;
let proxy: TcpProxy;
let sqlite: AdminUnderTest;
let postgres: AdminUnderTest;
let sqliteFile: string;

beforeAll(async () => {
  work = await makeTempDir('admin-store-errors');
  sqliteFile = path.join(work, 'sqlite', 'data', 'joinery.db');
  sqlite = await startAdmin(path.join(work, 'sqlite'), SqliteStore.open(sqliteFile, { busyTimeoutMs: 100 }));
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(db.url);
  url.host = `127.0.0.1:${proxy.port}`;
  postgres = await startAdmin(path.join(work, 'postgres'), await PostgresStore.open(url.href, { connectTimeoutMs: 1000 }));
}, 60_000);

afterAll(async () => {
  await sqlite?.close();
  await postgres?.close();
  await proxy?.close();
  await db?.drop();
  await fs.rm(work, { recursive: true, force: true, maxRetries: 3 });
});

test("admin/store busy: a write while another connection holds SQLite's write lock is 503 with Retry-After, then succeeds", async () => {
  const other = new Database(sqliteFile);
  try {
    other.exec('BEGIN IMMEDIATE');
    const busy = await api(sqlite.base, sqlite.key, 'POST', '/tenants', { id: 'busy-one', roles: ['owner'] });
    expect({ status: busy.status, code: busy.body?.code, retryAfter: busy.headers['retry-after'] }).toEqual({ status: 503, code: 'store-unavailable', retryAfter: '1' });
    other.exec('COMMIT');
  } finally {
    other.close();
  }
  expect((await api(sqlite.base, sqlite.key, 'POST', '/tenants', { id: 'busy-one', roles: ['owner'] })).status).toBe(201);
});

test('admin/store away: PostgreSQL unreachable is 503 with Retry-After, then answers again', async () => {
  proxy.cut();
  try {
    const away = await api(postgres.base, postgres.key, 'GET', '/tenants');
    expect({ status: away.status, code: away.body?.code, retryAfter: away.headers['retry-after'] }).toEqual({ status: 503, code: 'store-unavailable', retryAfter: '1' });
    expect(away.text).not.toContain('postgres://');
  } finally {
    proxy.restore();
  }
  let back = await api(postgres.base, postgres.key, 'GET', '/tenants');
  for (let i = 0; i < 50 && back.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    back = await api(postgres.base, postgres.key, 'GET', '/tenants');
  }
  expect(back.status).toBe(200);
});

describe.each(['sqlite', 'postgres'] as const)('admin/NUL character (%s)', (kind) => {
  const admin = (): AdminUnderTest => (kind === 'sqlite' ? sqlite : postgres);

  test('in a body field, a nested value or a path parameter: 400, nothing written', async () => {
    const inName = await api(admin().base, admin().key, 'POST', '/tenants', { id: 'nul-tenant', name: 'a\u0000b', roles: ['owner'] });
    expect({ status: inName.status, code: inName.body?.code }).toEqual({ status: 400, code: 'bad-request' });
    expect(inName.body.message).toContain('body.name');
    const inArray = await api(admin().base, admin().key, 'POST', '/tenants', { id: 'nul-tenant', roles: ['owner\u0000'] });
    expect(inArray.status).toBe(400);
    const inPath = await api(admin().base, admin().key, 'GET', '/tenants/nul%00tenant');
    expect(inPath.status).toBe(400);
    const inQuery = await api(admin().base, admin().key, 'GET', '/devices?search=%00');
    expect(inQuery.status).toBe(400);
    expect((await api(admin().base, admin().key, 'GET', '/tenants/nul-tenant')).status).toBe(404);
  });
});

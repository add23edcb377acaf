import * as http from 'node:http';
import * as path from 'node:path';
import { Client } from 'pg';
import { makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/postgres';

/** /readyz on a PostgreSQL store: unready (503) while the database refuses connections, ready again after. */

let db: TestDatabase;
let server: ServerProcess;

function get(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      })
      .on('error', reject);
  });
}

async function maintenance(sql: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(path.join(await makeTempDir('readyz'), 'data'), ['--store', db.url]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

test('ops/health/readyz: 503 while the store is unreachable, 200 again when it is back; healthz stays 200', async () => {
  expect(await get(`${server.adminURL}readyz`)).toEqual({ status: 200, body: { status: 'ready' } });

  // The database goes away: no new connections, and the pool's are killed.
  await maintenance(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
  await maintenance(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
  const started = Date.now();
  const down = await get(`${server.adminURL}readyz`);
  expect(down.status).toBe(503);
  expect(down.body.status).toBe('not ready');
  expect(typeof down.body.message).toBe('string');
  expect(Date.now() - started).toBeLessThan(5000);
  expect((await get(`${server.adminURL}healthz`)).status).toBe(200);

  await maintenance(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
  let up = await get(`${server.adminURL}readyz`);
  for (let i = 0; i < 20 && up.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = await get(`${server.adminURL}readyz`);
  }
  expect(up).toEqual({ status: 200, body: { status: 'ready' } });
});

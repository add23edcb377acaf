import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { parseEUI64, type EUI64 } from '../../../core/src/lorawan/identifiers';
import { devNonce, joinNonce, type JoinNonce } from '../../../core/src/lorawan/nonces';
import type { JoinCommit, NewDevice } from '../../../core/src/store/device';
import { migratePostgres, PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS, SchemaTooNewError } from '../../../core/src/store/postgres/schema-migrations';
import { COMMIT_JOINS, READ_DEVICES } from '../../../core/src/store/postgres/postgres-join-state';
import { PostgresStore, PostgresStoreError } from '../../../core/src/store/postgres/postgres-store';
import { verifyAuditChain } from '../../../core/src/store/audit-chain';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { describeStoreConformance } from './store-conformance';
import { describeJoinRateConformance } from './join-rate-conformance';

/**
 * The store conformance suite on PostgreSQL (the real server on 127.0.0.1:5432), run twice on
 * one database with group commit, and a third time with group commit off; then what only
 * PostgreSQL has: concurrent migrations, schemas, connection errors, group-commit batching.
 * The database is this file's own, created here and dropped at the end.
 */
let db: TestDatabase;
const stores: PostgresStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  await db?.drop();
});

const withSchema = (schema: string): string => `${db.url}?schema=${schema}`;

describeStoreConformance('postgres (first run)', () => PostgresStore.open(withSchema('joinery')));
describeStoreConformance('postgres (second run, same database)', () => PostgresStore.open(withSchema('joinery')));
describeStoreConformance('postgres (group commit off, same database)', () => PostgresStore.open(withSchema('joinery'), { groupCommit: false }));
describeJoinRateConformance('postgres', () => PostgresStore.open(withSchema('joinery')));

async function open(url: string, options: Parameters<typeof PostgresStore.open>[1] = {}): Promise<PostgresStore> {
  const s = await PostgresStore.open(url, options);
  stores.push(s);
  return s;
}

async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A connection of the test's own, on `schema`, for the length of `use`. */
async function onSchema<T>(schema: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    return await use(client);
  } finally {
    await client.end();
  }
}

function device(devEUI: EUI64): NewDevice {
  return { devEUI, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4', sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: 'ns', asPeer: null };
}

function commit(devEUI: EUI64, expectedVersion: number, n: number): JoinCommit {
  return {
    devEUI,
    expectedVersion,
    nonces: { lastDevNonce: devNonce(n), usedDevNonces: [], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
    joinedAt: new Date(),
    peer: 'ns',
    recordsActivation: true,
  };
}

/** The statements the store sends (counted at the driver) while `run` runs, and its result. */
async function sentDuring<T>(run: () => Promise<T>): Promise<{ sent: string[]; result: T }> {
  const sent: string[] = [];
  const original = Client.prototype.query;
  const query = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first.text ?? ''));
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  try {
    return { sent, result: await run() };
  } finally {
    query.mockRestore();
  }
}

const euis = (n: number): EUI64[] => Array.from({ length: n }, (_, i) => parseEUI64(`${randomBytes(4).toString('hex')}${i.toString(16).padStart(8, '0')}`));

describe('postgres', () => {
  test('audit/an entry edited, or removed, in the database is found by its id', async () => {
    const store = await open(withSchema('tamper'));
    for (let i = 0; i < 5; i++) await store.appendAudit({ at: new Date(), actor: 'test', tenantID: 't', source: null, action: `test.${i}`, devEUI: null, detail: { i } });
    const read = (a: number, l: number) => store.readAuditChain(a, l);
    expect(await verifyAuditChain(read)).toEqual({ ok: true, entries: 5 });
    const [third] = await sql<{ id: string }>('SELECT id FROM tamper.audit_events ORDER BY id OFFSET 2 LIMIT 1');
    const [second] = await sql<{ id: string }>('SELECT id FROM tamper.audit_events ORDER BY id OFFSET 1 LIMIT 1');
    const thirdID = Number(third!.id);
    await sql("UPDATE tamper.audit_events SET actor = 'someone else' WHERE id = $1", [thirdID]);
    expect(await verifyAuditChain(read)).toMatchObject({ ok: false, badID: thirdID, entries: 2 });
    await sql("UPDATE tamper.audit_events SET actor = 'test' WHERE id = $1", [thirdID]);
    expect(await verifyAuditChain(read)).toMatchObject({ ok: true });
    await sql('DELETE FROM tamper.audit_events WHERE id = $1', [Number(second!.id)]);
    expect(await verifyAuditChain(read)).toMatchObject({ ok: false, badID: thirdID });
  });

  test('migrations/eight instances starting at once on a new schema: migrated once, all usable', async () => {
    const url = withSchema('racing');
    const opened = await Promise.all(Array.from({ length: 8 }, () => open(url, { poolSize: 2 })));
    const rows = await sql<{ version: number }>('SELECT version FROM racing.schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    const [e] = euis(1);
    await opened[0]!.insertDevices([device(e!)]);
    for (const s of opened) expect(await s.getDevice(e!)).not.toBeNull();
  });

  test('migrations/11: a peer registered before keeps working, its one certificate current and accepted', async () => {
    const pool = new Pool({ connectionString: db.url, options: '-c search_path=peers_v10', max: 1 });
    try {
      await migratePostgres(
        pool,
        'peers_v10',
        PG_MIGRATIONS.filter((m) => m.version <= 10),
      );
    } finally {
      await pool.end();
    }
    await sql(
      `INSERT INTO peers_v10.peers (name, kind, cert_fingerprint, kek_label, sealed_kek, net_id, ns_id, vendor, as_id, created_at, settings, tenant_id)
       VALUES ('old-ns', 'ns', $1, '000013', $2, '000013', NULL, 'chirpstack', NULL, $3, '{}', 'operator')`,
      ['ab'.repeat(32), randomBytes(40), new Date(1_700_000_000_123)],
    );
    const s = await open(withSchema('peers_v10'));
    const peer = await s.getPeerByFingerprint('ab'.repeat(32));
    expect(peer).toMatchObject({ name: 'old-ns', state: 'enabled', certFingerprint: 'ab'.repeat(32) });
    expect(peer?.certificates).toEqual([{ fingerprint: 'ab'.repeat(32), issuedAt: new Date(1_700_000_000_123), notAfter: null, retiresAt: null }]);
  });

  test('migrations/a schema from a newer release is refused, untouched', async () => {
    const url = withSchema('future');
    const s = await PostgresStore.open(url);
    const [e] = euis(1);
    await s.insertDevices([device(e!)]);
    await s.close();
    await sql('INSERT INTO future.schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [PG_LATEST_SCHEMA_VERSION + 1, 'from the future']);
    const err = await PostgresStore.open(url).then(
      () => null,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toContain(`version ${PG_LATEST_SCHEMA_VERSION + 1}`);
    expect(await sql('SELECT dev_eui FROM future.devices')).toEqual([{ dev_eui: e }]);
  });

  test('schemas/two schemas in one database are two separate stores', async () => {
    const a = await open(withSchema('tenant_a'));
    const b = await open(db.url, { schema: 'tenant_b' });
    expect(a.schema).toBe('tenant_a');
    expect(b.schema).toBe('tenant_b');
    const [e] = euis(1);
    await a.insertDevices([device(e!)]);
    expect(await b.getDevice(e!)).toBeNull();
    await b.insertDevices([device(e!)]); // no clash
    expect(await sql("SELECT table_schema FROM information_schema.tables WHERE table_name = 'devices' ORDER BY 1")).toEqual(expect.arrayContaining([{ table_schema: 'tenant_a' }, { table_schema: 'tenant_b' }]));
  });

  test('errors/bad URLs and unreachable servers: clear messages, never the password', async () => {
    await expect(PostgresStore.open('postgres://127.0.0.1:5432/')).rejects.toThrow(/no database name/);
    await expect(PostgresStore.open(`${db.url}?schema=Bad-Name`)).rejects.toThrow(/schema.*not a usable schema name/);
    await expect(PostgresStore.open(`${db.url}?pool_size=0`)).rejects.toThrow(/pool_size/);
    await expect(PostgresStore.open('mysql://127.0.0.1/x')).rejects.toThrow(/postgres:\/\//);

    const refused = await PostgresStore.open('postgres://joinery:s3cr3t-pw@127.0.0.1:1/joinery', { connectTimeoutMs: 2000 }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(refused).toBeInstanceOf(PostgresStoreError);
    expect((refused as Error).message).toMatch(/^PostgreSQL store: opening postgres:\/\/joinery@127\.0\.0\.1:1\/joinery: .*ECONNREFUSED/);
    expect(JSON.stringify({ m: (refused as Error).message, s: (refused as Error).stack })).not.toContain('s3cr3t-pw');

    const missing = new URL(db.url);
    missing.pathname = '/joinery_no_such_database';
    missing.password = 'an-unused-password';
    await expect(PostgresStore.open(missing.href)).rejects.toThrow(/database "joinery_no_such_database" does not exist \(SQLSTATE 3D000\)/);
  });

  test('group commit/50 concurrent commits go in far fewer transactions than 50', async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(50);
    await s.insertDevices(devices.map(device));
    const before = s.groupCommitStats!;
    const results = await Promise.all(devices.map((e, i) => s.commitJoin(commit(e, 0, i))));
    expect(results.every(Boolean)).toBe(true);
    const after = s.groupCommitStats!;
    expect(after.items - before.items).toBe(50);
    expect(after.batches - before.batches).toBeLessThanOrEqual(5);
  });

  test('group commit/a batch is one statement, alone in its implicit transaction', async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(50);
    await s.insertDevices(devices.map(device));
    const before = s.groupCommitStats!;
    const { sent, result: results } = await sentDuring(() => Promise.all(devices.map((e, i) => s.commitJoin(commit(e, 0, i)))));
    expect(results.every(Boolean)).toBe(true);
    const batches = s.groupCommitStats!.batches - before.batches;
    expect(batches).toBeGreaterThan(1);
    expect(batches).toBeLessThan(50);
    expect(sent).toHaveLength(batches);
    expect(sent.some((q) => /^\s*(BEGIN|COMMIT)/i.test(q))).toBe(false);
  });

  test('group commit/a batched commit writes everything a lone commit writes', async () => {
    const batched = await open(withSchema('batching'));
    const lone = await open(withSchema('batching'), { groupCommit: false });
    const devices = euis(8);
    await batched.insertDevices(devices.map(device));
    const full = (e: EUI64, i: number): JoinCommit => ({
      devEUI: e,
      expectedVersion: 0,
      nonces: {
        lastDevNonce: devNonce(7 + i),
        usedDevNonces: [devNonce(1), devNonce(300 + i), devNonce(65535)],
        lastJoinNonce: joinNonce(40 + i),
        lastRJCount1: 9 + i,
        lastRJCount0: 3 + i,
        rejoinWindow: { start: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), count: 2 + i },
      },
      joinedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 6, 789 - i)),
      peer: `ns-${i}`,
      recordsActivation: true,
    });
    // Devices 0-5 in batches, devices 6 and 7 alone; then each pair is compared.
    const before = batched.groupCommitStats!;
    expect(await Promise.all(devices.slice(0, 6).map((e, i) => batched.commitJoin(full(e, i))))).toEqual(Array(6).fill(true));
    expect(batched.groupCommitStats!.batches - before.batches).toBeLessThan(6);
    for (const i of [6, 7]) expect(await lone.commitJoin(full(devices[i]!, i))).toBe(true);
    const view = async (e: EUI64, i: number) => {
      const d = (await batched.getDevice(e))!;
      const [row] = await sql<{ last_join_peer: string; last_join_at: Date; activated_at: Date }>('SELECT last_join_peer, last_join_at, activated_at FROM batching.devices WHERE dev_eui = $1', [e]);
      return { version: d.version, nonces: d.nonces, row, expected: full(e, i) };
    };
    for (const i of devices.keys()) {
      const v = await view(devices[i]!, i);
      expect(v.version).toBe(1);
      expect(v.nonces).toEqual(v.expected.nonces);
      expect(v.row).toEqual({ last_join_peer: `ns-${i}`, last_join_at: v.expected.joinedAt, activated_at: v.expected.joinedAt });
    }
  });

  test('device reads/reads asked together share one query; each gets its own device, a missing one null', async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(40);
    await s.insertDevices(devices.slice(0, 30).map(device));
    await s.commitJoin(commit(devices[3]!, 0, 77));
    const { sent, result } = await sentDuring(() => Promise.all([...devices, devices[3]!].map((e) => s.getDevice(e))));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(3);
    expect(result.map((d) => d?.devEUI ?? null)).toEqual([...devices.map((e, i) => (i < 30 ? e : null)), devices[3]]);
    expect(result[3]).toMatchObject({ version: 1, nonces: { lastJoinNonce: 77 } });
    expect(result[40]).toEqual(result[3]);
  });

  test("device reads/the peers' change counter rides on them: no query of its own while joins read devices", async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(3);
    await s.insertDevices(devices.map(device));
    const counterAlone = (q: string): boolean => /^\s*SELECT peers FROM change_counters WHERE id = 1\s*$/.test(q);
    // Device reads and a peer lookup (the counter, once a turn) asked in one turn: one query.
    const { sent, result } = await sentDuring(() => Promise.all([s.deviceForJoin(devices[0]!), s.getPeer('nobody'), s.deviceForJoin(devices[1]!), s.deviceForJoin(devices[2]!)]));
    expect(result[1]).toBeNull();
    expect(result.filter((r) => r !== null).map((d) => (d as { devEUI: EUI64 }).devEUI)).toEqual(devices);
    expect(sent.filter(counterAlone)).toEqual([]);
    expect(sent.filter((q) => /change_counters/.test(q))).toHaveLength(1);
    expect(sent).toHaveLength(2); // and the peer's own read: an unknown peer is never cached
    // Without batched reads, the counter is read alone.
    const lone = await open(withSchema('batching'), { groupCommit: false });
    const { sent: loneSent } = await sentDuring(() => lone.getPeer('nobody'));
    expect(loneSent.filter(counterAlone)).toHaveLength(1);
  });

  test('device reads/a read asked after another handle committed sees the commit, even with a batch of reads in flight', async () => {
    const a = await open(withSchema('batching'));
    const b = await open(withSchema('batching'));
    const [e, other] = euis(2);
    await a.insertDevices([device(e!), device(other!)]);
    expect((await a.getDevice(e!))!.version).toBe(0);
    for (let v = 0; v < 5; v++) {
      const inFlight = a.getDevice(other!); // sent at once: the next reads wait for the next query
      expect(await b.commitJoin(commit(e!, v, v))).toBe(true);
      const [after] = await Promise.all([a.getDevice(e!), inFlight]);
      expect(after!.version).toBe(v + 1);
    }
  });

  test('group commit/commits of one device in one group behave as if one after the other, in arrival order', async () => {
    const s = await open(withSchema('batching'));
    const [e] = euis(1);
    await s.insertDevices([device(e!)]);
    // v0, v1, v2 together: each sees the one before it.
    expect(await Promise.all([0, 1, 2].map((v) => s.commitJoin(commit(e!, v, 100 + v))))).toEqual([true, true, true]);
    // v3, v3, v4, v2: the first v3 wins, the second finds v4, v4 then succeeds, v2 is stale.
    const round = [commit(e!, 3, 200), commit(e!, 3, 201), commit(e!, 4, 202), commit(e!, 2, 203)];
    expect(await Promise.all(round.map((c) => s.commitJoin(c)))).toEqual([true, false, true, false]);
    expect((await s.getDevice(e!))!).toMatchObject({ version: 5, nonces: { lastJoinNonce: 202 } });
  });

  test('group commit/one bad commit in a group fails alone; the others are committed', async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(5);
    await s.insertDevices(devices.map(device));
    const bad = { ...commit(devices[2]!, 0, 2), nonces: { ...commit(devices[2]!, 0, 2).nonces, lastJoinNonce: 0x1000000 as JoinNonce } };
    const settled = await Promise.allSettled(devices.map((e, i) => s.commitJoin(i === 2 ? bad : commit(e, 0, i))));
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(PostgresStoreError);
    expect(((settled[2] as PromiseRejectedResult).reason as Error).message).toMatch(/check constraint.*SQLSTATE 23514/);
    for (const [i, e] of devices.entries()) expect((await s.getDevice(e))!.version).toBe(i === 2 ? 0 : 1);
  });

  test("import/an import leaves the planner its statistics of devices (ANALYZE), not autovacuum's later", async () => {
    const s = await open(withSchema('import_statistics'));
    const reltuples = async (): Promise<number> => Number((await sql<{ n: number }>("SELECT reltuples AS n FROM pg_class WHERE oid = 'import_statistics.devices'::regclass"))[0]!.n);
    await s.insertDevices(euis(3).map(device));
    expect(await reltuples()).toBe(-1); // never analysed: a lone insert leaves it to autovacuum
    async function* chunks(): AsyncIterable<NewDevice[]> {
      yield euis(40).map(device);
      yield euis(60).map(device);
    }
    expect(await s.insertDeviceChunks(chunks())).toBe(100);
    expect(await reltuples()).toBe(103);
  });

  test("plans/the join's batch statements are planned once per connection, not at every execution", async () => {
    const s = await open(withSchema('replanning'));
    // A registry as an import leaves it: a few thousand devices, analysed.
    async function* imported(): AsyncIterable<NewDevice[]> {
      yield euis(2_000).map(device);
    }
    await s.insertDeviceChunks(imported());
    await onSchema('replanning', async (client) => {
      const devices = (await client.query<{ dev_eui: string }>('SELECT dev_eui FROM devices ORDER BY dev_eui LIMIT 32')).rows.map((r) => r.dev_eui);
      // Batches of two and of four, as the joins send them; each statement by its name, as the store prepares it.
      for (let i = 0; i < 8; i++) {
        const batch = devices.slice(4 * i, 4 * i + (i % 2 === 0 ? 2 : 4));
        await client.query({ ...READ_DEVICES, values: [batch] });
        const n = batch.length;
        const fill = <T>(x: T): T[] => Array.from({ length: n }, () => x);
        await client.query({ ...COMMIT_JOINS, values: [batch, fill(-1), fill(1), fill('{1}'), fill(1), fill(null), fill(new Date()), fill('ns'), fill(null), fill(null), fill(0)] });
      }
      const plans = await client.query<{ name: string; generic_plans: string; custom_plans: string }>('SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name');
      // PostgreSQL plans for the values at the first five executions, then keeps the generic plan if it costs no more.
      expect(plans.rows.map((r) => [r.name, Number(r.generic_plans), Number(r.custom_plans)])).toEqual([
        [COMMIT_JOINS.name, 3, 5],
        [READ_DEVICES.name, 3, 5],
      ]);
    });
  });

  test("group commit/a batch reads its devices through the index in PostgreSQL's generic plan, on a table of a few thousand", async () => {
    const s = await open(withSchema('plans'));
    // Under a few hundred rows a sequential scan is the cheaper plan, and PostgreSQL takes it.
    const devices = euis(2_000);
    // Devices added through the API, not imported: the table has no statistics until autovacuum analyses it.
    await s.insertDevices(devices.map(device));
    await onSchema('plans', async (client) => {
      // The plan a prepared statement settles on after its first executions, which cannot know the batch's size.
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE commit_joins AS ${COMMIT_JOINS.text}`);
      const four = <T>(x: T): T[] => [x, x, x, x];
      const literal = (xs: readonly unknown[]): string => `${client.escapeLiteral(`{${xs.map((x) => (x === null ? 'NULL' : `"${x instanceof Date ? x.toISOString() : String(x)}"`)).join(',')}}`)}`;
      const columns = [devices.slice(0, 4), four(0), [1, 2, 3, 4], ['{1}', '{2}', '{3}', '{4}'], [1, 2, 3, 4], four(null), four(new Date()), four('ns'), four(null), four(null), four(0)];
      const [row] = (await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE commit_joins(${columns.map(literal).join(', ')})`)).rows;
      const nodes = (n: Record<string, unknown>): Record<string, unknown>[] => [n, ...((n['Plans'] as Record<string, unknown>[] | undefined) ?? []).flatMap(nodes)];
      const onDevices = (row!['QUERY PLAN'] as { Plan: Record<string, unknown> }[]).flatMap((p) => nodes(p.Plan)).filter((n) => n['Relation Name'] === 'devices');
      expect(onDevices.length).toBeGreaterThan(0);
      expect(onDevices.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    });
  });

  test('group commit/join commits never wait for a join-history batch that holds their devices', async () => {
    const s = await open(withSchema('batching'));
    const devices = euis(4);
    await s.insertDevices(devices.map(device));
    // A history batch holds FOR KEY SHARE on its devices until its transaction ends
    // (postgres-join-history.ts); this one stays open while the joins commit.
    await onSchema('batching', async (history) => {
      let timer: NodeJS.Timeout | undefined;
      await history.query('BEGIN');
      try {
        await history.query('SELECT dev_eui FROM devices WHERE dev_eui = ANY($1::TEXT[]) ORDER BY dev_eui FOR KEY SHARE', [devices]);
        // Four at once: the first goes alone, the others in a batch (COMMIT_JOINS).
        const before = s.groupCommitStats!;
        const committed = Promise.all(devices.map((e, i) => s.commitJoin(commit(e, 0, i))));
        const waiting = new Promise<'still waiting after 3 s'>((resolve) => (timer = setTimeout(() => resolve('still waiting after 3 s'), 3_000)));
        expect(await Promise.race([committed, waiting])).toEqual([true, true, true, true]);
        expect(s.groupCommitStats!.batches - before.batches).toBeLessThan(4);
      } finally {
        clearTimeout(timer);
        await history.query('ROLLBACK');
      }
    });
  });

  test('group commit/instances racing on the same devices never deadlock and give one winner per device', async () => {
    const a = await open(withSchema('batching'));
    const b = await open(withSchema('batching'));
    const devices = euis(20);
    await a.insertDevices(devices.map(device));
    // Each instance commits every device, in opposite orders, with the same expected version.
    const [ra, rb] = await Promise.all([Promise.all(devices.map((e, i) => a.commitJoin(commit(e, 0, i)))), Promise.all([...devices].reverse().map((e, i) => b.commitJoin(commit(e, 0, 100 + i))))]);
    const rbInOrder = [...rb].reverse();
    devices.forEach((_, i) => expect([ra[i], rbInOrder[i]].filter(Boolean)).toHaveLength(1));
  });
});

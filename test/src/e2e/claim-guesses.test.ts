import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { api, printedKey } from '../support/admin-api';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { randomKey } from '../support/lora-device';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * Owner-token guesses are limited across instances: two `joinery serve` processes on one store
 * (a PostgreSQL database; one SQLite file), 200 concurrent wrong guesses of one tenant on one
 * device split over them. At most the burst (5, the per-tenant-and-device bucket) reach the
 * token comparison, counted both by the answers (403 = compared and wrong, 429 = refused
 * before) and by the instances' own count of wrong tokens; the rightful owner, another
 * tenant, then claims with the right token at once (well within a minute).
 */
const BURST = 5;
const GUESSES = 200;

describe.each(['sqlite', 'postgres'] as const)('claims/%s: owner-token guesses over two instances', (kind) => {
  let db: TestDatabase | undefined;
  const servers: ServerProcess[] = [];

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await db?.drop();
  });

  test(`${GUESSES} concurrent wrong guesses over two instances: at most ${BURST} compared; the owner with the right token claims at once`, async () => {
    const work = await makeTempDir(`claim-guesses-${kind}`);
    const dataDir = path.join(work, 'data');
    if (kind === 'postgres') db = await createTestDatabase();
    const store = db ? ['--store', db.url] : [];
    const admin = printedKey((await cli(['tenants', 'add', '--data-dir', dataDir, ...store, '--id', 'ops', '--roles', 'admin'])).stdout);
    // No refill while the test runs: every token compared came out of the burst.
    for (let i = 0; i < 2; i++) servers.push(await startServer(dataDir, [...store, '--claim-device-refill', '3600', '--log-level', 'warn']));
    const remote = (key: string): string[] => ['--url', servers[0]!.adminURL, '--api-key', key];
    const maker = printedKey((await cli(['tenants', 'add', '--id', 'maker', '--roles', 'manufacturer', ...remote(admin)])).stdout);
    const mallory = printedKey((await cli(['tenants', 'add', '--id', 'mallory', '--roles', 'owner', ...remote(admin)])).stdout);
    const alice = printedKey((await cli(['tenants', 'add', '--id', 'alice', '--roles', 'owner', ...remote(admin)])).stdout);
    const devEUI = '00cc000000000001';
    const file = path.join(work, 'batch.csv');
    await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${devEUI},70b3d57ed0000000,1.0.3,${randomKey()},\n`);
    const labels = path.join(work, 'labels.csv');
    await cli(['devices', 'import', file, '--labels', labels, ...remote(maker)]);
    const token = (await fs.readFile(labels, 'utf8')).trim().split('\n')[1]!.split(',')[3]!;

    const answers = await Promise.all(Array.from({ length: GUESSES }, (_, i) => api(servers[i % 2]!.adminURL, mallory, 'POST', '/claims', { devEUI, ownerToken: `WRONGTOKEN${i}` })));
    const statuses = answers.map((a) => a.status);
    const compared = statuses.filter((s) => s === 403).length;
    expect(statuses.filter((s) => s !== 403 && s !== 429)).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(1);
    expect(compared).toBeLessThanOrEqual(BURST);
    // The instances' own count of tokens compared and found wrong agrees.
    let wrongTokens = 0;
    for (const s of servers) {
      const metrics = await (await fetch(new URL('metrics', s.adminURL))).text();
      wrongTokens += Number(/joinery_claim_failures_total\{reason="wrong-token"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    }
    expect(wrongTokens).toBe(compared);

    // Another tenant's guesses used up mallory's buckets, not alice's: the right token claims at once, on either instance.
    const claimed = await api(servers[1]!.adminURL, alice, 'POST', '/claims', { devEUI, ownerToken: token });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ devEUI, owner: 'alice' });
  }, 120_000);
});

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { api, printedKey } from '../support/admin-api';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { randomKey } from '../support/lora-device';

/**
 * The claim rate limits are the operator's settings: a server started with a device burst of
 * 2 (flag) and a tenant burst of 3 (configuration file) refuses the third wrong token on one
 * device, and the fourth over several devices of one tenant, with 429 and the configured
 * Retry-After; the defaults (5 and 20) would have answered 403 to all of them.
 */
let work: string;
let server: ServerProcess;

afterAll(async () => {
  await server?.stop();
});

test('ops/claims/rate limits come from serve flags and joinery.yaml', async () => {
  work = await makeTempDir('claim-rate');
  const dataDir = path.join(work, 'data');
  const admin = printedKey((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'ops', '--roles', 'admin'])).stdout);
  const config = path.join(work, 'joinery.yaml');
  await fs.writeFile(config, 'claims:\n  tenant_burst: 3\n  tenant_refill_seconds: 900\n');
  server = await startServer(dataDir, ['--config', config, '--claim-device-burst', '2', '--claim-device-refill', '3600']);
  const remote = (key: string): string[] => ['--url', server.adminURL, '--api-key', key];
  const maker = printedKey((await cli(['tenants', 'add', '--id', 'maker', '--roles', 'manufacturer', ...remote(admin)])).stdout);
  const owner = printedKey((await cli(['tenants', 'add', '--id', 'owner', '--roles', 'owner', ...remote(admin)])).stdout);
  const devEUIs = ['00bb000000000001', '00bb000000000002', '00bb000000000003'];
  const file = path.join(work, 'batch.csv');
  await fs.writeFile(file, ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devEUIs.map((e) => `${e},70b3d57ed0000000,1.0.3,${randomKey()},`)].join('\n') + '\n');
  await cli(['devices', 'import', file, '--labels', path.join(work, 'labels.csv'), ...remote(maker)]);

  const claim = (devEUI: string, ownerToken: string) => api(server.adminURL, owner, 'POST', '/claims', { devEUI, ownerToken });
  // One device: two wrong tokens, then 429 for an hour.
  expect((await claim(devEUIs[0]!, 'WRONG1')).status).toBe(403);
  expect((await claim(devEUIs[0]!, 'WRONG2')).status).toBe(403);
  const deviceLimited = await claim(devEUIs[0]!, 'WRONG3');
  expect(deviceLimited).toMatchObject({ status: 429, body: { code: 'rate-limited' } });
  expect(Number(deviceLimited.headers['retry-after'])).toBeGreaterThan(3000);
  // The tenant: its third wrong token (on another device) empties its bucket of 3; the next is 429.
  expect((await claim(devEUIs[1]!, 'WRONG4')).status).toBe(403);
  const tenantLimited = await claim(devEUIs[2]!, 'WRONG5');
  expect(tenantLimited).toMatchObject({ status: 429, body: { code: 'rate-limited' } });
  expect(Number(tenantLimited.headers['retry-after'])).toBeGreaterThan(600);
});

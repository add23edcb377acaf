import * as path from 'node:path';
import { makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';

/**
 * `serve --metrics-listen`: `/metrics` on a listener of its own, for a Prometheus that must not
 * reach the admin listener; nothing else is served there. The admin listener keeps `/metrics`.
 */
let server: ServerProcess;
let metricsURL: string;

beforeAll(async () => {
  const work = await makeTempDir('metrics-listen');
  server = await startServer(path.join(work, 'data'), ['--metrics-listen', '127.0.0.1:0']);
  const m = /metrics on (http:\/\/\S+\/metrics)/.exec(server.output());
  if (!m) throw new Error(`no metrics listener announced:\n${server.output()}`);
  metricsURL = m[1]!;
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

test('cli/serve/--metrics-listen serves /metrics alone, on its own port', async () => {
  const metrics = await fetch(metricsURL);
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await metrics.text()).toMatch(/^# HELP joinery_/m);
  expect(new URL(metricsURL).port).not.toBe(new URL(server.adminURL).port);
  for (const other of ['/healthz', '/readyz', '/api/v1/devices', '/']) expect({ other, status: (await fetch(new URL(other, metricsURL))).status }).toEqual({ other, status: 404 });
  expect((await fetch(new URL('metrics', server.adminURL))).status).toBe(200);
});

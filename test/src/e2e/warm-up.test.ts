import * as path from 'node:path';
import { cli, makeTempDir, startServer } from '../support/joinery-cli';

/**
 * `joinery serve` answers synthetic joins of canary devices before it says it listens
 * (`--warm-up-ms`, on by default; the test support turns it off for every other test): the
 * canaries exist only in the warm-up's own in-memory store, so the real store, the metrics and
 * the log of requests never see them.
 */
test('the warm-up answers synthetic joins before listening, and leaves nothing in the store, the metrics or the request log', async () => {
  const work = await makeTempDir('warm-up');
  const dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns1', '--net-id', '000013', '--vendor', 'chirpstack', '--out', path.join(work, 'ns1')]);
  const server = await startServer(dataDir, [], { JOINERY_WARM_UP_MS: '3000' });
  try {
    const out = await server.outputMatching(/warmed up before listening/);
    const line = JSON.parse(out.split('\n').find((l) => l.includes('warmed up before listening'))!) as { joins: number; ms: number; setupMs: number };
    expect(line.joins).toBeGreaterThan(0);
    // Bounded: the joins stop at --warm-up-ms (the setup before them comes on top).
    expect(line.ms - line.setupMs).toBeLessThan(3000 + 1000);
    expect(out).not.toMatch(/"msg":"bi request"/);
    const peers = (await cli(['ns', 'list', '--data-dir', dataDir])).stdout;
    expect(peers).toContain('ns1');
    expect(peers).not.toContain('warm-up-canary');
    const metrics = await (await fetch(new URL('metrics', server.adminURL))).text();
    expect(metrics).not.toMatch(/^joinery_joins_total\{.*\} [1-9]/m);
    expect(metrics).not.toMatch(/^joinery_bi_requests_total\{.*\} [1-9]/m);
  } finally {
    await server.stop();
  }
}, 120_000);

test('--warm-up-ms 0: no warm-up', async () => {
  const work = await makeTempDir('warm-up-off');
  const dataDir = path.join(work, 'data');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns1', '--net-id', '000013', '--vendor', 'chirpstack', '--out', path.join(work, 'ns1')]);
  const server = await startServer(dataDir, ['--warm-up-ms', '0'], { JOINERY_WARM_UP_MS: '2000' });
  try {
    const out = await server.outputMatching(/join server listening/);
    expect(out).not.toMatch(/warmed up/);
  } finally {
    await server.stop();
  }
}, 120_000);

const { startServer } = require('./bench/dist/joinery-cli');
const { createRegistry } = require('./bench/dist/registry');
const { LoadGeneratorProcess } = require('./bench/dist/load-generator-process');
const { prepareJoinRun } = require('./bench/dist/join-run');
const fs = require('fs'), os = require('os'), path = require('path');
(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-'));
  const load = new LoadGeneratorProcess();
  const registry = await createRegistry(work, 'r', 10000);
  fs.rmSync('/tmp/freshprof', { recursive: true, force: true });
  const t0 = Date.now();
  const s = await startServer(registry.dataDir, [], ['--cpu-prof', '--cpu-prof-dir', '/tmp/freshprof'], process.env, {});
  const prep = await prepareJoinRun(load, s, registry, 64, '1.0.3', { kind: 'duration', seconds: 4, warmupSeconds: 0 }, { expectedPerSecond: 4000 });
  const t1 = Date.now();
  const r = await prep.run();
  console.log('listening', s.startSeconds, 'run starts at', (t1 - t0) / 1000, 's after spawn; per second', r.completedPerSecond.join(', '));
  await s.stop(); load.close(); fs.rmSync(work, { recursive: true, force: true });
})();

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { JoineryMetrics } from '../../../core/src/metrics/metrics';

/** The metrics the operations and troubleshooting pages name are the ones Joinery exports. */
test.each(['docs/operations.md', 'docs/troubleshooting.md'])('ops/docs/%s names only metrics Joinery exports', async (doc) => {
  const text = readFileSync(path.resolve(__dirname, '../../..', doc), 'utf8');
  const named = new Set([...text.matchAll(/`(joinery_[a-z0-9_]+)/g)].map((m) => m[1]!));
  const metrics = new JoineryMetrics();
  metrics.mqttConnected.set(0); // exported once MQTT is configured
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  expect([...named].filter((n) => !exported.has(n) && !exported.has(n.replace(/_(bucket|count|sum)$/, '')))).toEqual([]);
  expect(named.size).toBeGreaterThan(5);
});

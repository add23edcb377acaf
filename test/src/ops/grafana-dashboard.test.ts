import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { JoineryMetrics } from '../../../core/src/metrics/metrics';

test('ops/metrics/the Grafana dashboard only queries metrics Joinery exports', async () => {
  const text = readFileSync(path.resolve(__dirname, '../../../examples/grafana/joinery-dashboard.json'), 'utf8');
  const dashboard = JSON.parse(text) as { panels: { targets: { expr: string }[] }[] };
  const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(joinery|process|nodejs)_[a-z0-9_]+/g) ?? [])));
  // The dashboard is for a server with MQTT join events: their gauge exists once configured.
  const metrics = new JoineryMetrics();
  metrics.mqttConnected.set(0);
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  const missing = [...used].filter((n) => !exported.has(n) && !exported.has(n.replace(/_(bucket|count|sum)$/, '')));
  expect(missing).toEqual([]);
  expect(used.size).toBeGreaterThan(10);
});

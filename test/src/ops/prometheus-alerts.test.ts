import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYAML } from 'yaml';
import { JoineryMetrics } from '../../../core/src/metrics/metrics';

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

test('ops/metrics/the example alerting rules parse, and only use metrics (and labels) Joinery exports', async () => {
  const text = readFileSync(path.resolve(__dirname, '../../../examples/prometheus/alerts.yml'), 'utf8');
  const file = parseYAML(text) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = file.groups.flatMap((g) => g.rules);
  expect(rules.map((r) => r.alert).sort()).toEqual([
    'JoineryAsyncAnswersFailing',
    'JoineryDevNonceRefusalsSpiking',
    'JoineryJoinNonceNearExhaustion',
    'JoineryNotReady',
    'JoineryPeerCertificateExpiresSoon',
    'JoineryPeerRefusalRatioHigh',
  ]);
  const metrics = new JoineryMetrics();
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  for (const rule of rules) {
    expect({ alert: rule.alert, severity: typeof rule.labels?.['severity'], summary: typeof rule.annotations?.['summary'] }).toEqual({ alert: rule.alert, severity: 'string', summary: 'string' });
    const used = [...new Set(rule.expr.match(/joinery_[a-z0-9_]+/g) ?? [])];
    expect(used.length).toBeGreaterThan(0);
    expect({ alert: rule.alert, missing: used.filter((n) => !exported.has(n)) }).toEqual({ alert: rule.alert, missing: [] });
    // Every label the rule groups or selects by is a label of every metric it names.
    const labels = new Set([...rule.expr.matchAll(/by \(([a-z_, ]+)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())));
    for (const selector of rule.expr.matchAll(/(joinery_[a-z0-9_]+)\{([^}]*)\}/g)) for (const m of selector[2]!.matchAll(/([a-z_]+)\s*(?:=|!=|=~|!~)/g)) labels.add(m[1]!);
    for (const name of used) {
      const labelNames = (metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
      expect({ alert: rule.alert, metric: name, missingLabels: [...labels].filter((l) => !labelNames.includes(l)) }).toEqual({ alert: rule.alert, metric: name, missingLabels: [] });
    }
  }
});

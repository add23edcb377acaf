import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { usage, usageCSV, type UsageReport } from '../api/endpoints';
import { useLoad } from '../components/async';
import { BarChart } from '../components/charts';
import { saveBlob } from '../components/download';
import { DataTable } from '../components/data-table';
import { Status } from '../components/status';

interface Month {
  readonly month: string;
  readonly activated: number;
}

/** `YYYY-MM` of the first day `months - 1` months before this one. */
function firstMonth(months: number, now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1));
  return d.toISOString().slice(0, 7);
}

/** Activations per calendar month (UTC), every month of the period listed, empty ones as 0. */
export function perMonth(report: UsageReport, from: string, now = new Date()): Month[] {
  const counts = new Map<string, number>();
  for (const d of report.devices) counts.set(d.activatedAt.slice(0, 7), (counts.get(d.activatedAt.slice(0, 7)) ?? 0) + 1);
  const out: Month[] = [];
  const last = now.toISOString().slice(0, 7);
  const [year, month] = from.split('-').map(Number) as [number, number];
  for (let i = 0; ; i++) {
    const key = new Date(Date.UTC(year, month - 1 + i, 1)).toISOString().slice(0, 7);
    if (key > last) break;
    out.push({ month: key, activated: counts.get(key) ?? 0 });
  }
  return out;
}

const PERIODS = [12, 24, 36] as const;

/** Devices activated (first accepted join) per month: what a per-device fee is charged on. */
export function Usage() {
  const client = useClient();
  const [months, setMonths] = useState<number>(12);
  const from = firstMonth(months);
  const [report] = useLoad(() => usage(client, `${from}-01`), [from]);
  return (
    <>
      <div class="page-head">
        <h1>Usage</h1>
        <select aria-label="Period" class="narrow" value={months} onChange={(e) => setMonths(Number(e.currentTarget.value))}>
          {PERIODS.map((p) => (
            <option key={p} value={p}>
              Last {p} months
            </option>
          ))}
        </select>
      </div>
      <Status loaded={report}>
        {(r) => {
          const list = perMonth(r, from);
          const csv = `month,activated\n${list.map((m) => `${m.month},${m.activated}`).join('\n')}\n`;
          return (
            <>
              <div class="card">
                <h2>Devices activated per month</h2>
                <p class="muted small">
                  {r.activated} device{r.activated === 1 ? '' : 's'} activated since {from} (a device counts once, in the month of its first accepted join).
                </p>
                <BarChart label="Devices activated per month" data={list.map((m) => ({ label: m.month, value: m.activated }))} />
                <div class="actions">
                  <button type="button" onClick={() => saveBlob(new Blob([csv], { type: 'text/csv' }), `joinery-usage-per-month-since-${from}.csv`)}>
                    Download per month (CSV)
                  </button>
                  <button type="button" onClick={async () => saveBlob(await usageCSV(client, `${from}-01`), `joinery-activations-since-${from}.csv`)}>
                    Download per device (CSV)
                  </button>
                </div>
              </div>
              <DataTable
                compact
                rows={[...list].reverse()}
                rowKey={(m) => m.month}
                empty=""
                columns={[
                  { label: 'Month', cell: (m) => m.month },
                  { label: 'Devices activated', cell: (m) => m.activated },
                ]}
              />
            </>
          );
        }}
      </Status>
    </>
  );
}

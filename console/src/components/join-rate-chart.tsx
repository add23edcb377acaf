import { useEffect } from 'preact/hooks';
import { useClient } from '../client-context';
import { joinRate } from '../api/endpoints';
import { useLoad } from './async';
import { StackedBarChart } from './charts';
import { Status } from './status';

/** How often the chart asks again while the page is open. */
const REFRESH_MS = 30_000;

const clock = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * Joins (accepted) and refusals per minute over the last hour, as stacked bars, refreshed every
 * 30 s: every network server of the tenant's devices, or one (`peer`).
 */
export function JoinRateChart({ peer }: { peer?: string }) {
  const client = useClient();
  const [minutes, reload] = useLoad(() => joinRate(client, peer), [peer]);
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <section class="card join-rate" aria-label="Join rate">
      <h2 class="section-first">Joins per minute, last hour</h2>
      <Status loaded={minutes}>
        {(m) => (
          <StackedBarChart
            label={peer ? `Joins and refusals per minute through ${peer}, last hour` : 'Joins and refusals per minute, last hour'}
            times={m.map((x) => Date.parse(x.at))}
            series={[
              { name: 'joins', values: m.map((x) => x.joins), tone: 3 },
              { name: 'refusals', values: m.map((x) => x.refusals), tone: 7 },
            ]}
            timeLabel={clock}
            tickEvery={15}
          />
        )}
      </Status>
    </section>
  );
}

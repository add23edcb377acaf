import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { getMigration, MIGRATION_STATES, migrationReport, rollbackMigration, type Migration, type MigrationState } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { LineChart } from '../components/charts';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';

const POLL_MS = 1000;

/** One colour per state (stylesheet series s0..s7): done green, parked red, waiting blue. */
const TONE: Readonly<Record<MigrationState, number>> = {
  planned: 6,
  registered: 1,
  rebound: 0,
  joined: 2,
  removed: 4,
  done: 3,
  expired: 5,
  parked: 7,
  returning: 4,
  'rolled-back': 6,
};

interface Sample {
  readonly at: number;
  readonly counts: Migration['counts'];
}

/** One migration, live: devices per state (now and over time), failures, rollback. */
export function MigrationPage({ id }: { id: string }) {
  const client = useClient();
  const [samples, setSamples] = useState<readonly Sample[]>([]);
  const [status, setStatus] = useState<Migration>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const settled = status !== undefined && (status.status === 'finished' || status.status === 'rolled-back');
  // Poll while the migration moves; each answer is one point of the chart.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await getMigration(client, id);
        if (!live) return;
        setStatus(s);
        setError(undefined);
        setSamples((prev) => [...prev, { at: Date.now(), counts: s.counts }].slice(-600));
        if (s.status === 'finished' || s.status === 'rolled-back') return;
      } catch (err) {
        if (live) setError(messageOf(err));
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the client is the session's one API client, the same for the page's life
  }, [id, tick]);
  const [report] = useLoad(() => migrationReport(client, id), [id, settled, Math.floor(samples.length / 5)]);
  const states = MIGRATION_STATES.filter((s) => samples.some((x) => (x.counts[s] ?? 0) > 0));
  const total = status?.total ?? 0;
  return (
    <>
      <div class="page-head">
        <h1>
          Migration <span class="mono">{id}</span>
        </h1>
        <a href="#/migrations">All migrations</a>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
      {status && (
        <div class="card">
          <dl class="facts">
            <dt>From → to</dt>
            <dd>
              {status.sourcePeer} → {status.targetPeer} ({status.strategy})
            </dd>
            <dt>Status</dt>
            <dd>
              <span class={`badge ${status.status === 'finished' ? 'ok' : status.status === 'running' ? '' : 'warn'}`} data-testid="migration-status">
                {status.status}
              </span>
            </dd>
            <dt>Started</dt>
            <dd>{formatTime(status.createdAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(status.finishedAt)}</dd>
          </dl>
          <h3>Devices by state</h3>
          <div class="progress" aria-hidden="true">
            {MIGRATION_STATES.map((s) => {
              const n = status.counts[s] ?? 0;
              return n > 0 ? <span key={s} class={`s${TONE[s]}`} style={{ width: `${(100 * n) / Math.max(1, total)}%` }} /> : null;
            })}
          </div>
          <div class="legend">
            {MIGRATION_STATES.map((s) =>
              (status.counts[s] ?? 0) > 0 ? (
                <span key={s} class={`s${TONE[s]}`}>
                  {s}: {status.counts[s]}
                </span>
              ) : null,
            )}
          </div>
          {status.status === 'running' && (
            <div class="actions">
              <ConfirmButton
                label="Roll back"
                title="Roll this migration back?"
                confirmLabel="Roll back"
                danger
                onConfirm={async () => {
                  await rollbackMigration(client, id);
                  setTick((t) => t + 1);
                }}
              >
                <p>Every device that is not done yet goes back to {status.sourcePeer}: registered and bound there again, removed from the target.</p>
              </ConfirmButton>
            </div>
          )}
        </div>
      )}
      {samples.length > 1 && (
        <div class="card">
          <h2>Devices by state over time</h2>
          <LineChart
            label="Devices by state over time"
            times={samples.map((s) => s.at)}
            series={states.map((state: MigrationState) => ({ name: state, tone: TONE[state], values: samples.map((x) => x.counts[state] ?? 0) }))}
          />
        </div>
      )}
      <h2>Failures</h2>
      <Status loaded={report}>
        {(r) => {
          const failed = r.devices.filter((d) => d.state === 'parked' || d.state === 'expired' || d.lastError);
          return failed.length === 0 ? (
            <p class="muted">No device has failed.</p>
          ) : (
            <DataTable
              rows={failed}
              rowKey={(d) => d.devEUI}
              empty=""
              columns={[
                { label: 'DevEUI', class: 'mono', cell: (d) => d.devEUI },
                { label: 'State', cell: (d) => <span class="badge bad">{d.state}</span> },
                { label: 'Step', cell: (d) => d.failedStep ?? '—' },
                { label: 'Error', class: 'wrap', cell: (d) => d.lastError ?? '—' },
              ]}
            />
          );
        }}
      </Status>
    </>
  );
}

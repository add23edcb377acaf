import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { listMigrations, listNetworkServers, planMigration, startMigration, type MigrationPlan, type MigrationRequest, type Peer } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { formatTime } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';
import { href, navigate } from '../router';

/** Migrations: plan one (a dry run first), start it, and the list of past and running ones. */
export function Migrations() {
  const client = useClient();
  const [list] = useLoad(() => listMigrations(client), []);
  return (
    <>
      <div class="page-head">
        <h1>Migrations</h1>
      </div>
      <PlanMigration />
      <div>
        <h2>Started migrations</h2>
        <Status loaded={list}>
          {(items) => (
            <DataTable
              rows={items}
              rowKey={(m) => m.id}
              empty="No migration yet."
              columns={[
                { label: 'Migration', class: 'mono', cell: (m) => <a href={href({ page: 'migration', id: m.id })}>{m.id}</a> },
                { label: 'From → to', cell: (m) => `${m.sourcePeer} → ${m.targetPeer}` },
                { label: 'Status', cell: (m) => <span class={`badge ${m.status === 'finished' ? 'ok' : m.status === 'running' ? '' : 'warn'}`}>{m.status}</span> },
                { label: 'Devices', cell: (m) => `${m.counts.done ?? 0} of ${m.total} done` },
                { label: 'Started', cell: (m) => formatTime(m.createdAt) },
              ]}
            />
          )}
        </Status>
      </div>
    </>
  );
}

function PlanMigration() {
  const client = useClient();
  const [servers] = useLoad(() => listNetworkServers(client), []);
  const [source, setSource] = useState('');
  const [target, setTarget] = useState('');
  const [strategy, setStrategy] = useState<'overlap' | 'cutover'>('overlap');
  const [devEUIs, setDevEUIs] = useState('');
  const [plan, setPlan] = useState<{ request: MigrationRequest; value: MigrationPlan }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const request = (): MigrationRequest => {
    const list = devEUIs.split(/[\s,;]+/).filter(Boolean);
    return { sourcePeer: source, targetPeer: target, strategy, selection: list.length ? { kind: 'dev-euis', devEUIs: list } : { kind: 'all' } };
  };
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const preview = (e: Event) => {
    e.preventDefault();
    const r = request();
    void act(async () => setPlan({ request: r, value: await planMigration(client, r) }));
  };
  const start = () => void act(async () => navigate({ page: 'migration', id: (await startMigration(client, plan!.request)).id }));
  return (
    <div class="card planner">
      <form onSubmit={preview}>
        <h2>Plan a migration</h2>
        <Status loaded={servers}>
          {(list) => (
            <>
              <PeerSelect id="mig-source" label="From network server" peers={list} value={source} onChange={(v) => (setSource(v), setPlan(undefined))} />
              <PeerSelect id="mig-target" label="To network server" peers={list} value={target} onChange={(v) => (setTarget(v), setPlan(undefined))} />
            </>
          )}
        </Status>
        <label for="mig-strategy">Strategy</label>
        <select id="mig-strategy" value={strategy} onChange={(e) => (setStrategy(e.currentTarget.value as 'overlap' | 'cutover'), setPlan(undefined))}>
          <option value="overlap">overlap</option>
          <option value="cutover">cutover</option>
        </select>
        <p class="muted small">
          {strategy === 'overlap'
            ? 'Both networks may join a device until it joins through the target; only then is it removed from the source.'
            : 'Each device is bound to the target only and removed from the source at once: its next join must go through the target.'}
        </p>
        <label for="mig-devices">Devices (DevEUIs; empty: every device on the source)</label>
        <textarea id="mig-devices" value={devEUIs} onInput={(e) => (setDevEUIs(e.currentTarget.value), setPlan(undefined))} spellcheck={false} />
        {error && <Alert kind="error">{error}</Alert>}
        <div class="actions">
          <button type="submit" disabled={busy || !source || !target}>
            Preview (dry run)
          </button>
          <button type="button" class="primary" disabled={busy || !plan || plan.value.devices === 0} onClick={start}>
            Start the migration
          </button>
        </div>
      </form>
      {plan && <PlanPreview plan={plan.value} />}
    </div>
  );
}

function PeerSelect(props: { id: string; label: string; peers: readonly Peer[]; value: string; onChange: (name: string) => void }) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)} required>
        <option value="">Choose…</option>
        {props.peers.map((n) => (
          <option key={n.name} value={n.name}>
            {n.name} ({n.vendor})
          </option>
        ))}
      </select>
    </>
  );
}

function PlanPreview({ plan }: { plan: MigrationPlan }) {
  return (
    <div class="plan-preview">
      <h3>Dry run: nothing has changed yet</h3>
      <p>
        {plan.devices} device{plan.devices === 1 ? '' : 's'} would move from {plan.sourcePeer} to {plan.targetPeer} ({plan.strategy}){plan.skipped.length > 0 ? `, ${plan.skipped.length} would be skipped` : ''}.
      </p>
      {plan.calls.length > 0 && (
        <ul class="small">
          {plan.calls.map((c) => (
            <li key={c.peer}>
              {c.peer} ({c.vendor}): {c.calls} API calls at {c.ratePerSecond}/s, at least {Math.ceil(c.seconds)} s
            </li>
          ))}
        </ul>
      )}
      {plan.skipped.length > 0 && (
        <ul class="small">
          {plan.skipped.map((s) => (
            <li key={s.devEUI}>
              <span class="mono">{s.devEUI}</span>: {s.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

import { useState } from 'preact/hooks';
import { useClient } from '../app';
import { deviceJoins, deviceSession, getDevice, resetDevNonce, type JoinRecord } from '../api/endpoints';
import { useLoad } from '../components/async';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime, orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';
import { bindingText } from './devices';

/** One device: identities, binding, join history and the DevNonce reset. Never a key. */
export function DevicePage({ devEUI }: { devEUI: string }) {
  const client = useClient();
  const [device, reloadDevice] = useLoad(() => getDevice(client, devEUI), [devEUI]);
  const [session, reloadSession] = useLoad(() => deviceSession(client, devEUI), [devEUI]);
  const [joins] = useLoad(() => deviceJoins(client, devEUI), [devEUI]);
  const [done, setDone] = useState<string>();
  return (
    <>
      <div class="page-head">
        <h1>
          Device <span class="mono">{devEUI}</span>
        </h1>
        <a href="#/devices">All devices</a>
      </div>
      {done && <Alert kind="success">{done}</Alert>}
      <Status loaded={device}>
        {(d) => (
          <div class="card">
            <dl class="facts">
              <dt>DevEUI</dt>
              <dd class="mono">{d.devEUI}</dd>
              <dt>JoinEUI</dt>
              <dd class="mono">{d.joinEUI}</dd>
              <dt>MAC version</dt>
              <dd>{d.macVersion}</dd>
              <dt>Profile</dt>
              <dd class="mono">{d.profileID}</dd>
              <dt>Maker</dt>
              <dd>{d.manufacturer}</dd>
              <dt>Owner</dt>
              <dd>{d.owner ? `${d.owner} (claimed ${formatTime(d.claimedAt)})` : 'not claimed'}</dd>
              <dt>Binding</dt>
              <dd>{bindingText(d)}</dd>
              <dt>Last join</dt>
              <dd>{formatTime(d.lastJoinAt)}</dd>
              <dt>Activated</dt>
              <dd>{formatTime(d.activatedAt)}</dd>
            </dl>
            <div class="actions">
              <ConfirmButton
                label="Reset DevNonce"
                title="Reset the DevNonces of this device?"
                confirmLabel="Reset DevNonce"
                askReason
                danger
                onConfirm={async (reason) => {
                  await resetDevNonce(client, devEUI, reason);
                  setDone('The DevNonces this device used are forgotten: its next join is accepted whatever its DevNonce. Its JoinNonce is unchanged.');
                  reloadDevice();
                  reloadSession();
                }}
              >
                <p>
                  Do this only after the device itself was reset and is stuck in the “DevNonce already used” loop. The JoinNonce is never reset. The
                  reset is recorded in the audit log.
                </p>
              </ConfirmButton>
            </div>
          </div>
        )}
      </Status>
      <h2>Join history</h2>
      <Status loaded={joins}>
        {(history) => (
          <DataTable
            rows={history}
            rowKey={(r: JoinRecord) => `${r.at}-${r.networkServer}-${r.result}-${r.devNonce}`}
            empty="No join yet."
            columns={[
              { label: 'Time', cell: (r) => formatTime(r.at) },
              { label: 'Network', cell: (r) => r.networkServer },
              {
                label: 'Result',
                cell: (r) => (
                  <>
                    <span class={`badge ${r.result === 'Success' ? 'ok' : 'bad'}`}>{r.result}</span>
                    {r.description && <div class="muted small">{r.description}</div>}
                  </>
                ),
              },
              { label: 'Type', cell: (r) => `${r.joinType} · ${r.macVersion}` },
              { label: 'DevNonce', cell: (r) => orDash(r.devNonce) },
              { label: 'JoinNonce', cell: (r) => orDash(r.joinNonce) },
            ]}
          />
        )}
      </Status>
      <Status loaded={session}>
        {(j) => (
          <p class="muted small">
            {j.usedDevNonces} DevNonce{j.usedDevNonces === 1 ? '' : 's'} remembered{j.lastDevNonce !== null ? `, last ${j.lastDevNonce}` : ''}
            {j.lastRJCount1 !== null ? `, RJcount1 ${j.lastRJCount1}` : ''}. The newest 50 join attempts are kept; a refusal's reason shows on its result.
          </p>
        )}
      </Status>
    </>
  );
}

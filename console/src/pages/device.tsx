import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { deleteDevice, deviceJoins, deviceSession, getDevice, resetDevNonce, transferDevice, unclaimDevice, type JoinRecord } from '../api/endpoints';
import { useLoad } from '../components/async';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime, orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';
import { bindingText } from './devices';
import { navigate } from '../router';

/** One device: identities, binding, join history; the DevNonce reset, unclaim, transfer and delete. Never a key. */
export function DevicePage({ devEUI }: { devEUI: string }) {
  const client = useClient();
  const [device, reloadDevice] = useLoad(() => getDevice(client, devEUI), [devEUI]);
  const [session, reloadSession] = useLoad(() => deviceSession(client, devEUI), [devEUI]);
  const [joins] = useLoad(() => deviceJoins(client, devEUI), [devEUI]);
  const [done, setDone] = useState<string>();
  const [newOwner, setNewOwner] = useState('');
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
                <p>Do this only after the device itself was reset and is stuck in the “DevNonce already used” loop. The JoinNonce is never reset. The reset is recorded in the audit log.</p>
              </ConfirmButton>
              {d.owner && (
                <ConfirmButton
                  label="Unclaim"
                  title="Unclaim this device?"
                  confirmLabel="Unclaim"
                  danger
                  onConfirm={async () => {
                    await unclaimDevice(client, devEUI);
                    setDone('The device has no owner and no binding any more: it cannot join until it is claimed and bound again.');
                    reloadDevice();
                  }}
                >
                  <p>It stops joining at once. Its owner token stays what it was, so whoever holds the label can claim it again.</p>
                </ConfirmButton>
              )}
              {d.owner && (
                <ConfirmButton
                  label="Transfer"
                  title="Give this device to another tenant?"
                  confirmLabel="Transfer"
                  danger
                  onConfirm={async () => {
                    const t = await transferDevice(client, devEUI, newOwner.trim());
                    setDone(`The device is ${newOwner.trim()}'s now, not bound. Its new owner token, shown only this once: ${t.ownerToken}`);
                    setNewOwner('');
                    reloadDevice();
                  }}
                >
                  <p>It is theirs at once and unbound (they bind it), with a new owner token; the old one stops working.</p>
                  <label for="transfer-to">New owner (tenant ID)</label>
                  <input id="transfer-to" value={newOwner} onInput={(e) => setNewOwner(e.currentTarget.value)} />
                </ConfirmButton>
              )}
              <ConfirmButton
                label="Delete"
                title="Delete this device?"
                confirmLabel="Delete"
                danger
                onConfirm={async () => {
                  await deleteDevice(client, devEUI);
                  navigate({ page: 'devices' });
                }}
              >
                <p>Its root keys and sessions are deleted. Its nonce state is kept: imported again with the same DevEUI and JoinEUI, no old join-request is accepted and no JoinNonce repeats.</p>
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
                  <div class="result">
                    <span class={`badge ${r.result === 'Success' ? 'ok' : 'bad'}`}>{r.result}</span>
                    {r.description && <div class="muted small">{r.description}</div>}
                  </div>
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

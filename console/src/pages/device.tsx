import { useState } from 'preact/hooks';
import { useClient } from '../app';
import { deviceJoins, getDevice, resetDevNonce } from '../api/endpoints';
import { useLoad } from '../components/async';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime, orDash } from '../components/format';
import { Alert, Status } from '../components/status';
import { bindingText } from './devices';

/** One device: identities, binding, join history and the DevNonce reset. Never a key. */
export function DevicePage({ devEUI }: { devEUI: string }) {
  const client = useClient();
  const [device, reloadDevice] = useLoad(() => getDevice(client, devEUI), [devEUI]);
  const [joins, reloadJoins] = useLoad(() => deviceJoins(client, devEUI), [devEUI]);
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
              <dt>Owner</dt>
              <dd>{orDash(d.owner)}</dd>
              <dt>Binding</dt>
              <dd>{bindingText(d)}</dd>
              <dt>Last join</dt>
              <dd>{formatTime(d.lastJoinAt)}</dd>
              <dt>Last network</dt>
              <dd>{orDash(d.lastNetwork)}</dd>
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
                  reloadJoins();
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
        {(list) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Network</th>
                  <th>Result</th>
                </tr>
              </thead>
              <tbody>
                {list.length === 0 && (
                  <tr>
                    <td class="empty" colSpan={3}>
                      No join yet.
                    </td>
                  </tr>
                )}
                {list.map((j, i) => (
                  <tr key={i}>
                    <td>{formatTime(j.at)}</td>
                    <td>{j.network}</td>
                    <td>
                      <span class={`badge ${j.result === 'Success' ? 'ok' : 'bad'}`}>{j.result}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Status>
    </>
  );
}

import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { deleteNetworkServer, networkServerSummary, reissueNetworkServer, retireNetworkServerCertificates, setNetworkServerState, type PeerSummary } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { ConfirmButton } from '../components/confirm-button';
import { DataTable } from '../components/data-table';
import { formatTime, orDash } from '../components/format';
import { Alert, Status } from '../components/status';
import { navigate } from '../router';
import { downloadBundle } from './networks';
import { JoinRateChart } from '../components/join-rate-chart';

/**
 * One network server: its state, client certificates and their expiry, devices bound, last
 * join, and its life (disable, enable, a new bundle, certificate renewal and retirement, KEK
 * rotation, delete). Never a key: a new bundle goes straight into a download.
 */
export function NetworkServerPage({ name }: { name: string }) {
  const client = useClient();
  const [summary, reload] = useLoad(() => networkServerSummary(client, name), [name]);
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  const [header, setHeader] = useState('');
  const [busy, setBusy] = useState(false);

  /** A new bundle from the server, downloaded as a zip at once. */
  const reissue = async (s: PeerSummary, action: 'bundle' | 'renew-certificate' | 'rotate-kek', body: Record<string, unknown>, suffix: string, message: (p: PeerSummary) => string) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const result = await reissueNetworkServer(client, s.name, action, { ...body, ...(s.authorizationHeaderSet && header !== '' ? { authorizationHeader: header } : {}) });
      downloadBundle({ name: s.name, vendor: s.vendor, bundle: result.bundle, setup: result.setup }, suffix);
      setDone(message(result.peer));
      reload();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <div class="page-head">
        <h1>
          Network server <span class="mono">{name}</span>
        </h1>
        <a href="#/networks">All networks</a>
      </div>
      {done && <Alert kind="success">{done}</Alert>}
      {error && <Alert kind="error">{error}</Alert>}
      <Status loaded={summary}>
        {(s) => (
          <>
            <div class="card">
              <dl class="facts">
                <dt>State</dt>
                <dd>
                  <span class={`badge ${s.state === 'enabled' ? 'ok' : 'bad'}`}>{s.state}</span>
                </dd>
                <dt>Vendor</dt>
                <dd>{orDash(s.vendor)}</dd>
                <dt>NetID</dt>
                <dd class="mono">{orDash(s.netID)}</dd>
                <dt>NSID</dt>
                <dd class="mono">{orDash(s.nsID)}</dd>
                <dt>Certificate expires</dt>
                <dd>{s.certificateExpiry ? formatTime(s.certificateExpiry) : 'unknown'}</dd>
                <dt>KEK label</dt>
                <dd class="mono">{s.kekLabel}</dd>
                <dt>Devices bound</dt>
                <dd>{s.boundDevices}</dd>
                <dt>Last join</dt>
                <dd>{formatTime(s.lastJoinAt)}</dd>
                <dt>Joins, last day</dt>
                <dd>
                  {Object.entries(s.recentJoinResults ?? {}).length === 0
                    ? 'none'
                    : Object.entries(s.recentJoinResults ?? {}).map(([result, n]) => (
                        <span key={result} class={`badge ${result === 'Success' ? 'ok' : 'bad'}`}>
                          {result} {n}
                        </span>
                      ))}
                </dd>
                <dt>Answers</dt>
                <dd>{s.asyncAnswerURL ? `asynchronous, to ${s.asyncAnswerURL}` : 'synchronous'}</dd>
                <dt>Authorization header</dt>
                <dd>{s.authorizationHeaderSet ? 'required (secret set)' : 'not used'}</dd>
                <dt>Management API</dt>
                <dd>{orDash(s.managementAPIURL)}</dd>
              </dl>
              {s.authorizationHeaderSet && (
                <>
                  <label for="ns-header">Its Authorization header (the vendor files of a new bundle carry it; Joinery keeps only its digest)</label>
                  <input id="ns-header" type="password" autocomplete="off" value={header} onInput={(e) => setHeader(e.currentTarget.value)} />
                </>
              )}
              <div class="actions">
                {s.state === 'enabled' ? (
                  <ConfirmButton
                    label="Disable"
                    title={`Disable ${s.name}?`}
                    confirmLabel="Disable"
                    danger
                    onConfirm={async () => {
                      await setNetworkServerState(client, s.name, 'disabled');
                      setDone(`${s.name} is disabled: its requests are refused (UnknownSender) from now on. Its devices keep their binding.`);
                      reload();
                    }}
                  >
                    <p>Every request of this network server is refused at once, on every instance, until it is enabled again.</p>
                  </ConfirmButton>
                ) : (
                  <button
                    type="button"
                    onClick={async () => {
                      setError(undefined);
                      try {
                        await setNetworkServerState(client, s.name, 'enabled');
                        setDone(`${s.name} is enabled again.`);
                        reload();
                      } catch (err) {
                        setError(messageOf(err));
                      }
                    }}
                  >
                    Enable
                  </button>
                )}
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => reissue(s, 'bundle', {}, 'bundle', () => `A new bundle of ${s.name} was downloaded (a new client certificate; the ones before keep working until retired).`)}
                >
                  Download its bundle
                </button>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => reissue(s, 'renew-certificate', { overlap: '7d' }, 'renewed', () => `A new client certificate for ${s.name} was downloaded; the one before keeps working for 7 days.`)}
                >
                  Renew certificate (7-day overlap)
                </button>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => reissue(s, 'rotate-kek', {}, 'new-kek', (p) => `A new KEK labelled ${p.kekLabel} was downloaded with a new bundle; answers are wrapped with it from now on.`)}
                >
                  Rotate KEK
                </button>
              </div>
            </div>
            <JoinRateChart peer={s.name} />
            <h2>Client certificates</h2>
            <DataTable
              rows={s.certificates}
              rowKey={(c) => c.fingerprint}
              empty="None."
              columns={[
                { label: 'Fingerprint (SHA-256)', class: 'mono', cell: (c) => `${c.fingerprint.slice(0, 16)}…` },
                { label: 'Status', cell: (c) => <span class={`badge ${c.status === 'retired' ? 'bad' : 'ok'}`}>{c.status}</span> },
                { label: 'Issued', cell: (c) => formatTime(c.issuedAt) },
                { label: 'Expires', cell: (c) => (c.notAfter ? formatTime(c.notAfter) : 'unknown') },
                { label: 'Refused from', cell: (c) => (c.retiresAt ? formatTime(c.retiresAt) : '—') },
              ]}
            />
            <div class="actions">
              {s.certificates.some((c) => c.status === 'accepted') && (
                <ConfirmButton
                  label="Retire earlier certificates"
                  title="Retire the earlier certificates?"
                  confirmLabel="Retire"
                  danger
                  onConfirm={async () => {
                    await retireNetworkServerCertificates(client, s.name);
                    setDone(`Only the current certificate of ${s.name} is accepted from now on.`);
                    reload();
                  }}
                >
                  <p>Every certificate but the current one is refused from now on, on every instance.</p>
                </ConfirmButton>
              )}
              <ConfirmButton
                label="Delete"
                title={`Delete ${s.name}?`}
                confirmLabel={s.boundDevices > 0 ? `Delete and unbind ${s.boundDevices} device(s)` : 'Delete'}
                danger
                onConfirm={async () => {
                  await deleteNetworkServer(client, s.name, s.boundDevices > 0);
                  navigate({ page: 'networks' });
                }}
              >
                <p>
                  Its certificates are refused from then on.
                  {s.boundDevices > 0 ? ` ${s.boundDevices} device(s) bound to it lose that binding (move them with a migration first to keep them joining).` : ''}
                </p>
              </ConfirmButton>
            </div>
          </>
        )}
      </Status>
    </>
  );
}

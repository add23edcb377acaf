import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { ApiError } from '../api/client';
import { bindDevice, claimDevice, listBindingTargets } from '../api/endpoints';
import { parseClaimCSV, type ClaimRow } from '../claim/claim-csv';
import { canScan, QRScanner } from '../claim/qr-scanner';
import { parseTR005 } from '../claim/tr005';
import { messageOf, useLoad } from '../components/async';
import { Alert, Status } from '../components/status';
import { href } from '../router';

type Tab = 'single' | 'bulk';

/** Claiming devices (by DevEUI and owner token, a QR code, or a CSV), then binding them. */
export function Claim() {
  const [tab, setTab] = useState<Tab>('single');
  const [claimed, setClaimed] = useState<string>();
  return (
    <>
      <div class="page-head">
        <h1>Claim devices</h1>
      </div>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'single'} class={tab === 'single' ? 'active' : undefined} onClick={() => setTab('single')}>
          One device
        </button>
        <button type="button" role="tab" aria-selected={tab === 'bulk'} class={tab === 'bulk' ? 'active' : undefined} onClick={() => setTab('bulk')}>
          Many devices (CSV)
        </button>
      </div>
      <div class="grid2">
        {tab === 'single' ? <ClaimOne onClaimed={setClaimed} /> : <ClaimMany onClaimed={setClaimed} />}
        <Bind devEUI={claimed} />
      </div>
    </>
  );
}

function ClaimOne({ onClaimed }: { onClaimed: (devEUI: string) => void }) {
  const client = useClient();
  const [devEUI, setDevEUI] = useState('');
  const [token, setToken] = useState('');
  const [qr, setQR] = useState('');
  const [scanning, setScanning] = useState(false);
  const [result, setResult] = useState<{ kind: 'error' | 'success'; text: string }>();
  const [busy, setBusy] = useState(false);
  const readQR = (text: string) => {
    setQR(text);
    setScanning(false);
    const p = parseTR005(text);
    if (typeof p === 'string') return setResult({ kind: 'error', text: p });
    setDevEUI(p.devEUI);
    if (p.ownerToken) setToken(p.ownerToken);
    setResult(undefined);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const eui = devEUI.trim().replace(/^0x/i, '').toUpperCase();
    if (!/^[0-9A-F]{16}$/.test(eui)) return setResult({ kind: 'error', text: 'The DevEUI is 16 hex digits.' });
    setBusy(true);
    try {
      await claimDevice(client, eui, token.trim().toUpperCase());
      setResult({ kind: 'success', text: `Device ${eui} is yours. Bind it to a network server to let it join.` });
      onClaimed(eui);
    } catch (err) {
      setResult({ kind: 'error', text: err instanceof ApiError && err.status === 403 ? `Not claimed: ${err.message}` : messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Claim one device</h2>
      <label for="qr">QR code on the label</label>
      <input id="qr" placeholder="LW:D0:…" value={qr} onInput={(e) => readQR(e.currentTarget.value)} spellcheck={false} autocomplete="off" />
      {canScan() && (
        <div class="actions">
          <button type="button" onClick={() => setScanning(!scanning)}>
            {scanning ? 'Stop the camera' : 'Scan with the camera'}
          </button>
        </div>
      )}
      {scanning && <QRScanner onRead={readQR} onError={(text) => (setScanning(false), setResult({ kind: 'error', text }))} />}
      <p class="muted small">Or type what is printed on it:</p>
      <label for="dev-eui">DevEUI</label>
      <input id="dev-eui" class="mono" placeholder="0004A30B001C0530" value={devEUI} onInput={(e) => setDevEUI(e.currentTarget.value)} spellcheck={false} autocomplete="off" required />
      <label for="owner-token">Owner token</label>
      <input id="owner-token" class="mono" value={token} onInput={(e) => setToken(e.currentTarget.value)} spellcheck={false} autocomplete="off" required />
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Claim
        </button>
      </div>
    </form>
  );
}

interface BulkOutcome {
  readonly row: ClaimRow;
  readonly error?: string;
}

function ClaimMany({ onClaimed }: { onClaimed: (devEUI: string) => void }) {
  const client = useClient();
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<readonly string[]>([]);
  const [outcomes, setOutcomes] = useState<readonly BulkOutcome[]>([]);
  const [busy, setBusy] = useState(false);
  const loadFile = async (file: File | undefined) => file && setText(await file.text());
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseClaimCSV(text);
    setErrors(parsed.errors);
    setOutcomes([]);
    if (parsed.errors.length > 0 || parsed.rows.length === 0) return;
    setBusy(true);
    const done: BulkOutcome[] = [];
    for (const row of parsed.rows) {
      try {
        await claimDevice(client, row.devEUI, row.ownerToken);
        done.push({ row });
        onClaimed(row.devEUI);
      } catch (err) {
        done.push({ row, error: messageOf(err) });
      }
      setOutcomes([...done]);
    }
    setBusy(false);
  };
  const failed = outcomes.filter((o) => o.error);
  return (
    <form class="card" onSubmit={submit}>
      <h2>Claim from a CSV</h2>
      <p class="muted small">
        A header line, then one device per line: <code>dev_eui,owner_token</code>, or a <code>qr</code> column with each label's QR code text.
      </p>
      <label for="csv-file">CSV file</label>
      <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" onChange={(e) => loadFile(e.currentTarget.files?.[0])} />
      <label for="csv-text">Or paste it</label>
      <textarea id="csv-text" value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} placeholder={'dev_eui,owner_token\n0004A30B001C0530,AB12CD34EF56'} />
      {errors.length > 0 && (
        <div class="alert error" role="alert">
          Nothing was claimed:
          <ul>
            {errors.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </div>
      )}
      {outcomes.length > 0 && (
        <Alert kind={failed.length ? 'error' : 'success'}>
          {outcomes.length - failed.length} claimed, {failed.length} refused{busy ? '…' : '.'}
        </Alert>
      )}
      {failed.length > 0 && (
        <ul class="small">
          {failed.map((o) => (
            <li key={o.row.line}>
              Line {o.row.line} (<span class="mono">{o.row.devEUI}</span>): {o.error}
            </li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
          Claim all
        </button>
      </div>
    </form>
  );
}

/** Binds a claimed device to a network server (and optionally an application server). */
function Bind({ devEUI }: { devEUI: string | undefined }) {
  const client = useClient();
  // Its own network and application servers and the operator's: all that binding accepts.
  const [servers] = useLoad(() => listBindingTargets(client), []);
  const [eui, setEUI] = useState('');
  const [ns, setNS] = useState('');
  const [as, setAS] = useState('');
  const [result, setResult] = useState<{ kind: 'error' | 'success'; text: string }>();
  const target = (eui || devEUI || '').trim().toUpperCase();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await bindDevice(client, target, { networkServer: ns, applicationServer: as || null });
      setResult({ kind: 'success', text: `Device ${target} may now join through ${ns}.` });
    } catch (err) {
      setResult({ kind: 'error', text: messageOf(err) });
    }
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Bind to a network</h2>
      <Status loaded={servers}>
        {({ ns: nsList, as: asList }) =>
          nsList.length === 0 ? (
            <p class="muted">
              No network server yet: <a href={href({ page: 'networks' })}>add one</a> first.
            </p>
          ) : (
            <>
              <label for="bind-dev-eui">DevEUI</label>
              <input id="bind-dev-eui" class="mono" value={eui || devEUI || ''} onInput={(e) => setEUI(e.currentTarget.value)} required />
              <label for="bind-ns">Network server</label>
              <select id="bind-ns" value={ns} onChange={(e) => setNS(e.currentTarget.value)} required>
                <option value="">Choose…</option>
                {nsList.map((n) => (
                  <option key={n.name} value={n.name}>
                    {n.name} (NetID {n.netID}, {n.vendor}, {n.tenant})
                  </option>
                ))}
              </select>
              <label for="bind-as">Application server (optional)</label>
              <select id="bind-as" value={as} onChange={(e) => setAS(e.currentTarget.value)}>
                <option value="">None</option>
                {asList.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.name} ({a.asID}, {a.tenant})
                  </option>
                ))}
              </select>
              {result && <Alert kind={result.kind}>{result.text}</Alert>}
              <div class="actions">
                <button type="submit" class="primary" disabled={!target || !ns}>
                  Bind
                </button>
              </div>
            </>
          )
        }
      </Status>
    </form>
  );
}

import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { addApplicationServer, addNetworkServer, listApplicationServers, listNetworkServers, VENDORS, type CreatedNetworkServer, type VendorSetup } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { saveBlob, zipFiles } from '../components/download';
import { orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';
import { href } from '../router';

/** Network and application servers, and adding a network server with its credential bundle. */
export function Networks() {
  const client = useClient();
  const [ns, reloadNS] = useLoad(() => listNetworkServers(client), []);
  const [as, reloadAS] = useLoad(() => listApplicationServers(client), []);
  return (
    <>
      <div class="page-head">
        <h1>Networks</h1>
      </div>
      <div class="grid2">
        <div>
          <AddNetworkServer onAdded={reloadNS} />
          <AddApplicationServer onAdded={reloadAS} />
        </div>
        <div>
          <h2 class="section-first">Network servers</h2>
          <Status loaded={ns}>
            {(list) => (
              <DataTable
                rows={list}
                rowKey={(n) => n.name}
                empty="None yet."
                columns={[
                  { label: 'Name', cell: (n) => <a href={href({ page: 'network-server', name: n.name })}>{n.name}</a> },
                  { label: 'NetID', class: 'mono', cell: (n) => n.netID },
                  { label: 'NSID', class: 'mono', cell: (n) => orDash(n.nsID) },
                  { label: 'Vendor', cell: (n) => n.vendor },
                ]}
              />
            )}
          </Status>
          <h2>Application servers</h2>
          <Status loaded={as}>
            {(list) => (
              <DataTable
                rows={list}
                rowKey={(a) => a.name}
                empty="None yet."
                columns={[
                  { label: 'Name', cell: (a) => a.name },
                  { label: 'AS-ID', class: 'mono', cell: (a) => a.asID },
                ]}
              />
            )}
          </Status>
        </div>
      </div>
    </>
  );
}

/** `key=value` lines (the adapter's options); blank lines ignored. Throws on a line without `=`. */
export function parseOptionLines(text: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`Adapter options: "${line}" is not key=value`);
    options[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return options;
}

function AddNetworkServer({ onAdded }: { onAdded: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [netID, setNetID] = useState('');
  const [nsID, setNSID] = useState('');
  const [vendor, setVendor] = useState<string>('chirpstack');
  const [prefixes, setPrefixes] = useState('');
  const [apiUrl, setApiUrl] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [options, setOptions] = useState('');
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<CreatedNetworkServer>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const joinEUIPrefixes = prefixes.split(/[\s,]+/).filter(Boolean);
      const result = await addNetworkServer(client, {
        name: name.trim(),
        netID: netID.trim(),
        vendor,
        ...(nsID.trim() ? { nsID: nsID.trim() } : {}),
        ...(joinEUIPrefixes.length > 0 ? { joinEUIPrefixes } : {}),
        ...(apiUrl.trim() ? { adapter: { apiUrl: apiUrl.trim(), apiKey, options: parseOptionLines(options) } } : {}),
      });
      // The API key is write-only: forget it here too.
      setApiKey('');
      setCreated(result);
      download(result);
      onAdded();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card">
      <form onSubmit={submit}>
        <h2>Add a network server</h2>
        <label for="ns-vendor">Vendor</label>
        <select id="ns-vendor" value={vendor} onChange={(e) => setVendor(e.currentTarget.value)}>
          {VENDORS.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
        <label for="ns-name">Name</label>
        <input id="ns-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="my-chirpstack" required />
        <label for="ns-net-id">NetID</label>
        <input id="ns-net-id" class="mono" value={netID} onInput={(e) => setNetID(e.currentTarget.value)} placeholder="000013" required />
        <label for="ns-ns-id">NSID (optional, BI 1.1)</label>
        <input id="ns-ns-id" class="mono" value={nsID} onInput={(e) => setNSID(e.currentTarget.value)} />
        <label for="ns-prefixes">JoinEUI ranges it sends here (optional, default all)</label>
        <input id="ns-prefixes" class="mono" value={prefixes} onInput={(e) => setPrefixes(e.currentTarget.value)} placeholder="70b3d57ed0000000/40" />
        <details>
          <summary>Management API (optional: for sync and migrations)</summary>
          <label for="ns-api-url">API URL</label>
          <input id="ns-api-url" value={apiUrl} onInput={(e) => setApiUrl(e.currentTarget.value)} placeholder="http://chirpstack:8080" />
          <label for="ns-api-key">API key (kept by the server, never shown again)</label>
          <input id="ns-api-key" type="password" autocomplete="off" value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
          <label for="ns-options">Adapter options, one key=value a line</label>
          <textarea
            id="ns-options"
            class="mono"
            rows={3}
            value={options}
            onInput={(e) => setOptions(e.currentTarget.value)}
            placeholder="applicationId=…&#10;tenantId=…"
          />
        </details>
        {error && <Alert kind="error">{error}</Alert>}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Add and download its credentials
          </button>
        </div>
      </form>
      {created && (
        <>
          <Alert kind="success">
            {created.peer.name} is registered{created.adapterConfigured ? ', with its management API' : ''}. Its credential bundle
            {created.setup ? ` and ${created.peer.vendor}'s setup files` : ''} ({zipEntries(asDownload(created)).length} files) were downloaded as {created.peer.name}.zip: it holds the network server's private key and
            KEK, keep it safe.
          </Alert>
          <div class="actions">
            <button type="button" onClick={() => download(created)}>
              Download {created.peer.name}.zip again
            </button>
          </div>
          <h3>What to do with it</h3>
          {created.setup ? (
            <ol class="instructions">
              {created.setup.instructions.map((step) => (
                <li key={step}>{step}</li>
              ))}
            </ol>
          ) : (
            <pre class="instructions">{created.bundle['README.txt'] ?? 'The bundle has no README.txt.'}</pre>
          )}
        </>
      )}
    </div>
  );
}

/** Adding an application server (AppSKeyReq): its credential bundle is downloaded as a zip at once. */
function AddApplicationServer({ onAdded }: { onAdded: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [asID, setASID] = useState('');
  const [error, setError] = useState<string>();
  const [added, setAdded] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setAdded(undefined);
    try {
      const created = await addApplicationServer(client, { name: name.trim(), asID: asID.trim() });
      downloadBundle({ name: created.peer.name, vendor: null, bundle: created.bundle, setup: null });
      setAdded(`${created.peer.name} is registered. Its credential bundle was downloaded as ${created.peer.name}.zip: it holds the application server's private key and KEK, keep it safe.`);
      onAdded();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card">
      <form onSubmit={submit}>
        <h2>Add an application server</h2>
        <label for="as-name">Application server (lower-case letters, digits, -)</label>
        <input id="as-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="my-app-server" required />
        <label for="as-id">AS-ID (what it sends as SenderID)</label>
        <input id="as-id" value={asID} onInput={(e) => setASID(e.currentTarget.value)} placeholder="as.example.com" required />
        {error && <Alert kind="error">{error}</Alert>}
        {added && <Alert kind="success">{added}</Alert>}
        <div class="actions">
          <button type="submit" disabled={busy}>
            Add application server and download its credentials
          </button>
        </div>
      </form>
    </div>
  );
}

/** What a bundle download holds: the credential bundle and, when rendered, the vendor's setup. */
export interface BundleDownload {
  readonly name: string;
  readonly vendor: string | null | undefined;
  readonly bundle: Readonly<Record<string, string>>;
  readonly setup: VendorSetup | null;
}

/** The zip's files: the credential bundle, the vendor's setup files and SETUP.txt (the adapter's steps). */
function zipEntries(d: BundleDownload): Array<[string, string]> {
  const entries: Array<[string, string]> = Object.entries(d.bundle);
  if (d.setup) {
    for (const f of d.setup.files) entries.push([f.name, f.content]);
    const steps = d.setup.instructions.map((step, i) => `${i + 1}. ${step}`).join('\n');
    entries.push(['SETUP.txt', `Setting up ${d.vendor} for Joinery (${d.name})\n\n${steps}\n`]);
  }
  return entries;
}

/** Saves the bundle as `<name>.zip` (`<name>-<suffix>.zip` when given), its files under `<name>/`. */
export function downloadBundle(d: BundleDownload, suffix?: string): void {
  const files: Record<string, string> = {};
  for (const [file, content] of zipEntries(d)) files[`${d.name}/${file}`] = content;
  saveBlob(zipFiles(files), `${d.name}${suffix ? `-${suffix}` : ''}.zip`);
}

function asDownload(created: CreatedNetworkServer): BundleDownload {
  return { name: created.peer.name, vendor: created.peer.vendor, bundle: created.bundle, setup: created.setup };
}

function download(created: CreatedNetworkServer): void {
  downloadBundle(asDownload(created));
}

import { useState } from 'preact/hooks';
import { useClient } from '../app';
import { addNetworkServer, listApplicationServers, listNetworkServers, VENDORS } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { saveBlob, zipFiles } from '../components/download';
import { orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Alert, Status } from '../components/status';

/** Network and application servers, and adding a network server with its credential bundle. */
export function Networks() {
  const client = useClient();
  const [ns, reloadNS] = useLoad(() => listNetworkServers(client), []);
  const [as] = useLoad(() => listApplicationServers(client), []);
  return (
    <>
      <div class="page-head">
        <h1>Networks</h1>
      </div>
      <div class="grid2">
        <AddNetworkServer onAdded={reloadNS} />
        <div>
          <h2 class="section-first">Network servers</h2>
          <Status loaded={ns}>
            {(list) => (
              <DataTable
                rows={list}
                rowKey={(n) => n.name}
                empty="None yet."
                columns={[
                  { label: 'Name', cell: (n) => n.name },
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

function AddNetworkServer({ onAdded }: { onAdded: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [netID, setNetID] = useState('');
  const [nsID, setNSID] = useState('');
  const [vendor, setVendor] = useState<string>('chirpstack');
  const [error, setError] = useState<string>();
  const [bundle, setBundle] = useState<{ name: string; files: Readonly<Record<string, string>> }>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await addNetworkServer(client, { name: name.trim(), netID: netID.trim(), vendor, ...(nsID.trim() ? { nsID: nsID.trim() } : {}) });
      setBundle({ name: created.peer.name, files: created.bundle });
      download(created.peer.name, created.bundle);
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
        {error && <Alert kind="error">{error}</Alert>}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Add and download its credentials
          </button>
        </div>
      </form>
      {bundle && (
        <>
          <Alert kind="success">
            {bundle.name} is registered. Its credential bundle ({Object.keys(bundle.files).length} files) was downloaded as {bundle.name}.zip: it holds the
            network server's private key and KEK, keep it safe.
          </Alert>
          <div class="actions">
            <button type="button" onClick={() => download(bundle.name, bundle.files)}>
              Download {bundle.name}.zip again
            </button>
          </div>
          <h3>What to do with it</h3>
          <pre class="instructions">{bundle.files['README.txt'] ?? 'The bundle has no README.txt.'}</pre>
        </>
      )}
    </div>
  );
}

function download(name: string, bundle: Readonly<Record<string, string>>): void {
  const files: Record<string, string> = {};
  for (const [file, content] of Object.entries(bundle)) files[`${name}/${file}`] = content;
  saveBlob(zipFiles(files), `${name}.zip`);
}

import { useState } from 'preact/hooks';
import { useClient } from '../app';
import { addNetworkServer, listApplicationServers, listNetworkServers, VENDORS, type CredentialBundle } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { saveBlob, zipFiles } from '../components/download';
import { orDash } from '../components/format';
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
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>NetID</th>
                      <th>NSID</th>
                      <th>Vendor</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.length === 0 && (
                      <tr>
                        <td class="empty" colSpan={4}>
                          None yet.
                        </td>
                      </tr>
                    )}
                    {list.map((n) => (
                      <tr key={n.name}>
                        <td>{n.name}</td>
                        <td class="mono">{n.netID}</td>
                        <td class="mono">{orDash(n.nsID)}</td>
                        <td>{n.vendor}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Status>
          <h2>Application servers</h2>
          <Status loaded={as}>
            {(list) => (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>AS-ID</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.length === 0 && (
                      <tr>
                        <td class="empty" colSpan={2}>
                          None yet.
                        </td>
                      </tr>
                    )}
                    {list.map((a) => (
                      <tr key={a.name}>
                        <td>{a.name}</td>
                        <td class="mono">{a.asID}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
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
  const [bundle, setBundle] = useState<{ name: string; value: CredentialBundle }>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const value = await addNetworkServer(client, { name: name.trim(), netID: netID.trim(), vendor, ...(nsID.trim() ? { nsID: nsID.trim() } : {}) });
      setBundle({ name: name.trim(), value });
      download(name.trim(), value);
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
            {bundle.name} is registered. Its credential bundle ({Object.keys(bundle.value.files).length} files) was downloaded as {bundle.name}.zip: it holds the
            network server's private key and KEK, keep it safe.
          </Alert>
          <div class="actions">
            <button type="button" onClick={() => download(bundle.name, bundle.value)}>
              Download {bundle.name}.zip again
            </button>
          </div>
          <h3>What to do with it</h3>
          <pre class="instructions">{bundle.value.instructions}</pre>
        </>
      )}
    </div>
  );
}

function download(name: string, bundle: CredentialBundle): void {
  const files: Record<string, string> = {};
  for (const [file, content] of Object.entries(bundle.files)) files[`${name}/${file}`] = content;
  saveBlob(zipFiles(files), `${name}.zip`);
}

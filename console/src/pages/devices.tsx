import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../app';
import { listDevices, type Device } from '../api/endpoints';
import { useLoad } from '../components/async';
import { formatTime, orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Status } from '../components/status';
import { href } from '../router';

const PAGE_SIZE = 25;

export function bindingText(d: Device): string {
  if (!d.networkServer) return d.claimed ? 'not bound' : 'not claimed';
  return [d.networkServer, d.applicationServer ? `AS ${d.applicationServer}` : undefined, d.locked ? 'locked' : undefined].filter(Boolean).join(' · ');
}

/** What the search box takes: hex digits of a DevEUI or JoinEUI prefix (separators and 0x ignored). */
export function searchPrefix(text: string): string | null {
  const hex = text.trim().replace(/^0x/i, '').replace(/[\s:-]/g, '');
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? hex.toLowerCase() : null;
}

/** Every device of the tenant: searched and paged by the server (DevEUI or JoinEUI prefix). */
export function Devices() {
  const client = useClient();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  // Search as one types, a moment after the last key.
  useEffect(() => {
    const t = setTimeout(() => {
      setQuery(search.trim());
      setOffset(0);
    }, 250);
    return () => clearTimeout(t);
  }, [search]);
  const prefix = searchPrefix(query);
  const [page] = useLoad(
    async () => (query && !prefix ? { devices: [], total: 0 } : listDevices(client, { limit: PAGE_SIZE, offset, ...(prefix ? { q: prefix } : {}) })),
    [query, offset],
  );
  return (
    <>
      <div class="page-head">
        <h1>Devices</h1>
        <a href="#/claim">Claim devices</a>
      </div>
      <div class="toolbar">
        <input type="search" placeholder="DevEUI or JoinEUI (first hex digits)" aria-label="Search devices" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
      </div>
      {query && !prefix && <p class="muted small">Search by the first hex digits of a DevEUI or JoinEUI (up to 16).</p>}
      <Status loaded={page}>
        {(p) => (
          <>
            <DataTable
              rows={p.devices}
              rowKey={(d) => d.devEUI}
              empty={query ? 'No device matches.' : 'No devices yet.'}
              columns={[
                { label: 'DevEUI', class: 'mono', cell: (d) => <a href={href({ page: 'device', devEUI: d.devEUI })}>{d.devEUI}</a> },
                { label: 'JoinEUI', class: 'mono', cell: (d) => d.joinEUI },
                { label: 'MAC version', cell: (d) => d.macVersion },
                { label: 'Owner', cell: (d) => orDash(d.owner) },
                { label: 'Binding', cell: bindingText },
                { label: 'Last join', cell: (d) => formatTime(d.lastJoinAt) },
                { label: 'Last network', cell: (d) => orDash(d.lastJoinNetworkServer) },
              ]}
            />
            <div class="pager">
              <span class="muted small">
                {p.total === 0 ? '0 devices' : `${offset + 1}–${offset + p.devices.length} of ${p.total}`}
              </span>
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
                Previous
              </button>
              <button type="button" disabled={offset + PAGE_SIZE >= p.total} onClick={() => setOffset(offset + PAGE_SIZE)}>
                Next
              </button>
            </div>
          </>
        )}
      </Status>
    </>
  );
}

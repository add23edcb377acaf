import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../app';
import type { ApiClient } from '../api/client';
import { listDevices, SEARCH_LIMIT, type Device, type DevicePage } from '../api/endpoints';
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

function matches(d: Device, q: string): boolean {
  const needle = q.toLowerCase().replace(/^0x/, '');
  return [d.devEUI, d.joinEUI, d.owner ?? '', d.networkServer ?? '', d.lastJoinNetworkServer ?? ''].some((v) => v.toLowerCase().includes(needle));
}

/**
 * A page of devices. The list route pages in DevEUI order and filters by network server only,
 * so a search looks through the tenant's first SEARCH_LIMIT devices here, in the browser.
 */
async function devicePage(client: ApiClient, query: string, limit: number, offset: number): Promise<DevicePage> {
  if (!query) return listDevices(client, { limit, offset });
  const all = (await listDevices(client, { limit: SEARCH_LIMIT, offset: 0 })).devices.filter((d) => matches(d, query));
  return { devices: all.slice(offset, offset + limit), total: all.length };
}

/** Every device of the tenant: searchable, paged. */
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
  const [page] = useLoad(() => devicePage(client, query, PAGE_SIZE, offset), [query, offset]);
  return (
    <>
      <div class="page-head">
        <h1>Devices</h1>
        <a href="#/claim">Claim devices</a>
      </div>
      <div class="toolbar">
        <input type="search" placeholder="Search DevEUI, JoinEUI, owner or network" aria-label="Search devices" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
      </div>
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

import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../app';
import { listDevices, type DeviceSummary } from '../api/endpoints';
import { useLoad } from '../components/async';
import { formatTime, orDash } from '../components/format';
import { Status } from '../components/status';
import { href } from '../router';

const PAGE_SIZE = 25;

export function bindingText(d: DeviceSummary): string {
  const b = d.binding;
  if (!b) return '—';
  const parts = [b.networkServer ?? (b.netID ? `NetID ${b.netID}` : undefined), b.applicationServer ? `AS ${b.applicationServer}` : undefined].filter(Boolean);
  return parts.length ? parts.join(' · ') : '—';
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
  const [page] = useLoad(() => listDevices(client, { search: query || undefined, limit: PAGE_SIZE, offset }), [query, offset]);
  return (
    <>
      <div class="page-head">
        <h1>Devices</h1>
        <a href="#/claim">Claim devices</a>
      </div>
      <div class="toolbar">
        <input type="search" placeholder="Search DevEUI, JoinEUI or owner" aria-label="Search devices" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
      </div>
      <Status loaded={page}>
        {(p) => (
          <>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>DevEUI</th>
                    <th>JoinEUI</th>
                    <th>MAC version</th>
                    <th>Owner</th>
                    <th>Binding</th>
                    <th>Last join</th>
                    <th>Last network</th>
                  </tr>
                </thead>
                <tbody>
                  {p.items.length === 0 && (
                    <tr>
                      <td class="empty" colSpan={7}>
                        {query ? 'No device matches.' : 'No devices yet.'}
                      </td>
                    </tr>
                  )}
                  {p.items.map((d) => (
                    <tr key={d.devEUI}>
                      <td class="mono">
                        <a href={href({ page: 'device', devEUI: d.devEUI })}>{d.devEUI}</a>
                      </td>
                      <td class="mono">{d.joinEUI}</td>
                      <td>{d.macVersion}</td>
                      <td>{orDash(d.owner)}</td>
                      <td>{bindingText(d)}</td>
                      <td>{formatTime(d.lastJoinAt)}</td>
                      <td>{orDash(d.lastNetwork)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="pager">
              <span class="muted small">
                {p.total === 0 ? '0 devices' : `${offset + 1}–${offset + p.items.length} of ${p.total}`}
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

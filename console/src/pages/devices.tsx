import { useEffect, useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { listBindingTargets, listDevices, type Device, type DeviceQuery } from '../api/endpoints';
import { saveBlob } from '../components/download';
import { useLoad } from '../components/async';
import { formatTime, orDash } from '../components/format';
import { DataTable } from '../components/data-table';
import { Status } from '../components/status';
import { JoinRateChart } from '../components/join-rate-chart';
import { href } from '../router';

const PAGE_SIZE = 25;

export function bindingText(d: Device): string {
  if (!d.networkServer) return d.claimed ? 'not bound' : 'not claimed';
  return [d.networkServer, d.applicationServer ? `AS ${d.applicationServer}` : undefined, d.locked ? 'locked' : undefined].filter(Boolean).join(' · ');
}

/** What the search box takes: hex digits of a DevEUI or JoinEUI prefix (separators and 0x ignored). */
export function searchPrefix(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^0x/i, '')
    .replace(/[\s:-]/g, '');
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? hex.toLowerCase() : null;
}

/** The device list's filters, as the admin API's query takes them. */
const STATES: Readonly<Record<string, Pick<DeviceQuery, 'claimed' | 'bound'>>> = {
  any: {},
  bound: { claimed: true, bound: true },
  unbound: { claimed: true, bound: false },
  unclaimed: { claimed: false },
};
const MAC_VERSIONS = ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.1'];

const CSV_COLUMNS: ReadonlyArray<readonly [string, (d: Device) => string | boolean | null]> = [
  ['dev_eui', (d) => d.devEUI],
  ['join_eui', (d) => d.joinEUI],
  ['mac_version', (d) => d.macVersion],
  ['owner', (d) => d.owner],
  ['network_server', (d) => d.networkServer],
  ['application_server', (d) => d.applicationServer],
  ['locked', (d) => d.locked],
  ['last_join_at', (d) => d.lastJoinAt],
  ['last_join_network_server', (d) => d.lastJoinNetworkServer],
];

/** The devices as CSV (identities, binding, last join: never a key), one line each. */
export function devicesCSV(devices: readonly Device[]): string {
  const cell = (v: string | boolean | null): string => (v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return `${[CSV_COLUMNS.map(([h]) => h).join(','), ...devices.map((d) => CSV_COLUMNS.map(([, f]) => cell(f(d))).join(','))].join('\n')}\n`;
}

/** Every device of the tenant: searched, filtered and paged by the server (DevEUI or JoinEUI prefix, state, network server, MAC version). */
export function Devices() {
  const client = useClient();
  const [search, setSearch] = useState('');
  const [state, setState] = useState('any');
  const [networkServer, setNetworkServer] = useState('');
  const [macVersion, setMacVersion] = useState('');
  const [targets] = useLoad(() => listBindingTargets(client), []);
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
  const filters: Omit<DeviceQuery, 'limit' | 'offset'> = {
    ...(prefix ? { q: prefix } : {}),
    ...STATES[state],
    ...(networkServer ? { networkServer } : {}),
    ...(macVersion ? { macVersion } : {}),
  };
  const filtered = state !== 'any' || networkServer !== '' || macVersion !== '';
  const [page] = useLoad(async () => (query && !prefix ? { devices: [], total: 0 } : listDevices(client, { limit: PAGE_SIZE, offset, ...filters })), [query, offset, state, networkServer, macVersion]);
  const filter = (set: (v: string) => void) => (e: Event) => {
    set((e.currentTarget as HTMLSelectElement).value);
    setOffset(0);
  };
  /** Every device the filters match, a page of the API at a time. */
  const exportCSV = async (): Promise<void> => {
    const all: Device[] = [];
    for (let total = Infinity; all.length < total;) {
      const p = await listDevices(client, { limit: 10_000, offset: all.length, ...filters });
      total = p.total;
      all.push(...p.devices);
      if (p.devices.length === 0) break;
    }
    saveBlob(new Blob([devicesCSV(all)], { type: 'text/csv' }), 'joinery-devices.csv');
  };
  return (
    <>
      <div class="page-head">
        <h1>Devices</h1>
        <a href="#/claim">Claim devices</a>
      </div>
      <JoinRateChart />
      <div class="toolbar">
        <input type="search" placeholder="DevEUI or JoinEUI (first hex digits)" aria-label="Search devices" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <select aria-label="State" value={state} onChange={filter(setState)}>
          <option value="any">Any state</option>
          <option value="bound">Bound</option>
          <option value="unbound">Claimed, not bound</option>
          <option value="unclaimed">Not claimed</option>
        </select>
        <select aria-label="Network server" value={networkServer} onChange={filter(setNetworkServer)}>
          <option value="">Any network server</option>
          {targets.state === 'ready' &&
            targets.value.ns.map((n) => (
              <option key={n.name} value={n.name}>
                {n.name}
              </option>
            ))}
        </select>
        <select aria-label="MAC version" value={macVersion} onChange={filter(setMacVersion)}>
          <option value="">Any MAC version</option>
          {MAC_VERSIONS.map((v) => (
            <option key={v} value={v}>
              LoRaWAN {v}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void exportCSV()}>
          Download CSV
        </button>
      </div>
      {query && !prefix && <p class="muted small">Search by the first hex digits of a DevEUI or JoinEUI (up to 16).</p>}
      <Status loaded={page}>
        {(p) => (
          <>
            <DataTable
              rows={p.devices}
              rowKey={(d) => d.devEUI}
              empty={query || filtered ? 'No device matches.' : 'No devices yet.'}
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
              <span class="muted small">{p.total === 0 ? '0 devices' : `${offset + 1}–${offset + p.devices.length} of ${p.total}`}</span>
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

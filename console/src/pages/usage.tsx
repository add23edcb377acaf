import { useClient } from '../app';
import { usage, usageCSV } from '../api/endpoints';
import { useLoad } from '../components/async';
import { BarChart } from '../components/charts';
import { saveBlob } from '../components/download';
import { Status } from '../components/status';

/** Devices activated (first successful join) per month: what a per-device fee is charged on. */
export function Usage() {
  const client = useClient();
  const [months] = useLoad(() => usage(client), []);
  return (
    <>
      <div class="page-head">
        <h1>Usage</h1>
        <button type="button" onClick={async () => saveBlob(await usageCSV(client), 'joinery-usage.csv')}>
          Download CSV
        </button>
      </div>
      <Status loaded={months}>
        {(list) => (
          <>
            <div class="card">
              <h2>Devices activated per month</h2>
              {list.length === 0 ? <p class="muted">No device has joined yet.</p> : <BarChart label="Devices activated per month" data={list.map((m) => ({ label: m.month, value: m.activated }))} />}
            </div>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Month</th>
                    <th>Devices activated</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((m) => (
                    <tr key={m.month}>
                      <td>{m.month}</td>
                      <td>{m.activated}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Status>
    </>
  );
}

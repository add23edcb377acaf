import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { listAudit, verifyAudit, type AuditEntry, type AuditVerification } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { DataTable } from '../components/data-table';
import { formatTime, orDash } from '../components/format';
import { Alert, Status } from '../components/status';
import { searchPrefix } from './devices';

/**
 * The audit log: who did what to which device, for which tenant, from where, when; newest
 * first. A tenant sees the entries made on its behalf, the operator every entry and may verify
 * the hash chain of the whole log.
 */
export function Audit({ operator }: { operator: boolean }) {
  const client = useClient();
  const [devEUI, setDevEUI] = useState('');
  const eui = devEUI.trim() === '' ? null : searchPrefix(devEUI);
  const exact = eui !== null && eui.length === 16 ? eui : undefined;
  const [entries] = useLoad(() => listAudit(client, { limit: 200, ...(exact ? { devEUI: exact } : {}) }), [exact]);
  const [check, setCheck] = useState<{ kind: 'success' | 'error'; text: string }>();
  const verify = async (): Promise<void> => {
    try {
      const v: AuditVerification = await verifyAudit(client);
      setCheck(
        v.ok
          ? { kind: 'success', text: `Audit log verified: ${v.entries} entries, hash chain intact.` }
          : { kind: 'error', text: `The audit log was altered at entry ${v.badID}: ${v.reason} (${v.entries} entries before it verified).` },
      );
    } catch (err) {
      setCheck({ kind: 'error', text: messageOf(err) });
    }
  };
  return (
    <>
      <div class="page-head">
        <h1>Audit log</h1>
      </div>
      <div class="toolbar">
        <input type="search" placeholder="DevEUI (16 hex digits)" aria-label="Only this device" value={devEUI} onInput={(e) => setDevEUI(e.currentTarget.value)} />
        {operator && (
          <button type="button" onClick={() => void verify()}>
            Verify the hash chain
          </button>
        )}
      </div>
      {check && <Alert kind={check.kind}>{check.text}</Alert>}
      <Status loaded={entries}>
        {(list) => (
          <DataTable
            rows={list.map((e, i) => ({ ...e, position: i }))}
            rowKey={(e: AuditEntry & { position: number }) => String(e.position)}
            empty="No entry."
            columns={[
              { label: 'Time', cell: (e) => formatTime(e.at) },
              { label: 'Action', cell: (e) => e.action },
              { label: 'Actor', cell: (e) => e.actor },
              { label: 'Tenant', cell: (e) => orDash(e.tenantID) },
              { label: 'From', cell: (e) => orDash(e.source) },
              { label: 'DevEUI', class: 'mono', cell: (e) => orDash(e.devEUI) },
              { label: 'Detail', class: 'small detail', cell: (e) => JSON.stringify(e.detail) },
            ]}
          />
        )}
      </Status>
    </>
  );
}

import { useState } from 'preact/hooks';
import { useClient } from '../client-context';
import { createApiKey, listApiKeys, listTenants, revokeApiKey, SCOPES, type Identity } from '../api/endpoints';
import { messageOf, useLoad } from '../components/async';
import { ConfirmButton } from '../components/confirm-button';
import { DataTable } from '../components/data-table';
import { formatTime, orDash } from '../components/format';
import { Alert, Status } from '../components/status';

const SCOPE_HINTS: Readonly<Record<(typeof SCOPES)[number], string>> = {
  'devices:read': 'read devices, joins, usage and the audit log',
  'devices:write': 'import, bind, unclaim, transfer and delete devices',
  claims: 'claim devices with their owner token',
  peers: 'add and manage network and application servers',
  admin: "manage the tenant's API keys (the operator's: every tenant, migrations)",
};

/** Copies the text to the clipboard; false where the browser does not allow it. */
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tenant's API keys (the operator: any tenant's): listed without their secrets, a new one
 * made (its secret shown this once, with a copy button; the server keeps only its hash), and
 * revoked at once. Needs a key with the admin scope.
 */
export function ApiKeys({ identity, operator }: { identity: Identity | undefined; operator: boolean }) {
  const client = useClient();
  const own = identity?.tenant.id ?? '';
  const [tenant, setTenant] = useState(own);
  const current = tenant || own;
  const [tenants] = useLoad(() => (operator ? listTenants(client) : Promise.resolve([])), [operator]);
  const [keys, reload] = useLoad(() => (current ? listApiKeys(client, current) : Promise.resolve([])), [current]);
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<readonly string[]>(['devices:read']);
  const [secret, setSecret] = useState<{ readonly id: string; readonly key: string }>();
  const [copied, setCopied] = useState<boolean>();
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const create = async (e: Event) => {
    e.preventDefault();
    if (scopes.length === 0) return setError('Choose at least one permission for the key.');
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    setCopied(undefined);
    try {
      const made = await createApiKey(client, current, scopes, label.trim());
      setSecret({ id: made.apiKey.id, key: made.key });
      setLabel('');
      reload();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const toggle = (scope: string) => setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope]);

  return (
    <>
      <div class="page-head">
        <h1>API keys</h1>
      </div>
      {operator && (
        <div class="toolbar">
          <select aria-label="Tenant" value={current} onChange={(e) => (setTenant(e.currentTarget.value), setSecret(undefined), setDone(undefined))}>
            {tenants.state === 'ready' &&
              tenants.value.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name === t.id ? t.id : `${t.name} (${t.id})`}
                </option>
              ))}
          </select>
        </div>
      )}
      {secret && (
        <div class="card" role="status" aria-label="New API key">
          <p>
            <strong>The new key's secret, shown only this once.</strong> Copy it now: Joinery keeps only its hash, and it cannot be shown again.
          </p>
          <div class="secret-row">
            <input class="mono" readOnly aria-label="New API key secret" value={secret.key} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" class="primary" onClick={async () => setCopied(await copy(secret.key))}>
              Copy
            </button>
            <button type="button" onClick={() => (setSecret(undefined), setCopied(undefined))}>
              Done
            </button>
          </div>
          {copied === true && <p class="muted small">Copied to the clipboard.</p>}
          {copied === false && <p class="muted small">This browser did not allow copying: select the key and copy it by hand.</p>}
        </div>
      )}
      {done && <Alert kind="success">{done}</Alert>}
      {error && <Alert kind="error">{error}</Alert>}
      <Status loaded={keys}>
        {(list) => (
          <DataTable
            rows={list}
            rowKey={(k) => k.id}
            empty="No API key."
            columns={[
              { label: 'Key ID', class: 'mono', cell: (k) => k.id },
              { label: 'Label', cell: (k) => (identity?.actor === `api-key:${k.id}` ? `${orDash(k.label)} (this session)` : orDash(k.label)) },
              { label: 'Permissions', class: 'wrap', cell: (k) => k.scopes.join(', ') },
              { label: 'Created', cell: (k) => formatTime(k.createdAt) },
              { label: 'State', cell: (k) => (k.revokedAt ? <span class="badge bad">revoked {formatTime(k.revokedAt)}</span> : <span class="badge ok">active</span>) },
              {
                label: 'Actions',
                cell: (k) =>
                  k.revokedAt ? (
                    '—'
                  ) : (
                    <ConfirmButton
                      label="Revoke"
                      title={`Revoke key ${k.id}?`}
                      confirmLabel="Revoke"
                      danger
                      onConfirm={async () => {
                        await revokeApiKey(client, current, k.id);
                        // The key this console uses: signed out (the stored key no longer signs in).
                        if (identity?.actor === `api-key:${k.id}`) return location.reload();
                        setDone(`Key ${k.id} is revoked: it is refused from now on.`);
                        if (secret?.id === k.id) setSecret(undefined);
                        reload();
                      }}
                    >
                      <p>
                        Every request with this key is refused from now on, on every instance.
                        {identity?.actor === `api-key:${k.id}` ? ' It is the key this console is signed in with: you will be signed out.' : ''}
                      </p>
                    </ConfirmButton>
                  ),
              },
            ]}
          />
        )}
      </Status>
      <form class="card" onSubmit={create}>
        <h2>New API key for {current}</h2>
        <label for="key-label">Label (what it is for)</label>
        <input id="key-label" value={label} maxLength={200} onInput={(e) => setLabel(e.currentTarget.value)} />
        <fieldset class="scopes">
          <legend>Permissions</legend>
          {SCOPES.map((scope) => (
            <label key={scope} class="check">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> <span class="mono">{scope}</span> <span class="muted small">{SCOPE_HINTS[scope]}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </form>
    </>
  );
}

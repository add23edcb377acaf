import { useState } from 'preact/hooks';
import { ApiClient, ApiError } from '../api/client';
import { whoami, type Identity } from '../api/endpoints';
import { Alert } from '../components/status';
import { messageOf } from '../components/async';

/** Sign-in with an API key: checked against the API before it is kept for this tab. */
export function SignIn({ onSignedIn }: { onSignedIn: (apiKey: string, identity: Identity) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = apiKey.trim();
    if (!key) return setError('Paste an API key.');
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(key, await whoami(new ApiClient(key)));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This API key is not valid (unknown, revoked or mistyped).' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit}>
        <h1>Joinery</h1>
        <p class="muted">Sign in with an API key of your tenant. It is kept in this browser tab only, until you sign out or close the tab.</p>
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck={false} placeholder="jny_…" value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} required />
        <p class="muted">
          No key yet? On the Joinery host, <code>joinery tenants add --id ops --roles admin</code> prints one for a new admin tenant, and <code>joinery api-keys create --tenant TENANT --scopes SCOPES</code> makes more
          for a tenant.
        </p>
        {error && <Alert kind="error">{error}</Alert>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

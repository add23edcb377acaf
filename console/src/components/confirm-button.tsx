import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { messageOf } from './async';
import { Alert } from './status';

/**
 * A button that asks first: a modal dialog says what will happen, optionally asks for a
 * reason, and only "Confirm" acts.
 */
export function ConfirmButton(props: { label: string; title: string; children: ComponentChildren; confirmLabel: string; askReason?: boolean; danger?: boolean; onConfirm: (reason: string) => Promise<void> }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm(reason.trim());
      dialog.current?.close();
      setReason('');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={props.danger ? 'danger' : undefined} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} aria-label={props.title}>
        <h2>{props.title}</h2>
        {props.children}
        {props.askReason && (
          <>
            <label for="confirm-reason">Reason (kept in the audit log)</label>
            <input id="confirm-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </>
        )}
        {error && <Alert kind="error">{error}</Alert>}
        <div class="actions">
          <button type="button" class={props.danger ? 'danger primary' : 'primary'} disabled={busy || (props.askReason === true && reason.trim() === '')} onClick={confirm}>
            {props.confirmLabel}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}

import type { ComponentChildren } from 'preact';
import type { Loaded } from './async';

/** A loading line, an error box, or the content once loaded. */
export function Status<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <p class="muted">Loading…</p>;
  if (loaded.state === 'error')
    return (
      <p class="alert error" role="alert">
        {loaded.message}
      </p>
    );
  return <>{children(loaded.value)}</>;
}

export function Alert({ kind, children }: { kind: 'error' | 'success' | 'info'; children: ComponentChildren }) {
  return (
    <p class={`alert ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

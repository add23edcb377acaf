import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'error'; readonly message: string } | { readonly state: 'ready'; readonly value: T };

/**
 * Loads `load()` when the dependencies change; `reload` loads again. What was loaded for other
 * dependencies is never shown for these: until their own answer arrives the state is loading
 * (a page that moves from one network server to another never shows the first one's data under
 * the second one's name). A reload keeps showing the last answer until the new one arrives.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<{ readonly deps: readonly unknown[]; readonly loaded: Loaded<T> }>({ deps, loaded: { state: 'loading' } });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResult({ deps, loaded: { state: 'ready', value } }),
      (err: unknown) => live && setResult({ deps, loaded: { state: 'error', message: messageOf(err) } }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [sameDeps(result.deps, deps) ? result.loaded : { state: 'loading' }, reload];
}

function sameDeps(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient } from './api/client';

/** The signed-in API client, provided by the app around the pages. */
export const ClientContext = createContext<ApiClient | undefined>(undefined);

/** The signed-in API client (pages are only rendered once signed in). */
export function useClient(): ApiClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('not signed in');
  return client;
}

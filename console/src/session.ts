/**
 * The API key lives in this tab's session storage only: gone when the tab closes, never in a
 * URL, a cookie or local storage, and never written to the console.
 */
const STORAGE_KEY = 'joinery.apiKey';

export function storedApiKey(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function storeApiKey(apiKey: string): void {
  sessionStorage.setItem(STORAGE_KEY, apiKey);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

import { AdapterError, type AdapterOperation, type MACVersion } from '@joinery/core';

/*
 * What LORIOT's NWK REST API (its public OpenAPI 5.0) leaves open, decided here and only here.
 * That document lists only 400, 401 and 403 as error statuses: a duplicate or an unknown device
 * may come back as 409 / 404, or as 400 with a message. The messages below are inferred (the
 * document gives none); a 400 that matches neither is a plain error.
 */

const DUPLICATE = /already|exists|duplicate|in use|registered/i;
const UNKNOWN = /not found|unknown|no such|does not exist|doesn't exist|not exist/i;

/** LORIOT error bodies: `{error}` or `{message}` (inference: both appear in its examples). */
export function loriotError(data: unknown): string | undefined {
  if (typeof data === 'string') return data.trim() === '' ? undefined : data.trim().slice(0, 500);
  const d = data as { error?: unknown; message?: unknown } | null | undefined;
  const m = typeof d?.error === 'string' ? d.error : typeof d?.message === 'string' ? d.message : undefined;
  return m?.slice(0, 500);
}

/** A create's answer says the device is already there: 409, or 400 saying so. */
export function isDuplicate(res: { readonly status: number; readonly data: unknown }): boolean {
  return res.status === 409 || (res.status === 400 && DUPLICATE.test(loriotError(res.data) ?? ''));
}

/** A device call's answer says there is no such device: 404, or 400 saying so. */
export function isUnknown(res: { readonly status: number; readonly data: unknown }): boolean {
  return res.status === 404 || (res.status === 400 && UNKNOWN.test(loriotError(res.data) ?? ''));
}

/**
 * The LoRaWAN version as LORIOT's own migration tool sends it: `L2Version {major, minor, patch}`
 * and `devVersion` (its format inferred: the version as written, e.g. "1.0.4").
 */
export function loriotVersion(macVersion: MACVersion): { L2Version: { major: number; minor: number; patch: number }; devVersion: string } {
  const [major = 1, minor = 0, patch = 0] = macVersion.split('.').map(Number);
  return { L2Version: { major, minor, patch }, devVersion: macVersion };
}

/** A 400 the adapter let through to read it, and that is neither a duplicate nor an unknown device: the error it is. */
export function badRequest(operation: AdapterOperation, res: { readonly status: number; readonly data: unknown }): AdapterError {
  return new AdapterError({ vendor: 'loriot', operation, status: res.status, retryable: false, message: loriotError(res.data) ?? `HTTP ${res.status}` });
}

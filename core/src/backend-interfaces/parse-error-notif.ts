import { parseResultCode, type ResultCode } from './result-code';

/** What a peer's ErrorNotif says went wrong: its result code (unknown codes read as `Other`) and Description (at most 512 characters). Never fails. */
export function parseErrorNotif(body: Record<string, unknown>): { readonly notified: ResultCode; readonly description: string | undefined } {
  const result = (typeof body['Result'] === 'object' && body['Result'] !== null ? body['Result'] : {}) as Record<string, unknown>;
  return {
    notified: parseResultCode(result['ResultCode']),
    description: typeof result['Description'] === 'string' ? result['Description'].slice(0, 512) : undefined,
  };
}

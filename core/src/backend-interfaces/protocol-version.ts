/** Backend Interfaces protocol versions (TS002 1.0 and 1.1). Answers use the request's version. */
export type ProtocolVersion = '1.0' | '1.1';

export function parseProtocolVersion(value: unknown): ProtocolVersion | null {
  if (typeof value !== 'string') return null;
  const s = value.trim();
  if (s === '1.0' || s === '1.0.0') return '1.0';
  if (s === '1.1' || s === '1.1.0') return '1.1';
  return null;
}

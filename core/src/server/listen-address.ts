import { ParseError } from '../lorawan/parse-error';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). Port 0 picks a free port. */
export function parseListenAddress(value: string, field: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ParseError(field, `expected host:port (e.g. 127.0.0.1:8003 or [::1]:8003), got "${value}"`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

import * as os from 'node:os';
import { ParseError } from '../../lorawan/parse-error';

/** A PostgreSQL schema Joinery may use: lower-case, so it never needs quoting, and at most 63 bytes. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Where a PostgreSQL store lives, parsed from `postgres://user@host:port/db?schema=...`. */
export interface PostgresLocation {
  /** The URL handed to node-postgres: Joinery's own parameters removed, the schema as `options`. */
  readonly connectionString: string;
  /** The schema Joinery's tables live in; null = the server's default (usually `public`). */
  readonly schema: string | null;
  /** Connections in the pool. */
  readonly poolSize: number;
  /** The URL without its password, for messages. */
  readonly display: string;
}

export interface PostgresLocationOptions {
  /** The schema (overrides `?schema=` in the URL). */
  readonly schema?: string;
  /** Pool size (overrides `?pool_size=`); default 10. */
  readonly poolSize?: number;
}

export const DEFAULT_POOL_SIZE = 10;

/**
 * Parses a store URL. Joinery's own query parameters, `schema` and `pool_size`, are taken out;
 * every other one (`sslmode`, `application_name`, `options`...) goes to node-postgres as is.
 * The schema is set per connection with `options=-c search_path=<schema>`, which PostgreSQL
 * and CockroachDB both accept at connection time. The password never appears in an error.
 */
export function parsePostgresLocation(url: string, options: PostgresLocationOptions = {}): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ParseError('--store', 'not a valid postgres:// URL; expected postgres://user@host:port/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ParseError('--store', `expected a postgres:// or postgresql:// URL, got ${parsed.protocol}//...`);
  }
  const display = displayURL(parsed);
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new ParseError('--store', `${display}: no host; expected postgres://user@host:port/database`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new ParseError('--store', `${display}: no database name; expected postgres://user@host:port/database`);
  }

  const schema = options.schema ?? nonEmpty(parsed.searchParams.get('schema'));
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new ParseError('schema', `"${schema}" is not a usable schema name: lower-case letters, digits and _, not starting with a digit, at most 63`);
  }
  const poolText = nonEmpty(parsed.searchParams.get('pool_size'));
  const poolSize = options.poolSize ?? (poolText === null ? DEFAULT_POOL_SIZE : Number(poolText));
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new ParseError('pool_size', `expected an integer 1..1000, got ${poolText ?? String(options.poolSize)}`);
  }

  const forDriver = new URL(parsed.href);
  forDriver.searchParams.delete('schema');
  forDriver.searchParams.delete('pool_size');
  if (schema !== null) {
    const existing = nonEmpty(forDriver.searchParams.get('options'));
    forDriver.searchParams.set('options', `${existing === null ? '' : `${existing} `}-c search_path=${schema}`);
  }
  if (!forDriver.searchParams.has('application_name')) forDriver.searchParams.set('application_name', 'joinery');
  // No user in the URL: PGUSER, else the operating-system user, as psql and libpq do (node-postgres
  // would otherwise send an empty user name).
  if (forDriver.username === '' && !forDriver.searchParams.has('user')) forDriver.username = encodeURIComponent(defaultUser());
  return { connectionString: forDriver.href, schema, poolSize, display };
}

function defaultUser(): string {
  const fromEnv = process.env['PGUSER'];
  if (fromEnv) return fromEnv;
  try {
    return os.userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** `postgres://user@host:port/db` with the password (and the query) left out. */
function displayURL(u: URL): string {
  const user = u.username === '' ? '' : `${u.username}@`;
  return `${u.protocol}//${user}${u.host}${u.pathname}`;
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}

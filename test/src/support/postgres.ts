import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The PostgreSQL server the tests use: this machine's (127.0.0.1:5432, trust auth, user
 * postgres). `JOINERY_TEST_POSTGRES` overrides the URL of the maintenance database, through
 * which each test file creates, and at the end drops, a database of its own.
 */
export const ADMIN_URL = process.env['JOINERY_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  /** `postgres://.../<name>`: the new database. */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`the tests need PostgreSQL at ${ADMIN_URL.replace(/:[^:@/]*@/, ':***@')} (trust auth): ${(err as Error).message}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database `joinery_test_<random>` (the caller drops it). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `joinery_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

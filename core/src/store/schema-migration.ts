/**
 * A schema change. Migrations are numbered from 1, applied in order, each exactly once, and
 * never edited after release: a change to the schema is a new migration at the end. Every
 * store (SQLite, PostgreSQL) keeps its own list and records what it applied in a
 * `schema_migrations` table.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
}

/** The database was written by a newer Joinery: this code does not know its schema. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly databaseVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      `the database schema is at version ${databaseVersion}, newer than this Joinery supports ` +
        `(${supportedVersion}): it was written by a newer release. Run that release (or newer), ` +
        `or restore a backup taken before the upgrade`,
    );
  }
}

/** Throws unless the migrations are numbered 1, 2, 3... in order. Returns the latest version. */
export function checkMigrations(migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration "${m.name}" has version ${m.version}; expected ${i + 1} (numbered 1, 2, 3... in order)`);
  });
  return migrations.length;
}

/**
 * Preloaded into a `joinery serve` on PostgreSQL (`node --require pg-query-counter-preload.js`)
 * by the benchmark's PostgreSQL row: installs the statement counter (pg-query-counter.ts) on the
 * server's own node-postgres, and answers every message on the IPC channel the benchmark opens
 * with the counts so far. The channel does not keep the server alive.
 */
import type { Client } from 'pg';
import { installQueryCounter, queryCounts } from './pg-query-counter';

// The server's own `pg`: resolved from its entry point, as the server resolves it (a runtime
// path, so require, not an import).
// eslint-disable-next-line @typescript-eslint/no-require-imports
installQueryCounter(require(require.resolve('pg', { paths: [process.argv[1] ?? process.cwd()] })) as { Client: { prototype: Client } });
process.on('message', () => process.send!(queryCounts()));
process.channel?.unref();

import Fastify, { type FastifyInstance } from 'fastify';
import type { JoineryMetrics } from '../metrics/metrics';
import type { Backends } from './open-backends';
import { readAdapterAPIKey } from '../cli/adapter-api-key';
import { registerMigrationRoutes } from '../migration/migration-routes';

/**
 * The admin listener (plain HTTP, bind it to a private address): `/healthz` says the process
 * is up, `/readyz` that the store and the key vault answer, `/metrics` is for Prometheus, and
 * `/api/v1/migrations` drives fleet migrations.
 */
export function createAdminServer(backends: Backends, metrics: JoineryMetrics, version: string, onMigrationError?: (id: string, err: unknown) => void): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  registerMigrationRoutes(app, {
    store: backends.store,
    apiKeyOf: (peer) => readAdapterAPIKey(backends.settings.dataDir, peer),
    metrics: metrics.migration,
    ...(onMigrationError ? { onRunError: onMigrationError } : {}),
  });
  app.get('/healthz', async () => ({ status: 'ok', version }));
  app.get('/readyz', async (_req, reply) => {
    try {
      // Bounded: an unreachable database may not refuse, only never answer.
      await withTimeout(backends.store.ping(), READY_TIMEOUT_MS, 'the store did not answer');
      const probe = await withTimeout(backends.vault.generateKey(), READY_TIMEOUT_MS, 'the key vault did not answer');
      backends.vault.release(probe);
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', message: err instanceof Error ? err.message : String(err) });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return app;
}

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

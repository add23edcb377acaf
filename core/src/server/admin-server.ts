import Fastify, { type FastifyInstance } from 'fastify';
import type { JoineryMetrics } from '../metrics/metrics';
import type { Backends } from './open-backends';

/**
 * The admin listener (plain HTTP, bind it to a private address): `/healthz` says the process
 * is up, `/readyz` that the store and the key vault answer, `/metrics` is for Prometheus.
 */
export function createAdminServer(backends: Backends, metrics: JoineryMetrics, version: string): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get('/healthz', async () => ({ status: 'ok', version }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await backends.store.ping();
      const probe = await backends.vault.generateKey();
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

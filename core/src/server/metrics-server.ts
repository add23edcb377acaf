import Fastify, { type FastifyInstance } from 'fastify';
import type { JoineryMetrics } from '../metrics/metrics';

/**
 * The metrics listener (`serve --metrics-listen`, plain HTTP): `/metrics` alone, for a
 * Prometheus that may reach this address but should not reach the admin listener (its API and
 * console). Every other path is 404.
 */
export function createMetricsServer(metrics: JoineryMetrics): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return app;
}

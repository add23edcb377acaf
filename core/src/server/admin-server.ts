import Fastify, { type FastifyInstance } from 'fastify';
import { registerAdminApi, registerOpenAPI } from '../admin/admin-api';
import type { AdminContext } from '../admin/admin-context';
import type { Logger } from '../log/logger';
import type { JoineryMetrics } from '../metrics/metrics';
import { registerConsole } from './console-assets';
import type { Backends } from './open-backends';
import { registerMigrationApi } from '../admin/migrations-api';
import { readinessCheck } from './readiness';

/**
 * The admin listener (plain HTTP, bind it to a private address): `/healthz` says the process
 * is up, `/readyz` that the store answers, the key vault opens its sealed keys and the data directory
 * can be written (see readinessCheck), `/metrics` is for Prometheus (these
 * three unauthenticated), the admin REST API under /api/v1 (API keys; fleet migrations under
 * /api/v1/migrations for the operator only), and `/` serves the web console (static files
 * calling that API).
 */
export async function createAdminServer(
  backends: Backends,
  metrics: JoineryMetrics,
  version: string,
  api?: { readonly context: AdminContext; readonly log: Logger; readonly onMigrationError?: (id: string, err: unknown) => void; readonly resumeMigrations?: boolean },
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, return503OnClosing: true, trustProxy: false });
  await registerOpenAPI(app);
  if (api) {
    await registerMigrationApi(app, {
      store: backends.store,
      dataDir: backends.settings.dataDir,
      metrics,
      context: api.context,
      ...(api.onMigrationError ? { onRunError: api.onMigrationError } : {}),
      ...(api.resumeMigrations ? { resumeOnStart: true, onResumed: (id: string) => api.log.info({ migration: id }, 'fleet migration resumed at start') } : {}),
    });
  }
  const probe = { tags: ['health'], response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } } };
  app.get('/healthz', { schema: { ...probe, summary: 'The process is up' } }, async () => ({ status: 'ok', version }));
  const ready = readinessCheck(backends);
  metrics.watchReadiness(ready);
  app.get('/readyz', { schema: { ...probe, summary: 'The store answers, the key vault opens its sealed keys, the data directory can be written' } }, async (_req, reply) => {
    try {
      await ready();
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', message: err instanceof Error ? err.message : String(err) });
    }
  });
  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)', response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  if (api) await registerAdminApi(app, api.context, api.log);
  await app.register(async (scope) => registerConsole(scope));
  return app;
}

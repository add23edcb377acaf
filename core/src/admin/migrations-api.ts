import { refuseNulBytes } from './refuse-nul-bytes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BEARER_SECURITY } from './admin-auth';
import type { AdminContext } from './admin-context';
import { ERROR_RESPONSES } from './admin-errors';
import { readAdapterAPIKey } from '../adapters/adapter-api-key-store';
import type { JoineryMetrics } from '../metrics/metrics';
import { registerMigrationRoutes } from './routes/migrations-routes';
import type { Store } from '../store/store';
import { isInstanceAdmin, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';

export interface MigrationApiDeps {
  readonly store: Store;
  readonly dataDir: string;
  readonly metrics: JoineryMetrics;
  readonly context: AdminContext;
  readonly onRunError?: (id: string, err: unknown) => void;
  /** Carry on, at start, the migrations a stop left unfinished. */
  readonly resumeOnStart?: boolean;
  readonly onResumed?: (id: string) => void;
}

/**
 * The fleet-migration routes (/api/v1/migrations) behind the admin API's API keys: a migration
 * moves devices between any tenants' network servers, so only the instance's operator (a key of
 * an `admin` tenant with the `admin` scope) may plan, start, read or roll one back; every other
 * key gets 403, no key 401, as `{code, message}`. The OpenAPI document says so for each route.
 */
export async function registerMigrationApi(app: FastifyInstance, deps: MigrationApiDeps): Promise<void> {
  await app.register(async (scope) => {
    const principals = new WeakMap<FastifyRequest, Principal>();
    refuseNulBytes(scope);
    scope.addHook('onRoute', (route) => {
      const schema = route.schema ?? {};
      route.schema = { ...schema, tags: ['migrations'], security: BEARER_SECURITY, response: { ...ERROR_RESPONSES, ...(schema.response as object | undefined) } };
    });
    scope.addHook('onRequest', async (req, reply) => {
      let principal: Principal;
      try {
        principal = await deps.context.authenticate(req);
      } catch (err) {
        if (err instanceof Refusal) return reply.code(err.status).send({ code: err.code, message: err.message });
        throw err;
      }
      if (!isInstanceAdmin(principal)) {
        return reply.code(403).send({ code: 'forbidden', message: "fleet migrations are the operator's: they need an API key of an admin tenant with the admin scope" });
      }
      principals.set(req, principal);
    });
    registerMigrationRoutes(scope, {
      store: deps.store,
      apiKeyOf: (peer) => readAdapterAPIKey(deps.dataDir, peer),
      metrics: deps.metrics.migration,
      actorOf: (req) => principals.get(req as FastifyRequest)?.actor ?? `admin-api:${req.ip}`,
      ...(deps.onRunError ? { onRunError: deps.onRunError } : {}),
      ...(deps.resumeOnStart ? { resumeOnStart: true } : {}),
      ...(deps.onResumed ? { onResumed: deps.onResumed } : {}),
    });
  });
}

import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger';
import { VERSION } from '../server/version';
import { addApiKeyAuth } from './admin-auth';
import type { AdminContext } from './admin-context';
import { addAdminErrorHandling, ERROR_SCHEMA } from './admin-errors';
import { refuseNulBytes } from './refuse-nul-bytes';
import { auditRoutes } from './routes/audit-routes';
import { claimsRoutes } from './routes/claims-routes';
import { devicesRoutes } from './routes/devices-routes';
import { peersRoutes } from './routes/peers-routes';
import { tenantsRoutes } from './routes/tenants-routes';
import { joinRateRoutes } from './routes/join-rate-routes';
import { usageRoutes } from './routes/usage-routes';
import { SHARED_SCHEMAS } from './schemas';

export const ADMIN_API_PREFIX = '/api/v1';
export const OPENAPI_PATH = `${ADMIN_API_PREFIX}/openapi.json`;

/**
 * Registers the OpenAPI generator on the admin listener (before any route, so every route of
 * the listener is in the document) and the shared schemas. Call first.
 */
export async function registerOpenAPI(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Joinery admin API',
        version: VERSION,
        description: 'Tenants, API keys, devices, claims, network and application servers, audit trail and usage of a Joinery Join Server. Errors are {code, message}.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (jny_...), from `joinery tenants add` or POST /api/v1/tenants/{tenantID}/api-keys' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
  });
  app.addSchema(ERROR_SCHEMA);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
}

/**
 * The admin REST API under /api/v1: one plugin per resource, all behind API-key authentication
 * (`addApiKeyAuth`, routes state their scope with `requireScope`), errors as {code, message}.
 * Its OpenAPI document, generated from the same schemas that validate the requests, is at
 * /api/v1/openapi.json (unauthenticated).
 */
export async function registerAdminApi(app: FastifyInstance, ctx: AdminContext, log: Logger): Promise<void> {
  await app.register(
    async (api) => {
      addAdminErrorHandling(api, log);
      refuseNulBytes(api);
      api.get('/openapi.json', { schema: { tags: ['meta'], summary: 'This OpenAPI document', response: { 200: { type: 'object', additionalProperties: true } } } }, async () => app.swagger());
      await api.register(async (secured) => {
        addApiKeyAuth(secured, ctx.authenticate);
        for (const routes of [tenantsRoutes, devicesRoutes, claimsRoutes, peersRoutes, auditRoutes, usageRoutes, joinRateRoutes]) await secured.register(routes(ctx));
      });
    },
    { prefix: ADMIN_API_PREFIX },
  );
}

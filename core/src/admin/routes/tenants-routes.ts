import type { FastifyPluginAsync } from 'fastify';
import { parseScopes } from '../../tenants/api-key';
import { parseTenantID, parseTenantRoles, TENANT_ROLES, type Tenant } from '../../tenants/tenant';
import { apiKeyView } from '../../tenants/tenant-service';
import { SCOPES } from '../../tenants/api-key';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { NAME_SCHEMA } from '../schemas';

const tenantJSON = (t: Tenant) => ({ id: t.id, name: t.name, roles: t.roles, createdAt: t.createdAt.toISOString() });
const TENANT_PARAMS = { type: 'object', properties: { tenantID: NAME_SCHEMA }, required: ['tenantID'] } as const;
const KEY_CREATED = {
  type: 'object',
  description: 'The new API key: `key` is shown only here',
  properties: { apiKey: { $ref: 'ApiKey#' }, key: { type: 'string' } },
} as const;

/** Tenants (the operator's) and every tenant's API keys (its admin-scoped keys). */
export function tenantsRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/whoami',
      {
        schema: {
          tags: ['session'],
          summary: 'The tenant and scopes of the API key in use',
          security: BEARER_SECURITY,
          response: { 200: { type: 'object', properties: { tenant: { $ref: 'Tenant#' }, scopes: { type: 'array', items: { type: 'string' } }, actor: { type: 'string' } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        const p = principalOf(req);
        return { tenant: tenantJSON(p.tenant), scopes: p.scopes, actor: p.actor };
      },
    );

    app.get(
      '/tenants',
      {
        schema: {
          tags: ['tenants'],
          summary: 'Tenants (the operator: all; a tenant: itself)',
          security: BEARER_SECURITY,
          response: { 200: { type: 'object', properties: { tenants: { type: 'array', items: { $ref: 'Tenant#' } } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => ({ tenants: (await ctx.tenants.listTenants(principalOf(req))).map(tenantJSON) }),
    );

    app.post<{ Body: { id: string; name?: string; roles: string[] } }>(
      '/tenants',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['tenants'],
          summary: 'Create a tenant (the operator only) and its first API key (every scope), shown once',
          security: BEARER_SECURITY,
          body: {
            type: 'object',
            properties: { id: NAME_SCHEMA, name: { type: 'string', maxLength: 200 }, roles: { type: 'array', items: { type: 'string', enum: [...TENANT_ROLES] }, minItems: 1 } },
            required: ['id', 'roles'],
            additionalProperties: false,
          },
          response: { 201: { type: 'object', properties: { tenant: { $ref: 'Tenant#' }, apiKey: { $ref: 'ApiKey#' }, key: { type: 'string' } } }, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const { tenant, apiKey } = await ctx.tenants.createTenant(principalOf(req), { id: parseTenantID(req.body.id, 'id'), name: req.body.name ?? req.body.id, roles: parseTenantRoles(req.body.roles) });
        return reply.code(201).send({ tenant: tenantJSON(tenant), apiKey: apiKeyJSON(apiKeyView(apiKey.record)), key: apiKey.key });
      },
    );

    app.get<{ Params: { tenantID: string } }>(
      '/tenants/:tenantID',
      {
        schema: { tags: ['tenants'], summary: 'One tenant', security: BEARER_SECURITY, params: TENANT_PARAMS, response: { 200: { $ref: 'Tenant#' }, ...ERROR_RESPONSES } },
      },
      async (req) => tenantJSON(await ctx.tenants.getTenant(principalOf(req), parseTenantID(req.params.tenantID))),
    );

    app.get<{ Params: { tenantID: string } }>(
      '/tenants/:tenantID/api-keys',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['api keys'],
          summary: "A tenant's API keys (never their secrets)",
          security: BEARER_SECURITY,
          params: TENANT_PARAMS,
          response: { 200: { type: 'object', properties: { apiKeys: { type: 'array', items: { $ref: 'ApiKey#' } } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => ({ apiKeys: (await ctx.tenants.listApiKeys(principalOf(req), parseTenantID(req.params.tenantID))).map(apiKeyJSON) }),
    );

    app.post<{ Params: { tenantID: string }; Body: { scopes: string[]; label?: string } }>(
      '/tenants/:tenantID/api-keys',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['api keys'],
          summary: 'Create an API key; its secret is shown only in this answer',
          security: BEARER_SECURITY,
          params: TENANT_PARAMS,
          body: {
            type: 'object',
            properties: { scopes: { type: 'array', items: { type: 'string', enum: [...SCOPES] }, minItems: 1 }, label: { type: 'string', maxLength: 200 } },
            required: ['scopes'],
            additionalProperties: false,
          },
          response: { 201: KEY_CREATED, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const issued = await ctx.tenants.createApiKey(principalOf(req), parseTenantID(req.params.tenantID), parseScopes(req.body.scopes), req.body.label ?? '');
        return reply.code(201).send({ apiKey: apiKeyJSON(apiKeyView(issued.record)), key: issued.key });
      },
    );

    app.delete<{ Params: { tenantID: string; keyID: string } }>(
      '/tenants/:tenantID/api-keys/:keyID',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['api keys'],
          summary: 'Revoke an API key (at once)',
          security: BEARER_SECURITY,
          params: { type: 'object', properties: { tenantID: NAME_SCHEMA, keyID: { type: 'string', pattern: '^[0-9a-f]{16}$' } }, required: ['tenantID', 'keyID'] },
          response: { 204: { type: 'null', description: 'revoked' }, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        await ctx.tenants.revokeApiKey(principalOf(req), parseTenantID(req.params.tenantID), req.params.keyID);
        return reply.code(204).send();
      },
    );
  };
}

function apiKeyJSON(k: ReturnType<typeof apiKeyView>) {
  return { id: k.id, tenantID: k.tenantID, scopes: k.scopes, label: k.label, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null };
}

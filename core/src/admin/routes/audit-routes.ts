import type { FastifyPluginAsync } from 'fastify';
import { parseEUI64 } from '../../lorawan/identifiers';
import { verifyAuditChain } from '../../store/audit-chain';
import { isInstanceAdmin } from '../../tenants/principal';
import { Refusal } from '../../tenants/refusal';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { EUI64_SCHEMA } from '../schemas';

/** The audit trail: a tenant's own entries (the operator: all), and the chain's verification. */
export function auditRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { devEUI?: string; limit: number } }>(
      '/audit',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['audit'],
          summary: 'Audit entries made on behalf of the tenant (the operator: every entry), newest first',
          security: BEARER_SECURITY,
          querystring: { type: 'object', properties: { devEUI: EUI64_SCHEMA, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } }, additionalProperties: false },
          response: { 200: { type: 'object', properties: { events: { type: 'array', items: { $ref: 'AuditEvent#' } } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        const p = principalOf(req);
        const events = await ctx.store.listAuditEvents({
          limit: req.query.limit,
          ...(req.query.devEUI !== undefined ? { devEUI: parseEUI64(req.query.devEUI, 'devEUI') } : {}),
          ...(isInstanceAdmin(p) ? {} : { tenantID: p.tenantID }),
        });
        return { events: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
      },
    );

    app.get(
      '/audit/verify',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['audit'],
          summary: 'Verify the whole hash chain of the audit trail (the operator only)',
          security: BEARER_SECURITY,
          response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, entries: { type: 'integer' }, badID: { type: 'integer' }, reason: { type: 'string' } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        if (!isInstanceAdmin(principalOf(req))) throw new Refusal('forbidden', 'only the operator verifies the whole audit trail');
        return verifyAuditChain((after, limit) => ctx.store.readAuditChain(after, limit));
      },
    );
  };
}

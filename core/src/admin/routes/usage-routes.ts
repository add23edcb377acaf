import type { FastifyPluginAsync } from 'fastify';
import { parseTenantID } from '../../tenants/tenant';
import { parseUsageDate, usageCSV, usageFor, usageJSON } from '../../usage/usage-report';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { NAME_SCHEMA } from '../schemas';

/** Usage metering: devices activated (first accepted join) per tenant in a period, JSON or CSV. */
export function usageRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { tenant?: string; since: string; until?: string; format: 'json' | 'csv' } }>(
      '/usage',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['usage'],
          summary: 'Devices activated (first accepted join) since a date, for the tenant (the operator: any tenant, or all)',
          security: BEARER_SECURITY,
          querystring: {
            type: 'object',
            properties: { tenant: NAME_SCHEMA, since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
            required: ['since'],
            additionalProperties: false,
          },
          response: {
            200: {
              description: 'JSON, or text/csv with format=csv (dev_eui,join_eui,tenant,activated_at)',
              type: 'object',
              properties: {
                tenant: { type: ['string', 'null'] },
                since: { type: 'string' },
                until: { type: ['string', 'null'] },
                activated: { type: 'integer' },
                devices: { type: 'array', items: { type: 'object', properties: { devEUI: { type: 'string' }, joinEUI: { type: 'string' }, tenant: { type: 'string' }, activatedAt: { type: 'string' } } } },
              },
            },
            ...ERROR_RESPONSES,
          },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const report = await usageFor(ctx.store, principalOf(req), {
          since: parseUsageDate(q.since, 'since'),
          ...(q.until !== undefined ? { until: parseUsageDate(q.until, 'until') } : {}),
          ...(q.tenant !== undefined ? { tenantID: parseTenantID(q.tenant) } : {}),
        });
        // CSV bypasses the JSON serializer (the schema describes the JSON form).
        if (q.format === 'csv')
          return reply
            .header('content-type', 'text/csv; charset=utf-8')
            .serializer((s: unknown) => String(s))
            .send(usageCSV(report));
        return usageJSON(report);
      },
    );
  };
}

import type { FastifyPluginAsync } from 'fastify';
import { JOIN_RATE_STEP_MS } from '../../store/join-rate';
import { isInstanceAdmin } from '../../tenants/principal';
import { Refusal } from '../../tenants/refusal';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { NAME_SCHEMA } from '../schemas';

/** The last hour, unless `since` says otherwise; at most a day (1,440 minutes) per answer. */
const DEFAULT_WINDOW_MS = 3_600_000;
const MAX_WINDOW_MS = 24 * 3_600_000;

/**
 * Joins and refusals per minute (the console's join-rate chart), from the join history: every
 * network server or one (`peer`); a tenant counts only its own devices' join attempts, the
 * operator every device's.
 */
export function joinRateRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { peer?: string; since?: string } }>(
      '/join-rate',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['devices'],
          summary: "Join attempts per minute since a time (default: the last hour, at most a day), accepted and refused: the tenant's devices (the operator: every device), through one network server when given",
          security: BEARER_SECURITY,
          querystring: { type: 'object', properties: { peer: NAME_SCHEMA, since: { type: 'string', maxLength: 40 } }, additionalProperties: false },
          response: {
            200: {
              type: 'object',
              properties: {
                stepSeconds: { type: 'integer' },
                minutes: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, joins: { type: 'integer' }, refusals: { type: 'integer' } } } },
              },
            },
            ...ERROR_RESPONSES,
          },
        },
      },
      async (req) => {
        const p = principalOf(req);
        const until = new Date();
        const since = req.query.since === undefined ? new Date(until.getTime() - DEFAULT_WINDOW_MS) : new Date(req.query.since);
        if (Number.isNaN(since.getTime())) throw new Refusal('bad-request', 'since: not a date and time');
        if (since >= until || until.getTime() - since.getTime() > MAX_WINDOW_MS) throw new Refusal('bad-request', 'since: must be in the last 24 hours');
        const minutes = await ctx.store.joinRate({
          since,
          until,
          ...(req.query.peer !== undefined ? { peer: req.query.peer } : {}),
          ...(isInstanceAdmin(p) ? {} : { ownerTenant: p.tenantID }),
        });
        return { stepSeconds: JOIN_RATE_STEP_MS / 1000, minutes: minutes.map((m) => ({ at: m.at.toISOString(), joins: m.joins, refusals: m.refusals })) };
      },
    );
  };
}

import type { FastifyPluginAsync } from 'fastify';
import { deviceView } from '../../devices/device-view';
import { parseEUI64, parseNetID } from '../../lorawan/identifiers';
import { parseTenantID } from '../../tenants/tenant';
import type { NewOwnerToken } from '../../claims/claim-service';
import { peerView } from '../../peers/peer-service';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { DEV_EUI_PARAMS, EUI64_SCHEMA, NAME_SCHEMA } from '../schemas';

const tokenJSON = (t: NewOwnerToken) => ({
  devEUI: t.device.devEUI,
  joinEUI: t.device.joinEUI,
  profileID: t.device.ownership.profileID,
  ownerToken: t.ownerToken,
  qrPayload: t.qrPayload,
  owner: t.device.ownership.owner,
});

/** Claims: claim with an owner token, bind (and lock), unclaim, transfer, regenerate the token. */
export function claimsRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: { devEUI: string; ownerToken: string } }>(
      '/claims',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: 'Claim a device with its owner token (wrong tokens are rate-limited per device and per tenant: 429)',
          security: BEARER_SECURITY,
          body: {
            type: 'object',
            properties: { devEUI: EUI64_SCHEMA, ownerToken: { type: 'string', minLength: 1, maxLength: 64 } },
            required: ['devEUI', 'ownerToken'],
            additionalProperties: false,
          },
          response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES },
        },
      },
      async (req) => deviceView(await ctx.claims.claim(principalOf(req), parseEUI64(req.body.devEUI, 'devEUI'), req.body.ownerToken)),
    );

    app.get(
      '/binding-targets',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: "The network servers and application servers the tenant may bind its devices to: its own and the operator's",
          security: BEARER_SECURITY,
          response: { 200: { type: 'object', properties: { networkServers: { type: 'array', items: { $ref: 'Peer#' } }, applicationServers: { type: 'array', items: { $ref: 'Peer#' } } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        const peers = await ctx.claims.bindingTargets(principalOf(req));
        return { networkServers: peers.filter((p) => p.kind === 'ns').map(peerView), applicationServers: peers.filter((p) => p.kind === 'as').map(peerView) };
      },
    );

    app.put<{ Params: { devEUI: string }; Body: { networkServer?: string; homeNetID?: string; homeNSID?: string; applicationServer?: string | null; locked?: boolean } }>(
      '/devices/:devEUI/binding',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: 'Bind a claimed device to a network server (by name, or by NetID and optional NSID) and an application server; lock or unlock it. Joins follow at once.',
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          body: {
            type: 'object',
            properties: {
              networkServer: NAME_SCHEMA,
              homeNetID: { type: 'string', pattern: '^(0[xX])?[0-9A-Fa-f]{6}$' },
              homeNSID: EUI64_SCHEMA,
              applicationServer: { anyOf: [NAME_SCHEMA, { type: 'null' }] },
              locked: { type: 'boolean' },
            },
            additionalProperties: false,
          },
          response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        const b = req.body;
        return deviceView(
          await ctx.claims.bind(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'), {
            ...(b.networkServer !== undefined ? { networkServer: b.networkServer } : {}),
            ...(b.homeNetID !== undefined ? { homeNetID: parseNetID(b.homeNetID, 'homeNetID') } : {}),
            ...(b.homeNSID !== undefined ? { homeNSID: parseEUI64(b.homeNSID, 'homeNSID') } : {}),
            ...(b.applicationServer !== undefined ? { applicationServer: b.applicationServer } : {}),
            ...(b.locked !== undefined ? { locked: b.locked } : {}),
          }),
        );
      },
    );

    app.delete<{ Params: { devEUI: string } }>(
      '/devices/:devEUI/claim',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: 'Unclaim a device: no owner, no binding (a locked one too: the lock keeps others out, not its owner); its owner token stays',
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          response: { 204: { type: 'null', description: 'unclaimed' }, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        await ctx.claims.unclaim(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'));
        return reply.code(204).send();
      },
    );

    app.post<{ Params: { devEUI: string }; Body: { tenant: string } }>(
      '/devices/:devEUI/transfer',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: 'Transfer a device to another owner: theirs at once, unbound, with a new owner token (the old one stops working), shown only here',
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          body: { type: 'object', properties: { tenant: NAME_SCHEMA }, required: ['tenant'], additionalProperties: false },
          response: { 200: { $ref: 'NewOwnerToken#' }, ...ERROR_RESPONSES },
        },
      },
      async (req) => tokenJSON(await ctx.claims.transfer(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'), parseTenantID(req.body.tenant))),
    );

    app.post<{ Params: { devEUI: string } }>(
      '/devices/:devEUI/owner-token',
      {
        preHandler: requireScope('claims'),
        schema: {
          tags: ['claims'],
          summary: 'Regenerate the owner token (the old one stops working), shown only here with its QR payload',
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          response: { 200: { $ref: 'NewOwnerToken#' }, ...ERROR_RESPONSES },
        },
      },
      async (req) => tokenJSON(await ctx.claims.regenerateToken(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'))),
    );
  };
}

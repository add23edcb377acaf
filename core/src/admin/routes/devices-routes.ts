import type { FastifyPluginAsync } from 'fastify';
import { deviceSessionView, deviceView, joinRecordView } from '../../devices/device-view';
import type { TenantID } from '../../tenants/tenant';
import { AES128Key } from '../../lorawan/aes128-key';
import { parseEUI64 } from '../../lorawan/identifiers';
import { MAC_VERSIONS, parseMACVersion } from '../../lorawan/mac-version';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { DEV_EUI_PARAMS } from '../schemas';

/** Devices: list (paged, filtered), get, import (manufacturers), delete, session info, DevNonce reset. */
export function devicesRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { limit: number; offset: number; networkServer?: string; claimed?: boolean; bound?: boolean; macVersion?: string; owner?: string; q?: string } }>(
      '/devices',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['devices'],
          summary: "The tenant's devices (owned, or made and not claimed yet), in DevEUI order",
          security: BEARER_SECURITY,
          querystring: {
            type: 'object',
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
              offset: { type: 'integer', minimum: 0, default: 0 },
              networkServer: { type: 'string', description: 'only devices bound to this network server' },
              claimed: { type: 'boolean', description: 'only claimed (true) or unclaimed (false) devices' },
              bound: { type: 'boolean', description: 'only devices bound to a network server (true) or to none (false)' },
              macVersion: { type: 'string', enum: [...MAC_VERSIONS], description: 'only devices of this LoRaWAN MAC version' },
              owner: { type: 'string', minLength: 1, maxLength: 64, description: 'only devices owned by this tenant' },
              q: { type: 'string', pattern: '^(0[xX])?[0-9A-Fa-f]{1,16}$', description: 'only devices whose DevEUI or JoinEUI starts with these hex digits (indexed prefix search)' },
            },
            additionalProperties: false,
          },
          response: { 200: { type: 'object', properties: { devices: { type: 'array', items: { $ref: 'Device#' } }, total: { type: 'integer' } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => {
        const { devices, total } = await ctx.devices.list(principalOf(req), {
          limit: req.query.limit,
          offset: req.query.offset,
          ...(req.query.networkServer !== undefined ? { networkServer: req.query.networkServer } : {}),
          ...(req.query.claimed !== undefined ? { claimed: req.query.claimed } : {}),
          ...(req.query.bound !== undefined ? { bound: req.query.bound } : {}),
          ...(req.query.macVersion !== undefined ? { macVersion: parseMACVersion(req.query.macVersion, 'macVersion') } : {}),
          ...(req.query.owner !== undefined ? { owner: req.query.owner as TenantID } : {}),
          ...(req.query.q !== undefined ? { euiPrefix: req.query.q.replace(/^0[xX]/, '') } : {}),
        });
        return { devices: devices.map(deviceView), total };
      },
    );

    app.post<{ Body: { format?: 'csv' | 'json'; content: string; transportKEK?: string; allowWeakOwnerTokens?: boolean; skipExisting?: boolean } }>(
      '/devices/import',
      {
        preHandler: requireScope('devices:write'),
        bodyLimit: 64 * 1024 * 1024,
        schema: {
          tags: ['devices'],
          summary: "Import pre-provisioned devices (manufacturers): all or nothing; each gets an owner token (the file's owner_token, else generated), shown only here with its QR payload",
          security: BEARER_SECURITY,
          body: {
            type: 'object',
            properties: {
              format: { type: 'string', enum: ['csv', 'json'] },
              content: { type: 'string', description: 'the file: CSV (dev_eui,join_eui,mac_version,app_key,nwk_key[,owner_token][,profile_id]) or a JSON array' },
              transportKEK: { type: 'string', pattern: '^[0-9A-Fa-f]{32}$', description: 'the keys are RFC 3394-wrapped under this transport KEK' },
              allowWeakOwnerTokens: {
                type: 'boolean',
                description: "accept owner tokens shorter than 8 characters (refused by default: a short token can be guessed within the claim rate limits over a device's lifetime)",
              },
              skipExisting: { type: 'boolean', description: 'devices whose DevEUI exists already are left as they are and listed in skipped; the rest are imported (default: the whole import is refused)' },
            },
            required: ['content'],
            additionalProperties: false,
          },
          response: {
            201: {
              type: 'object',
              properties: {
                imported: { type: 'integer' },
                labels: { type: 'array', items: { $ref: 'NewOwnerToken#' } },
                skipped: {
                  type: 'object',
                  properties: { count: { type: 'integer' }, first: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, devEUI: { type: 'string' } } } } },
                },
              },
            },
            ...ERROR_RESPONSES,
          },
        },
      },
      async (req, reply) => {
        const s = await ctx.devices.import(principalOf(req), {
          content: req.body.content,
          ...(req.body.format ? { format: req.body.format } : {}),
          ...(req.body.transportKEK ? { transportKEK: AES128Key.fromHex(req.body.transportKEK, 'transportKEK') } : {}),
          allowWeakOwnerTokens: req.body.allowWeakOwnerTokens === true,
          skipExisting: req.body.skipExisting === true,
        });
        return reply.code(201).send({ imported: s.imported, labels: s.labels.map((l) => ({ ...l, owner: null })), skipped: s.skipped });
      },
    );

    app.get<{ Params: { devEUI: string } }>(
      '/devices/:devEUI',
      {
        preHandler: requireScope('devices:read'),
        schema: { tags: ['devices'], summary: 'One device (never a key or a token)', security: BEARER_SECURITY, params: DEV_EUI_PARAMS, response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
      },
      async (req) => deviceView(await ctx.devices.get(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'))),
    );

    app.delete<{ Params: { devEUI: string } }>(
      '/devices/:devEUI',
      {
        preHandler: requireScope('devices:write'),
        schema: { tags: ['devices'], summary: 'Delete a device and its sessions', security: BEARER_SECURITY, params: DEV_EUI_PARAMS, response: { 204: { type: 'null', description: 'deleted' }, ...ERROR_RESPONSES } },
      },
      async (req, reply) => {
        await ctx.devices.delete(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'));
        return reply.code(204).send();
      },
    );

    app.get<{ Params: { devEUI: string } }>(
      '/devices/:devEUI/session',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['devices'],
          summary: "A device's join state: DevNonces, JoinNonce, RJcount1, last join (never a key)",
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          response: {
            200: {
              type: 'object',
              properties: {
                devEUI: { type: 'string' },
                lastDevNonce: { type: ['integer', 'null'] },
                usedDevNonces: { type: 'integer' },
                lastJoinNonce: { type: ['integer', 'null'] },
                lastRJCount1: { type: ['integer', 'null'] },
                lastJoinAt: { type: ['string', 'null'] },
                lastJoinNetworkServer: { type: ['string', 'null'] },
                activatedAt: { type: ['string', 'null'] },
              },
            },
            ...ERROR_RESPONSES,
          },
        },
      },
      async (req) => deviceSessionView(await ctx.devices.get(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'))),
    );

    app.get<{ Params: { devEUI: string }; Querystring: { limit: number } }>(
      '/devices/:devEUI/joins',
      {
        preHandler: requireScope('devices:read'),
        schema: {
          tags: ['devices'],
          summary:
            "A device's join history, newest first: every join-request and rejoin-request that reached it, accepted or refused (a tenant sees those since it claimed the device; the last moments may be lost in a crash)",
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 50, default: 50 } }, additionalProperties: false },
          response: { 200: { type: 'object', properties: { joins: { type: 'array', items: { $ref: 'JoinRecord#' } } } }, ...ERROR_RESPONSES },
        },
      },
      async (req) => ({ joins: (await ctx.devices.joins(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'), req.query.limit)).map(joinRecordView) }),
    );

    app.post<{ Params: { devEUI: string }; Body: { reason: string } }>(
      '/devices/:devEUI/dev-nonce-reset',
      {
        preHandler: requireScope('devices:write'),
        schema: {
          tags: ['devices'],
          summary: 'Forget the DevNonces a device used (the "DevNonce already used" loop); the JoinNonce is never reset; audited',
          security: BEARER_SECURITY,
          params: DEV_EUI_PARAMS,
          body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } }, required: ['reason'], additionalProperties: false },
          response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES },
        },
      },
      async (req) => deviceView(await ctx.devices.resetDevNonces(principalOf(req), parseEUI64(req.params.devEUI, 'devEUI'), req.body.reason)),
    );
  };
}

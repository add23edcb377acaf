import type { FastifyPluginAsync } from 'fastify';
import { parseEUI64, parseNetID } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import { peerView } from '../../peers/peer-service';
import { parseVendor, VENDORS } from '../../peers/vendor';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { EUI64_SCHEMA, NAME_SCHEMA } from '../schemas';

const BUNDLE = {
  type: 'object',
  description: 'The credential bundle, file name to content (ca.crt, client.crt, client.key, kek.json, peer.json, README.txt): shown only here; client.key and kek.json are secrets',
  additionalProperties: { type: 'string' },
} as const;

const CREATED = { type: 'object', properties: { peer: { $ref: 'Peer#' }, bundle: BUNDLE } } as const;

interface NetworkServerBody {
  readonly name: string;
  readonly netID: string;
  readonly nsID?: string;
  readonly vendor: string;
  readonly kekLabel?: string;
  readonly joinEUIPrefixes?: string[];
  readonly installDir?: string;
  readonly adapter?: { readonly apiUrl: string; readonly apiKey: string; readonly options?: Record<string, string> };
}

/** Network servers and application servers of the tenant: list, get, create (→ credential bundle). */
export function peersRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    const collection = (kind: Peer['kind']): string => (kind === 'ns' ? 'network-servers' : 'application-servers');
    for (const kind of ['ns', 'as'] as const) {
      const what = kind === 'ns' ? 'network servers' : 'application servers';
      app.get(`/${collection(kind)}`, {
        preHandler: requireScope('peers'),
        schema: { tags: ['peers'], summary: `The tenant's ${what}`, security: BEARER_SECURITY, response: { 200: { type: 'object', properties: { peers: { type: 'array', items: { $ref: 'Peer#' } } } }, ...ERROR_RESPONSES } },
      }, async (req) => ({ peers: (await ctx.peers.list(principalOf(req), kind)).map(peerView) }));

      app.get<{ Params: { name: string } }>(`/${collection(kind)}/:name`, {
        preHandler: requireScope('peers'),
        schema: { tags: ['peers'], summary: `One of the tenant's ${what}`, security: BEARER_SECURITY, params: { type: 'object', properties: { name: NAME_SCHEMA }, required: ['name'] }, response: { 200: { $ref: 'Peer#' }, ...ERROR_RESPONSES } },
      }, async (req) => peerView(await ctx.peers.get(principalOf(req), kind, req.params.name)));
    }

    app.post<{ Body: NetworkServerBody }>('/network-servers', {
      preHandler: requireScope('peers'),
      schema: {
        tags: ['peers'],
        summary: "Register a network server: its client certificate, KEK and credential bundle, the vendor's setup files and steps (rendered by its adapter), and optionally the adapter's management API (for sync and migrations)",
        security: BEARER_SECURITY,
        body: {
          type: 'object',
          properties: {
            name: NAME_SCHEMA,
            netID: { type: 'string', pattern: '^(0[xX])?[0-9A-Fa-f]{6}$' },
            nsID: EUI64_SCHEMA,
            vendor: { type: 'string', enum: [...VENDORS] },
            kekLabel: { type: 'string', minLength: 1, maxLength: 200 },
            joinEUIPrefixes: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 40 }, description: 'JoinEUI ranges the network server sends to Joinery, e.g. 70b3d57ed0000000/40 (default all)' },
            installDir: { type: 'string', minLength: 1, maxLength: 1024, description: "where the bundle's files will sit on the network server's host (absolute; named in the rendered configuration)" },
            adapter: {
              type: 'object',
              description: "the network server's management API, for sync and fleet migrations; the API key is write-only (kept in the data directory, mode 0600, never returned)",
              properties: {
                apiUrl: { type: 'string', minLength: 1, maxLength: 2048 },
                apiKey: { type: 'string', minLength: 1, maxLength: 8192, writeOnly: true },
                options: { type: 'object', additionalProperties: { type: 'string', maxLength: 1024 }, maxProperties: 64, description: "the adapter's options (applicationId, tenantId, region...)" },
              },
              required: ['apiUrl', 'apiKey'],
              additionalProperties: false,
            },
          },
          required: ['name', 'netID', 'vendor'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              peer: { $ref: 'Peer#' },
              bundle: BUNDLE,
              setup: {
                type: ['object', 'null'],
                description: "the vendor's setup, rendered by its adapter (null when the adapter package is not installed); secret files hold the KEK",
                properties: {
                  files: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, content: { type: 'string' }, secret: { type: 'boolean' } } } },
                  instructions: { type: 'array', items: { type: 'string' } },
                },
              },
              adapterConfigured: { type: 'boolean', description: 'the management API was stored: the network server can be synced and migrated' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    }, async (req, reply) => {
      const b = req.body;
      const { peer, bundle, setup, adapterConfigured } = await ctx.peers.registerNetworkServer(
        principalOf(req),
        {
          kind: 'ns',
          name: b.name,
          netID: parseNetID(b.netID, 'netID'),
          nsID: b.nsID === undefined ? null : parseEUI64(b.nsID, 'nsID'),
          vendor: parseVendor(b.vendor, 'vendor'),
          ...(b.kekLabel !== undefined ? { kekLabel: b.kekLabel } : {}),
        },
        {
          ...(b.joinEUIPrefixes !== undefined ? { joinEUIPrefixes: b.joinEUIPrefixes } : {}),
          ...(b.installDir !== undefined ? { installDir: b.installDir } : {}),
          ...(b.adapter !== undefined ? { adapter: { apiUrl: b.adapter.apiUrl, apiKey: b.adapter.apiKey, options: b.adapter.options ?? {} } } : {}),
        },
      );
      return reply.code(201).send({ peer: peerView(peer), bundle, setup, adapterConfigured });
    });

    app.post<{ Body: { name: string; asID: string; kekLabel?: string } }>('/application-servers', {
      preHandler: requireScope('peers'),
      schema: {
        tags: ['peers'],
        summary: 'Register an application server: its client certificate, KEK and credential bundle',
        security: BEARER_SECURITY,
        body: {
          type: 'object',
          properties: { name: NAME_SCHEMA, asID: { type: 'string', minLength: 1, maxLength: 255 }, kekLabel: { type: 'string', minLength: 1, maxLength: 200 } },
          required: ['name', 'asID'],
          additionalProperties: false,
        },
        response: { 201: CREATED, ...ERROR_RESPONSES },
      },
    }, async (req, reply) => {
      const b = req.body;
      const { peer, bundle } = await ctx.peers.register(principalOf(req), { kind: 'as', name: b.name, asID: b.asID, ...(b.kekLabel !== undefined ? { kekLabel: b.kekLabel } : {}) });
      return reply.code(201).send({ peer: peerView(peer), bundle });
    });
  };
}

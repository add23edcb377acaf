import type { FastifyPluginAsync } from 'fastify';
import { parseEUI64, parseNetID } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import { peerView } from '../../peers/peer-service';
import { parseVendor, VENDORS } from '../../peers/vendor';
import { BEARER_SECURITY, principalOf, requireScope } from '../admin-auth';
import type { AdminContext } from '../admin-context';
import { ERROR_RESPONSES } from '../admin-errors';
import { EUI64_SCHEMA, NAME_SCHEMA } from '../schemas';
import { ParseError } from '../../lorawan/parse-error';
import { parseDeadline } from '../../fleet-migration/migration-request';
import { nextKEKLabel, type BundleIssue } from '../../peers/peer-lifecycle';
import { Refusal } from '../../tenants/refusal';

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

const NAME_PARAMS = { type: 'object', properties: { name: NAME_SCHEMA }, required: ['name'] } as const;

const REISSUED = {
  type: 'object',
  properties: {
    peer: { $ref: 'PeerSummary#' },
    bundle: BUNDLE,
    setup: {
      type: ['object', 'null'],
      description: "the vendor's setup rendered again (network servers whose adapter package is installed); secret files hold the KEK",
      properties: {
        files: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, content: { type: 'string' }, secret: { type: 'boolean' } } } },
        instructions: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

/** What the vendor files need again when a network server's bundle is written anew. */
const SETUP_PROPERTIES = {
  joinEUIPrefixes: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 40 }, description: 'JoinEUI ranges for the vendor files (default all)' },
  installDir: { type: 'string', minLength: 1, maxLength: 1024, description: "where the bundle's files will sit on the network server's host (absolute)" },
  authorizationHeader: {
    type: 'string',
    minLength: 1,
    maxLength: 1024,
    writeOnly: true,
    description: 'the Authorization header the network server sends, when it has one (Joinery keeps only its digest; checked against it)',
  },
} as const;

interface SetupBody {
  readonly joinEUIPrefixes?: string[];
  readonly installDir?: string;
  readonly authorizationHeader?: string;
}

/**
 * A peer's life after its registration: its summary (state, certificates, devices bound, last
 * join), enable, disable, delete, a new bundle (and vendor files), certificate renewal and
 * retirement, KEK rotation. Every change is audited with the caller as actor.
 */
function lifecycleRoutes(app: Parameters<FastifyPluginAsync>[0], ctx: AdminContext, kind: Peer['kind'], collection: string): void {
  const what = kind === 'ns' ? 'network server' : 'application server';
  const base = `/${collection}/:name`;
  const schema = (summary: string, extra: Record<string, unknown>) => ({ tags: ['peers'], summary, security: BEARER_SECURITY, params: NAME_PARAMS, ...extra });
  const setupOf = (b: SetupBody | undefined) => ({
    ...(b?.joinEUIPrefixes !== undefined ? { joinEUIPrefixes: b.joinEUIPrefixes } : {}),
    ...(b?.installDir !== undefined ? { installDir: b.installDir } : {}),
    ...(b?.authorizationHeader !== undefined ? { authorizationHeader: b.authorizationHeader } : {}),
  });
  const reissued = async (p: ReturnType<typeof principalOf>, name: string, issue: BundleIssue, b: SetupBody | undefined) => {
    const { bundle, setup } = await ctx.peers.issueBundle(p, kind, name, issue, setupOf(b));
    return { peer: await ctx.peers.summary(p, kind, name), bundle, setup };
  };

  app.get<{ Params: { name: string } }>(
    `${base}/summary`,
    {
      preHandler: requireScope('peers'),
      schema: schema(`A ${what} with its state, certificates, devices bound and last join`, { response: { 200: { $ref: 'PeerSummary#' }, ...ERROR_RESPONSES } }),
    },
    async (req) => ctx.peers.summary(principalOf(req), kind, req.params.name),
  );

  for (const state of ['enabled', 'disabled'] as const) {
    app.post<{ Params: { name: string } }>(
      `${base}/${state === 'enabled' ? 'enable' : 'disable'}`,
      {
        preHandler: requireScope('peers'),
        schema: schema(state === 'enabled' ? `Serve a disabled ${what} again` : `Refuse a ${what} at once (UnknownSender, on every instance); its devices keep their binding`, {
          response: { 200: { $ref: 'PeerSummary#' }, ...ERROR_RESPONSES },
        }),
      },
      async (req) => ctx.peers.setState(principalOf(req), kind, req.params.name, state),
    );
  }

  app.delete<{ Params: { name: string }; Querystring: { unbindDevices?: boolean } }>(
    base,
    {
      preHandler: requireScope('peers'),
      schema: schema(`Delete a ${what} (its certificates are refused from then on); 409 while devices are bound to it, unless unbindDevices`, {
        querystring: { type: 'object', properties: { unbindDevices: { type: 'boolean', default: false } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { unbound: { type: 'integer' } } }, ...ERROR_RESPONSES },
      }),
    },
    async (req) => ctx.peers.delete(principalOf(req), kind, req.params.name, req.query.unbindDevices === true),
  );

  app.post<{ Params: { name: string }; Body: SetupBody | undefined }>(
    `${base}/bundle`,
    {
      preHandler: requireScope('peers'),
      schema: schema(`A new credential bundle (and vendor files) of a ${what}: with a new client certificate, as Joinery keeps no private key; the certificates before keep working until retired`, {
        body: { type: 'object', properties: SETUP_PROPERTIES, additionalProperties: false },
        response: { 200: REISSUED, ...ERROR_RESPONSES },
      }),
    },
    async (req) => reissued(principalOf(req), req.params.name, { kind: 'bundle' }, req.body),
  );

  app.post<{ Params: { name: string }; Body: (SetupBody & { retireOld?: boolean; overlap?: string }) | undefined }>(
    `${base}/renew-certificate`,
    {
      preHandler: requireScope('peers'),
      schema: schema(`A new client certificate for a ${what}, in a new bundle; the certificates before keep working until retired (retireOld: at once; overlap: after a duration such as 7d, or at an ISO 8601 time)`, {
        body: { type: 'object', properties: { ...SETUP_PROPERTIES, retireOld: { type: 'boolean' }, overlap: { type: 'string', minLength: 2, maxLength: 40 } }, additionalProperties: false },
        response: { 200: REISSUED, ...ERROR_RESPONSES },
      }),
    },
    async (req) => {
      const b = req.body;
      if (b?.retireOld && b.overlap !== undefined) throw new Refusal('bad-request', 'retireOld and overlap cannot be combined');
      let retireOthersAt: Date | null = null;
      try {
        retireOthersAt = b?.retireOld ? new Date() : b?.overlap !== undefined ? parseDeadline(b.overlap, new Date(), 'overlap') : null;
      } catch (err) {
        if (err instanceof ParseError) throw new Refusal('bad-request', err.message);
        throw err;
      }
      return reissued(principalOf(req), req.params.name, { kind: 'renew', retireOthersAt }, b);
    },
  );

  app.post<{ Params: { name: string }; Body: { fingerprint?: string } | undefined }>(
    `${base}/retire-certificates`,
    {
      preHandler: requireScope('peers'),
      schema: schema(`Refuse a ${what}'s earlier client certificates at once: all but the current one, or the one given`, {
        body: { type: 'object', properties: { fingerprint: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } }, additionalProperties: false },
        response: { 200: { $ref: 'PeerSummary#' }, ...ERROR_RESPONSES },
      }),
    },
    async (req) => ctx.peers.retireCertificates(principalOf(req), kind, req.params.name, req.body?.fingerprint?.toLowerCase()),
  );

  app.post<{ Params: { name: string }; Body: (SetupBody & { kekLabel?: string }) | undefined }>(
    `${base}/rotate-kek`,
    {
      preHandler: requireScope('peers'),
      schema: schema(`A new KEK for a ${what} under a new label (default: the current one with -2, -3 ...), used for answers at once; in a new bundle`, {
        body: { type: 'object', properties: { ...SETUP_PROPERTIES, kekLabel: { type: 'string', minLength: 1, maxLength: 200 } }, additionalProperties: false },
        response: { 200: REISSUED, ...ERROR_RESPONSES },
      }),
    },
    async (req) => {
      const peer = await ctx.peers.get(principalOf(req), kind, req.params.name);
      return reissued(principalOf(req), req.params.name, { kind: 'rotate-kek', kekLabel: req.body?.kekLabel ?? nextKEKLabel(peer.kekLabel) }, req.body);
    },
  );
}

/** Network servers and application servers of the tenant: list, get, create (→ credential bundle). */
export function peersRoutes(ctx: AdminContext): FastifyPluginAsync {
  return async (app) => {
    const collection = (kind: Peer['kind']): string => (kind === 'ns' ? 'network-servers' : 'application-servers');
    for (const kind of ['ns', 'as'] as const) {
      const what = kind === 'ns' ? 'network servers' : 'application servers';
      app.get(
        `/${collection(kind)}`,
        {
          preHandler: requireScope('peers'),
          schema: {
            tags: ['peers'],
            summary: `The tenant's ${what}`,
            security: BEARER_SECURITY,
            response: { 200: { type: 'object', properties: { peers: { type: 'array', items: { $ref: 'Peer#' } } } }, ...ERROR_RESPONSES },
          },
        },
        async (req) => ({ peers: (await ctx.peers.list(principalOf(req), kind)).map(peerView) }),
      );

      app.get<{ Params: { name: string } }>(
        `/${collection(kind)}/:name`,
        {
          preHandler: requireScope('peers'),
          schema: {
            tags: ['peers'],
            summary: `One of the tenant's ${what}`,
            security: BEARER_SECURITY,
            params: { type: 'object', properties: { name: NAME_SCHEMA }, required: ['name'] },
            response: { 200: { $ref: 'Peer#' }, ...ERROR_RESPONSES },
          },
        },
        async (req) => peerView(await ctx.peers.get(principalOf(req), kind, req.params.name)),
      );

      lifecycleRoutes(app, ctx, kind, collection(kind));
    }

    app.post<{ Body: NetworkServerBody }>(
      '/network-servers',
      {
        preHandler: requireScope('peers'),
        schema: {
          tags: ['peers'],
          summary:
            "Register a network server: its client certificate, KEK and credential bundle, the vendor's setup files and steps (rendered by its adapter), and optionally the adapter's management API (for sync and migrations)",
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
      },
      async (req, reply) => {
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
      },
    );

    app.post<{ Body: { name: string; asID: string; kekLabel?: string } }>(
      '/application-servers',
      {
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
      },
      async (req, reply) => {
        const b = req.body;
        const { peer, bundle } = await ctx.peers.register(principalOf(req), { kind: 'as', name: b.name, asID: b.asID, ...(b.kekLabel !== undefined ? { kekLabel: b.kekLabel } : {}) });
        return reply.code(201).send({ peer: peerView(peer), bundle });
      },
    );
  };
}

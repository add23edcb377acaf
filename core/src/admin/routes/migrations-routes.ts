import type { FastifyInstance, FastifyReply } from 'fastify';
import { ParseError } from '../../lorawan/parse-error';
import type { MigrationMetrics } from '../../metrics/migration-metrics';
import type { Store } from '../../store/store';
import { MIGRATION_ID_PATTERN } from '../../store/fleet-migration-journal';
import { openMigrationAdapters, type APIKeyReader } from '../../fleet-migration/migration-adapters';
import { prepareResume, requestRollback } from '../../fleet-migration/migration-control';
import { MigrationError, type MigrationErrorCode } from '../../fleet-migration/migration-error';
import { migrationReport, migrationSummary } from '../../fleet-migration/migration-report';
import { parseMigrationRequest, type MigrationRequestJSON } from '../../fleet-migration/migration-request';
import { runMigration } from '../../fleet-migration/migration-runner';
import { createMigration, planMigration } from '../../fleet-migration/plan-migration';
import { DEVICE_MIGRATION_STATES } from '../../store/fleet-migration-journal';

export interface MigrationRoutesDeps {
  readonly store: Store;
  readonly apiKeyOf: APIKeyReader;
  readonly metrics?: MigrationMetrics;
  /** Who asked, as the audit trail records it (the API key's id once the admin API has auth). */
  readonly actorOf?: (request: { readonly ip: string }) => string;
  readonly pollMs?: number;
  /** Where a background run reports what went wrong. */
  readonly onRunError?: (id: string, err: unknown) => void;
  /**
   * When the listener is ready, carry on every migration a stop left running or rolling back
   * (from its journal, as `joinery migrate resume` would, without un-parking devices).
   */
  readonly resumeOnStart?: boolean;
  /** Told of each migration resumed at start. */
  readonly onResumed?: (id: string) => void;
}

const HTTP_STATUS: Record<MigrationErrorCode, number> = {
  'migration-not-found': 404,
  'peer-not-found': 404,
  'not-a-network-server': 400,
  'no-adapter': 409,
  'same-peer': 400,
  'no-devices': 409,
  'device-in-another-migration': 409,
  'migration-settled': 409,
  'bad-request': 400,
};

const error = { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const selection = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['all', 'dev-euis', 'filter'] },
    devEUIs: { type: 'array', items: { type: 'string' }, maxItems: 1_000_000 },
    joinEUIPrefix: { type: ['string', 'null'] },
    macVersion: { type: ['string', 'null'] },
  },
} as const;
const requestBody = {
  type: 'object',
  required: ['sourcePeer', 'targetPeer'],
  additionalProperties: false,
  properties: {
    sourcePeer: { type: 'string' },
    targetPeer: { type: 'string' },
    strategy: { type: 'string', enum: ['overlap', 'cutover'] },
    selection,
    limits: { type: 'object', additionalProperties: { type: 'object', properties: { ratePerSecond: { type: 'number' }, concurrency: { type: 'integer' } }, additionalProperties: false } },
    deadline: { type: ['string', 'null'] },
    rollbackAtDeadline: { type: 'boolean' },
    maxAttempts: { type: 'integer' },
  },
} as const;
const counts = { type: 'object', properties: Object.fromEntries(DEVICE_MIGRATION_STATES.map((s) => [s, { type: 'integer' }])) } as const;
const summary = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sourcePeer: { type: 'string' },
    targetPeer: { type: 'string' },
    strategy: { type: 'string' },
    status: { type: 'string', enum: ['running', 'rolling-back', 'finished', 'rolled-back'] },
    selection,
    deadline: { type: ['string', 'null'] },
    rollbackAtDeadline: { type: 'boolean' },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    total: { type: 'integer' },
    counts,
  },
} as const;
const report = {
  type: 'object',
  properties: {
    ...summary.properties,
    devices: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          devEUI: { type: 'string' },
          state: { type: 'string' },
          failedStep: { type: ['string', 'null'] },
          lastError: { type: ['string', 'null'] },
          attempts: { type: 'integer' },
          reboundAt: { type: ['string', 'null'] },
          joinedAt: { type: ['string', 'null'] },
          updatedAt: { type: 'string' },
        },
      },
    },
  },
} as const;
const plan = {
  type: 'object',
  properties: {
    sourcePeer: { type: 'string' },
    targetPeer: { type: 'string' },
    strategy: { type: 'string' },
    devices: { type: 'integer' },
    skipped: { type: 'array', items: { type: 'object', properties: { devEUI: { type: 'string' }, reason: { type: 'string' } } } },
    calls: {
      type: 'array',
      items: { type: 'object', properties: { peer: { type: 'string' }, vendor: { type: 'string' }, calls: { type: 'integer' }, ratePerSecond: { type: 'number' }, seconds: { type: 'number' } } },
    },
  },
} as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: MIGRATION_ID_PATTERN.source } } } as const;

/**
 * The fleet migration part of the admin API (`/api/v1/migrations`), as a self-contained fastify
 * plugin: every body, parameter and answer has a JSON schema, every refusal is `{code,
 * message}` with a stable code. Migrations created or resumed here run in this process, in the
 * background, from the same journal the CLI uses (one runner per migration at a time).
 */
export function registerMigrationRoutes(app: FastifyInstance, deps: MigrationRoutesDeps): void {
  const running = new Map<string, { stop: AbortController; done: Promise<unknown> }>();
  const actor = (req: { ip: string }): string => deps.actorOf?.(req) ?? `admin-api:${req.ip}`;

  const start = (id: string, who: string): void => {
    if (running.has(id)) return;
    const stop = new AbortController();
    const done = (async () => {
      const m = await deps.store.getFleetMigration(id);
      if (!m) return;
      const [source, target] = await Promise.all([deps.store.getPeer(m.sourcePeer), deps.store.getPeer(m.targetPeer)]);
      if (!source || source.kind !== 'ns' || !target || target.kind !== 'ns') throw new MigrationError('peer-not-found', `the network servers of ${id} are no longer registered`);
      const adapters = await openMigrationAdapters(source, target, deps.apiKeyOf);
      try {
        await runMigration(id, { store: deps.store, adapters, actor: who, signal: stop.signal, ...(deps.metrics ? { metrics: deps.metrics } : {}), ...(deps.pollMs ? { pollMs: deps.pollMs } : {}) });
      } finally {
        await adapters.close();
      }
    })()
      .catch((err: unknown) => deps.onRunError?.(id, err))
      .finally(() => running.delete(id));
    running.set(id, { stop, done });
  };

  if (deps.resumeOnStart) {
    app.addHook('onReady', async () => {
      for (const m of await deps.store.listFleetMigrations(10_000)) {
        if (m.status !== 'running' && m.status !== 'rolling-back') continue;
        start(m.id, 'system:resume-on-start');
        deps.onResumed?.(m.id);
      }
    });
  }

  app.addHook('onClose', async () => {
    for (const r of running.values()) r.stop.abort();
    await Promise.all([...running.values()].map((r) => r.done));
  });

  const refuse = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof MigrationError) return reply.code(HTTP_STATUS[err.code]).send({ code: err.code, message: err.message });
    if (err instanceof ParseError) return reply.code(400).send({ code: 'bad-request', message: err.message });
    throw err;
  };

  app.post<{ Body: MigrationRequestJSON }>('/api/v1/migrations/plan', { schema: { body: requestBody, response: { 200: plan, 400: error, 404: error, 409: error } } }, async (req, reply) => {
    try {
      const p = await planMigration(deps.store, parseMigrationRequest(req.body));
      return { sourcePeer: p.source.name, targetPeer: p.target.name, strategy: p.request.strategy, devices: p.devEUIs.length, skipped: p.skipped, calls: p.calls };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  app.post<{ Body: MigrationRequestJSON }>('/api/v1/migrations', { schema: { body: requestBody, response: { 201: summary, 400: error, 404: error, 409: error } } }, async (req, reply) => {
    try {
      const p = await planMigration(deps.store, parseMigrationRequest(req.body));
      const m = await createMigration(deps.store, p, actor(req));
      start(m.id, actor(req));
      return reply.code(201).send(await migrationSummary(deps.store, m.id));
    } catch (err) {
      return refuse(reply, err);
    }
  });

  app.get('/api/v1/migrations', { schema: { response: { 200: { type: 'object', properties: { migrations: { type: 'array', items: summary } } } } } }, async () => {
    const list = await deps.store.listFleetMigrations(100);
    return { migrations: await Promise.all(list.map((m) => migrationSummary(deps.store, m.id))) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/migrations/:id', { schema: { params: idParams, response: { 200: summary, 404: error } } }, async (req, reply) => {
    try {
      return await migrationSummary(deps.store, req.params.id);
    } catch (err) {
      return refuse(reply, err);
    }
  });

  app.get<{ Params: { id: string } }>('/api/v1/migrations/:id/report', { schema: { params: idParams, response: { 200: report, 404: error } } }, async (req, reply) => {
    try {
      return await migrationReport(deps.store, req.params.id);
    } catch (err) {
      return refuse(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/api/v1/migrations/:id/resume', { schema: { params: idParams, response: { 202: summary, 404: error, 409: error } } }, async (req, reply) => {
    try {
      const { migration } = await prepareResume(deps.store, req.params.id, actor(req));
      start(migration.id, actor(req));
      return reply.code(202).send(await migrationSummary(deps.store, migration.id));
    } catch (err) {
      return refuse(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/api/v1/migrations/:id/rollback', { schema: { params: idParams, response: { 202: summary, 404: error } } }, async (req, reply) => {
    try {
      const m = await requestRollback(deps.store, req.params.id, actor(req));
      if (m.status === 'rolling-back') start(m.id, actor(req));
      return reply.code(202).send(await migrationSummary(deps.store, m.id));
    } catch (err) {
      return refuse(reply, err);
    }
  });
}

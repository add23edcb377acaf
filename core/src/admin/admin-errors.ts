import type { FastifyError, FastifyInstance } from 'fastify';
import { DeviceImportError } from '../devices/device-import-file';
import type { Logger } from '../log/logger';
import { ParseError } from '../lorawan/parse-error';
import { isStoreUnavailable } from '../store/store-errors';
import { Refusal } from '../tenants/refusal';

/** Every error the admin API answers: a stable code and a message. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

/** The error answers every authenticated route may give, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  422: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const;

/** The Retry-After (seconds) of a 503 while the store is busy or away. */
const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * `{code, message}` for everything: refusals with their status, bad input (schema validation,
 * unparsable values, a bad import file) 400, unknown routes 404, the store busy or away 503
 * with Retry-After (see isStoreUnavailable); only a bug is a 500, and its details go to the
 * log, never to the client.
 */
export function addAdminErrorHandling(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler(async (err: FastifyError, _req, reply) => {
    if (err instanceof Refusal) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.code(err.status).send({ code: err.code, message: err.message });
    }
    if (err instanceof ParseError) return reply.code(400).send({ code: 'bad-request', message: err.message });
    if (err instanceof DeviceImportError) return reply.code(400).send({ code: 'import-refused', message: `nothing was imported. ${err.message}` });
    if (err.validation) return reply.code(400).send({ code: 'bad-request', message: err.message });
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ code: err.statusCode === 404 ? 'not-found' : err.statusCode === 415 ? 'unsupported-media-type' : 'bad-request', message: err.message });
    }
    if (isStoreUnavailable(err)) {
      reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      return reply.code(503).send({ code: 'store-unavailable', message: 'the store is busy or unreachable; try again shortly' });
    }
    log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'admin API error');
    return reply.code(500).send({ code: 'internal', message: 'internal error (logged)' });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ code: 'not-found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
}

import type { FastifyInstance } from 'fastify';

/**
 * Refuses, with 400, a request whose body, query or path parameters hold a string with a NUL
 * character anywhere (a value or a key): PostgreSQL cannot store one in text, SQLite would
 * keep it and cut it short in C strings; no admin field has a use for it.
 */
export function refuseNulBytes(app: FastifyInstance): void {
  app.addHook('preValidation', async (req, reply) => {
    for (const [part, value] of [
      ['body', req.body],
      ['query', req.query],
      ['path', req.params],
    ] as const) {
      const where = nulPath(value, part);
      if (where !== null) return reply.code(400).send({ code: 'bad-request', message: `${where}: a NUL character is not allowed` });
    }
    return undefined;
  });
}

/** The path of the first string holding a NUL, or null. */
function nulPath(value: unknown, at: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? at : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${at}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${at}: a key`;
      const found = nulPath(v, `${at}.${k}`);
      if (found !== null) return found;
    }
  }
  return null;
}

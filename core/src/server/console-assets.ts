import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console's Content-Security-Policy: scripts, styles and API calls from this origin
 * only, no inline script or style, no plugins, no frames, no form posts elsewhere. The camera
 * (QR scanning) needs no source: its stream is attached to a video element as an object.
 */
export const CONSOLE_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join(
  '; ',
);

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The page is small and rebuilt in place: revalidate (ETag) instead of caching stale code.
  'cache-control': 'no-cache',
};

/**
 * Where the built console is: the `dist/` folder of the @joinery/console package, found at run
 * time (the console is static files, not code core depends on). Null when not built.
 */
export function consoleDirectory(): string | null {
  try {
    const dir = path.join(path.dirname(require.resolve('@joinery/console/package.json')), 'dist');
    return existsSync(path.join(dir, 'index.html')) ? dir : null;
  } catch {
    return null;
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Serves the console at `/` on the admin listener: the files the build made, read once at
 * start (a handful of small files), one GET route each (no wildcard route, so the admin API's
 * routes and answers are untouched), each with the security headers and an ETag.
 */
export async function registerConsole(app: FastifyInstance, dir: string | null = consoleDirectory()): Promise<void> {
  const schema = { tags: ['console'], summary: 'The web console', hide: false };
  if (dir === null) {
    app.get('/', { schema: { ...schema, summary: 'The web console (not built here)' } }, async (_req, reply) =>
      reply.code(404).send({ code: 'console_not_built', message: 'the web console is not built: run npm run build' }),
    );
    return;
  }
  for (const name of await readdir(dir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (type === undefined) continue;
    const body = await readFile(path.join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const send = async (req: FastifyRequest, reply: FastifyReply) => {
      reply.headers({ ...SECURITY_HEADERS, etag });
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    };
    for (const url of name === 'index.html' ? ['/', '/index.html'] : [`/${name}`]) app.get(url, { schema }, send);
  }
}

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The web console's Content-Security-Policy: scripts, styles and API calls from this origin
 * only, no inline script or style, no plugins, no frames, no form posts elsewhere. The camera
 * (QR scanning) needs no source: its stream is attached to a video element as an object.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
 * time (the console is static files, not code core depends on). Undefined when not built.
 */
export function consoleDirectory(): string | undefined {
  try {
    const dir = path.join(path.dirname(require.resolve('@joinery/console/package.json')), 'dist');
    return existsSync(path.join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the console at `/` on the admin listener: only the files the build made (no wildcard
 * route, so the admin API's routes and answers are untouched), each with the security headers.
 */
export async function registerConsole(app: FastifyInstance, dir: string | undefined = consoleDirectory()): Promise<void> {
  if (dir === undefined) {
    app.get('/', async (_req, reply) =>
      reply.code(404).send({ code: 'console_not_built', message: 'the web console is not built: run npm run build' }),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    cacheControl: false,
    setHeaders(res) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
}

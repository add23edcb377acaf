import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { CONSOLE_CSP, registerConsole } from '../../../core/src/server/console-assets';
import { makeTempDir } from '../support/joinery-cli';

// How the admin listener serves the console's built files (console/dist), and what it says
// when they were never built.
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function serve(dir: string | null): Promise<string> {
  const app = Fastify();
  apps.push(app);
  await registerConsole(app, dir);
  return `${await app.listen({ host: '127.0.0.1', port: 0 })}/`;
}

test('the built files only, each with its type, the policy and an ETag; a revalidation is a 304', async () => {
  const dir = await makeTempDir('console-dist');
  await fs.writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/app.js"></script>');
  await fs.writeFile(path.join(dir, 'app.js'), 'export {};');
  await fs.writeFile(path.join(dir, 'notes.txt'), 'not part of the console');
  const base = await serve(dir);
  const page = await fetch(base);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
  expect(await (await fetch(new URL('index.html', base))).text()).toBe(await page.text());
  const js = await fetch(new URL('app.js', base));
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  const etag = js.headers.get('etag')!;
  expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  const again = await fetch(new URL('app.js', base), { headers: { 'if-none-match': etag } });
  expect(again.status).toBe(304);
  expect(again.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
  expect((await fetch(new URL('notes.txt', base))).status).toBe(404);
  expect((await fetch(new URL('../etc/passwd', base))).status).toBe(404);
  await fs.rm(dir, { recursive: true, force: true });
});

test('not built: / says so as {code, message}', async () => {
  const res = await fetch(await serve(null));
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ code: 'console_not_built', message: expect.stringMatching(/npm run build/) });
});

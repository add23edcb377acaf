import { CONSOLE_CSP } from '../../../core/src/server/console-assets';
import { launchBrowser, screenshots, type Browser } from '../support/browser';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';

// The console is served by a real `joinery serve` with a strict Content-Security-Policy, and
// works under it: its code comes only from the admin listener's origin.
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  const dataDir = await makeTempDir('console-csp');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'csp-ns', '--net-id', '000013', '--vendor', 'generic', '--out', `${dataDir}/bundle`]);
  server = await startServer(dataDir);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map((d) => [d[0]!, d.slice(1)]),
  );
}

test('the page, its script and its stylesheet carry the strict policy', async () => {
  for (const file of ['', 'app.js', 'app.css']) {
    const res = await fetch(new URL(file, server.adminURL));
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy');
    expect(csp).toBe(CONSOLE_CSP);
    const d = directives(csp!);
    expect(d.get('default-src')).toEqual(["'none'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('style-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  }
  const html = await (await fetch(server.adminURL)).text();
  // Module scripts from our own origin only, nothing inline.
  expect(html).toMatch(/<script type="module" src="\/app.js"><\/script>/);
  expect(html.match(/<script/g)).toHaveLength(1);
  expect(html).not.toMatch(/\s(style|on[a-z]+)=/i);
});

test('the sign-in page works under the policy, which the browser enforces', async () => {
  const page = await browser.newPage();
  await page.goto(server.adminURL);
  await page.getByLabel('API key').waitFor();
  await screenshots(page, 'sign-in');
  expect(browser.consoleMessages.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
  expect(browser.consoleMessages.filter((m) => m.startsWith('error') || m.startsWith('pageerror'))).toEqual([]);
  // The policy is in force: an injected inline script does not run, and the browser says why.
  await page.addScriptTag({ content: 'document.title = "injected"' }).catch(() => undefined);
  expect(await page.title()).toBe('Joinery console');
  expect(browser.consoleMessages.some((m) => /Content Security Policy/i.test(m))).toBe(true);
  // Every request the page made went to the admin listener.
  const origin = new URL(server.adminURL).origin;
  expect(browser.requestURLs.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
});

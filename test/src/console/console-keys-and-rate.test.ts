import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { randomKey } from '../support/lora-device';
import { apiKeyIn, launchBrowser, PHONE, DESKTOP, screenshots, signIn, type Browser } from '../support/browser';
import { cli, makeTempDir, runCLI, startServer, type ServerProcess } from '../support/joinery-cli';

/**
 * The operator's console, in Debian's Chromium against a real `joinery serve`: the join-rate
 * chart fed by real joins (accepted and a replay refused) on the device list and the network
 * server's page; a refusal's badge on a phone; the API keys page (a key made, its secret shown
 * once and copied, then revoked); an admin API refusal in the console's words.
 */
const JOIN_EUI = '70B3D57ED0000000';
const DEVICES = ['0004A30B001C0B01', '0004A30B001C0B02'];
const APP_KEYS = DEVICES.map(() => randomKey());

let dataDir: string;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let opsKey: string;

beforeAll(async () => {
  dataDir = await makeTempDir('console-keys-rate');
  opsKey = apiKeyIn((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'ops', '--name', 'Operations', '--roles', 'admin'])).stdout);
  await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'acme', '--roles', 'owner']);
  for (const name of ['rate-ns', 'other-ns']) await cli(['ns', 'add', '--data-dir', dataDir, '--name', name, '--net-id', '000013', '--vendor', 'generic', '--out', path.join(dataDir, name)]);
  const csv = path.join(dataDir, 'devices.csv');
  await fs.writeFile(csv, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${DEVICES.map((d, i) => `${d},${JOIN_EUI},1.0.3,${APP_KEYS[i]},`).join('\n')}\n`);
  await cli(['devices', 'import', csv, '--ns', 'rate-ns', '--data-dir', dataDir]);
  server = await startServer(dataDir);
  browser = await launchBrowser();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

async function go(hash: string): Promise<void> {
  await page.goto(new URL(`/#/${hash}`, server.adminURL).toString());
}

function whoami(key: string): Promise<Response> {
  return fetch(new URL('/api/v1/whoami', server.adminURL), { headers: { authorization: `Bearer ${key}` } });
}

test('join rate: real joins and a refused replay, per minute, on the device list and the network server page', async () => {
  const join = (i: number) => [
    'simulate',
    'join',
    '--bundle',
    path.join(dataDir, 'rate-ns'),
    '--url',
    server.biURL,
    '--dev-eui',
    DEVICES[i]!,
    '--join-eui',
    JOIN_EUI,
    '--mac-version',
    '1.0.3',
    '--app-key',
    APP_KEYS[i]!,
    '--dev-nonce',
    '4660',
  ];
  expect((await cli(join(0))).stdout).toContain('join verified');
  expect((await cli(join(1))).stdout).toContain('join verified');
  const replay = await runCLI(join(0));
  expect([replay.code, replay.stdout]).toEqual([1, expect.stringContaining('-> JoinReqFailed')]);
  // The join history is written within a moment of each answer.
  for (let i = 0; i < 50; i++) {
    const body = (await (await fetch(new URL('/api/v1/join-rate', server.adminURL), { headers: { authorization: `Bearer ${opsKey}` } })).json()) as { minutes: Array<{ joins: number; refusals: number }> };
    if (body.minutes.reduce((n, m) => n + m.joins + m.refusals, 0) === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await page.goto(server.adminURL);
  await signIn(page, server.adminURL, opsKey);
  const chart = page.getByRole('img', { name: 'Joins and refusals per minute, last hour' });
  await chart.waitFor();
  const legend = page.locator('.join-rate .legend');
  expect(await legend.textContent()).toBe('joins: 2refusals: 1');
  // Bars: one per kind in the minute (or two minutes) the joins fell in, each saying what it counts.
  const tips = await chart.locator('rect title').allTextContents();
  expect(tips.length).toBeGreaterThanOrEqual(2);
  expect(tips.join('\n')).toMatch(/\d{1,2}:\d{2}(?:\s*[AP]M)?: [12] joins, [01] refusals/);
  await screenshots(page, 'devices-join-rate');

  await go('networks/rate-ns');
  await page.getByRole('img', { name: 'Joins and refusals per minute through rate-ns, last hour' }).waitFor();
  expect(await page.locator('.join-rate .legend').textContent()).toBe('joins: 2refusals: 1');
  await screenshots(page, 'network-server-join-rate');
  await go('networks/other-ns');
  await page.getByRole('img', { name: 'Joins and refusals per minute through other-ns, last hour' }).waitFor();
  expect(await page.locator('.join-rate .legend').textContent()).toBe('joins: 0refusals: 0');
});

test("a refusal's result on a phone stays a badge: its own size, its reason under it", async () => {
  await page.setViewportSize(PHONE);
  try {
    await go(`devices/${DEVICES[0]!.toLowerCase()}`);
    const badge = page.locator('.badge.bad', { hasText: 'JoinReqFailed' });
    await badge.waitFor();
    const reason = page.getByText(/DevNonce 4660/).first();
    const [b, r, text] = await Promise.all([
      badge.boundingBox(),
      reason.boundingBox(),
      badge.evaluate((el) => ({ width: el.scrollWidth, lineHeight: parseFloat(el.ownerDocument.defaultView!.getComputedStyle(el).lineHeight) || 16 })),
    ]);
    // One line high (not stretched to the reason's height), as wide as its text, the reason below it.
    expect(b!.height).toBeLessThan(text.lineHeight * 1.8);
    expect(b!.width).toBeLessThanOrEqual(text.width + 4);
    expect(r!.y).toBeGreaterThanOrEqual(b!.y + b!.height - 1);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
});

test('API keys: a new key is shown once with a copy button, works, and is refused once revoked; the operator sees any tenant', async () => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.adminURL).origin });
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  // The key in use is marked.
  await page.getByRole('cell', { name: /\(this session\)/ }).waitFor();
  await page.getByLabel('Label (what it is for)').fill('grafana');
  await page.getByRole('checkbox', { name: /devices:write/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secretBox = page.getByLabel('New API key secret');
  await secretBox.waitFor();
  const secret = await secretBox.inputValue();
  expect(secret).toMatch(/^jny_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByText('Copied to the clipboard.').waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
  const me = (await (await whoami(secret)).json()) as { tenant: { id: string }; scopes: string[] };
  expect(me).toMatchObject({ tenant: { id: 'ops' }, scopes: ['devices:read', 'devices:write'] });
  const row = page.getByRole('row').filter({ hasText: 'grafana' });
  expect(await row.textContent()).toContain(secret.slice(4, 20)); // the key ID, never the secret
  await screenshots(page, 'api-keys');
  // Shown once: gone after leaving the page, nowhere in it.
  await go('devices');
  await go('api-keys');
  await row.waitFor();
  expect(await page.content()).not.toContain(secret.slice(21));
  // Revoked: asked first, then refused by the API at once.
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByText(`Key ${secret.slice(4, 20)} is revoked`).waitFor();
  expect(await row.locator('.badge.bad').textContent()).toMatch(/^revoked/);
  expect((await whoami(secret)).status).toBe(401);
  // Another tenant's keys: its first one, from tenants add.
  await page.getByLabel('Tenant', { exact: true }).selectOption('acme');
  await page.getByRole('heading', { name: 'New API key for acme' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'devices:read, devices:write, claims, peers, admin' }).waitFor();
});

test("a refusal of the admin API reads in the console's words, not the command line's", async () => {
  await go('migrations');
  await page.getByLabel('From network server').selectOption('rate-ns');
  await page.getByLabel('To network server').selectOption('other-ns');
  await page.getByRole('button', { name: 'Preview (dry run)' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'no adapter configured' });
  await alert.waitFor();
  const text = (await alert.textContent())!;
  expect(text).toContain('it needs a management API');
  expect(text).not.toMatch(/--[a-z]|\bjoinery [a-z]|ns add/);
});

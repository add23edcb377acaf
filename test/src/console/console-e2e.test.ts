import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import type { Page } from 'playwright-core';
import { randomKey } from '../support/lora-device';
import { apiKeyIn, launchBrowser, screenshots, signIn, type Browser } from '../support/browser';
import { cli, makeTempDir, runCLI, startServer, type ServerProcess } from '../support/joinery-cli';

/**
 * The console's acceptance walk, in Debian's Chromium against a real `joinery serve`: an owner
 * signs in with their API key, adds a network server (credential bundle downloaded as a zip),
 * claims a maker's device with a wrong and then the right owner token, binds it, sees it join
 * (a device simulated with the downloaded bundle), and reads the usage. Each page is
 * photographed at 1280x800 and on a phone. The API key is never in a URL or the server's output.
 */
const DEV_EUI = '0004A30B001C0A01';
const JOIN_EUI = '70B3D57ED0000000';
const OWNER_TOKEN = 'K7Q2M9X4';
const APP_KEY = randomKey();

let dataDir: string;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let ownerKey: string;

beforeAll(async () => {
  dataDir = await makeTempDir('console-e2e');
  // A device maker pre-provisions the device (its owner token printed on its label); the
  // owner is another tenant, with its own API key.
  await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'maker', '--roles', 'manufacturer']);
  ownerKey = apiKeyIn((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'acme', '--name', 'Acme Farms', '--roles', 'owner'])).stdout);
  const csv = path.join(dataDir, 'made.csv');
  await fs.writeFile(csv, `dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token\n${DEV_EUI},${JOIN_EUI},1.0.3,${APP_KEY},,${OWNER_TOKEN}\n`);
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--as-tenant', 'maker', '--labels', path.join(dataDir, 'labels.csv')]);
  // The operator's own network server, which owners may bind their devices to as well.
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'operator-ns', '--net-id', '000014', '--vendor', 'generic', '--out', path.join(dataDir, 'operator-ns')]);
  server = await startServer(dataDir);
  browser = await launchBrowser();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function go(hash: string): Promise<void> {
  await page.goto(new URL(`/#/${hash}`, server.adminURL).toString());
}

test('a wrong API key is refused; the right one signs in and is kept for the tab only', async () => {
  await go('devices');
  // How to get a key is on the page.
  await page.getByText('joinery tenants add --id ops --roles admin').waitFor();
  expect(server.output()).toContain('joinery tenants add --id ops --roles admin prints one');
  await page.getByLabel('API key').fill('jny_0000000000000000_' + 'A'.repeat(43));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  await signIn(page, server.adminURL, ownerKey);
  expect(await page.evaluate('sessionStorage.length')).toBe(1);
  expect(await page.evaluate('localStorage.length')).toBe(0);
  expect(await page.context().cookies()).toEqual([]);
});

test("add a network server: its credential bundle and the vendor's setup files are downloaded as a zip, with the adapter's instructions shown", async () => {
  await go('networks');
  await page.getByLabel('Vendor').selectOption('chirpstack');
  await page.getByLabel('Name').fill('acme-ns');
  await page.getByLabel('NetID').fill('000013');
  await page.getByLabel(/JoinEUI ranges/).fill('70b3d57ed0000000/40');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Add and download/ }).click()]);
  expect(download.suggestedFilename()).toBe('acme-ns.zip');
  const zipPath = path.join(dataDir, 'acme-ns.zip');
  await download.saveAs(zipPath);
  const files = unzipSync(new Uint8Array(await fs.readFile(zipPath)));
  expect(Object.keys(files).sort()).toEqual(['acme-ns/README.txt', 'acme-ns/SETUP.txt', 'acme-ns/ca.crt', 'acme-ns/chirpstack.toml', 'acme-ns/client.crt', 'acme-ns/client.key', 'acme-ns/kek.json', 'acme-ns/peer.json']);
  // ChirpStack's configuration: Joinery's BI URL for this network server, its JoinEUI range, the bundle's KEK.
  const toml = strFromU8(files['acme-ns/chirpstack.toml']!);
  const kek = (JSON.parse(strFromU8(files['acme-ns/kek.json']!)) as { kek: string }).kek;
  expect(toml).toContain('/bi/acme-ns');
  expect(toml.toLowerCase()).toContain('70b3d57ed0000000/40');
  expect(toml.toLowerCase()).toContain(kek.toLowerCase());
  expect(strFromU8(files['acme-ns/SETUP.txt']!)).toContain('1. Copy ca.crt, client.crt and client.key to /etc/chirpstack/joinery-acme-ns');
  const bundleDir = path.join(dataDir, 'bundle');
  await fs.mkdir(bundleDir);
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(bundleDir, path.basename(name)), strFromU8(content), { mode: 0o600 });
  await page.getByRole('listitem').filter({ hasText: 'Merge chirpstack.toml into your chirpstack.toml' }).waitFor();
  await page.getByRole('cell', { name: 'acme-ns' }).waitFor();
  await screenshots(page, 'networks');
});

test('claim with a wrong owner token is refused, with the right one succeeds; then bind it', async () => {
  await go('claim');
  // The claim form's DevEUI (the bind form below has one too, once the network servers have loaded).
  await page.locator('#dev-eui').fill(DEV_EUI.toLowerCase());
  await page.getByLabel('Owner token').fill('WRONG123');
  await page.getByRole('button', { name: 'Claim', exact: true }).click();
  await page.getByRole('alert').waitFor();
  expect(await page.getByRole('alert').textContent()).not.toContain('is yours');
  // The label's QR code, pasted: it fills the DevEUI and the token.
  await page.getByLabel('QR code on the label').fill(`LW:D0:${JOIN_EUI}:${DEV_EUI}:00000000:O${OWNER_TOKEN}`);
  expect(await page.getByLabel('Owner token').inputValue()).toBe(OWNER_TOKEN);
  await page.getByRole('button', { name: 'Claim', exact: true }).click();
  await page.getByText(`Device ${DEV_EUI} is yours`).waitFor();
  // Every network server binding accepts: the owner's own and the operator's.
  const options = await page.getByLabel('Network server').locator('option').allTextContents();
  expect(options).toEqual(expect.arrayContaining([expect.stringMatching(/^acme-ns \(NetID 000013, chirpstack, acme\)$/), expect.stringMatching(/^operator-ns \(NetID 000014, generic, operator\)$/)]));
  await page.getByLabel('Network server').selectOption('acme-ns');
  await page.getByRole('button', { name: 'Bind', exact: true }).click();
  await page.getByText(`Device ${DEV_EUI} may now join through acme-ns`).waitFor();
  await screenshots(page, 'claim');
});

test('the device joins (simulated with the downloaded bundle), a replay is refused, and the console shows both in its history', async () => {
  const join = ['simulate', 'join', '--bundle', path.join(dataDir, 'bundle'), '--url', server.biURL, '--dev-eui', DEV_EUI, '--join-eui', JOIN_EUI, '--mac-version', '1.0.3', '--app-key', APP_KEY, '--dev-nonce', '4660'];
  const r = await cli(join);
  expect(r.stdout).toContain('join verified');
  const replay = await runCLI(join);
  expect([replay.code, replay.stdout]).toEqual([1, expect.stringContaining('-> JoinReqFailed')]);
  // Through the API: both attempts, newest first (the history is written within a moment).
  let joins: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 50 && joins.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    joins = ((await (await fetch(new URL(`/api/v1/devices/${DEV_EUI}/joins`, server.adminURL), { headers: { authorization: `Bearer ${ownerKey}` } })).json()) as { joins: Array<Record<string, unknown>> }).joins;
  }
  expect(joins).toEqual([
    expect.objectContaining({ networkServer: 'acme-ns', joinType: 'join', macVersion: '1.0.3', result: 'JoinReqFailed', devNonce: 4660, joinNonce: null, description: expect.stringContaining('4660') }),
    expect.objectContaining({ networkServer: 'acme-ns', joinType: 'join', macVersion: '1.0.3', result: 'Success', devNonce: 4660, joinNonce: expect.any(Number), description: null }),
  ]);
  // And through the CLI, beside the running server.
  const cliJoins = JSON.parse((await cli(['devices', 'joins', DEV_EUI, '--json', '--data-dir', dataDir])).stdout) as Array<{ result: string }>;
  expect(cliJoins.map((j) => j.result)).toEqual(['JoinReqFailed', 'Success']);
  expect((await cli(['devices', 'joins', DEV_EUI, '--data-dir', dataDir])).stdout).toMatch(/acme-ns\s+join\s+1\.0\.3\s+JoinReqFailed\s+DevNonce 4660/);
  await go('devices');
  const row = page.getByRole('row').filter({ hasText: DEV_EUI });
  await row.waitFor();
  expect(await row.textContent()).toContain('acme-ns');
  await page.getByLabel('Search devices').fill('0004a30b');
  await page.getByText('1–1 of 1').waitFor();
  await screenshots(page, 'devices');
  await row.getByRole('link', { name: DEV_EUI }).click();
  await page.getByRole('heading', { name: /Device/ }).waitFor();
  await page.getByRole('cell', { name: 'Success' }).waitFor();
  const history = page.getByRole('row').filter({ hasText: 'acme-ns' });
  expect(await history.count()).toBe(2);
  expect(await history.first().textContent()).toContain('JoinReqFailed');
  expect(await history.nth(1).textContent()).toMatch(/Success.*4660/);
  await screenshots(page, 'device');
  // The DevNonce reset asks first, with a reason for the audit log.
  await page.getByRole('button', { name: 'Reset DevNonce' }).click();
  await page.getByLabel('Reason (kept in the audit log)').fill('device replaced its battery and restarted');
  await page.getByRole('dialog').getByRole('button', { name: 'Reset DevNonce' }).click();
  await page.getByText('The DevNonces this device used are forgotten').waitFor();
  // Nothing on any page is a key.
  expect(await page.content()).not.toMatch(new RegExp(APP_KEY, 'i'));
});

test('devices: filtered by state, network server and MAC version, exported as CSV; times carry their time zone', async () => {
  await go('devices');
  const row = page.getByRole('row').filter({ hasText: DEV_EUI });
  await row.waitFor();
  // The last join's time, with its zone (the browser's: an abbreviation or a UTC/GMT offset).
  expect(await row.textContent()).toMatch(/\d{1,2}:\d{2}:\d{2}\s*(?:[AP]M\s*)?(?:UTC|GMT[+-−]?[\d:]*|[A-Z]{2,5})/);
  await page.getByLabel('State').selectOption('unclaimed');
  await page.getByText('No device matches.').waitFor();
  await page.getByLabel('State').selectOption('bound');
  await row.waitFor();
  await page.getByLabel('MAC version').selectOption('1.1');
  await page.getByText('No device matches.').waitFor();
  await page.getByLabel('MAC version').selectOption('1.0.3');
  await row.waitFor();
  // The operator's network server is in the list; none of the owner's devices is bound to it.
  await page.getByLabel('Network server').selectOption('operator-ns');
  await page.getByText('No device matches.').waitFor();
  await page.getByLabel('Network server').selectOption('acme-ns');
  await row.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  expect(download.suggestedFilename()).toBe('joinery-devices.csv');
  const lines = (await fs.readFile((await download.path())!, 'utf8')).trim().split('\n');
  expect(lines[0]).toBe('dev_eui,join_eui,mac_version,owner,network_server,application_server,locked,last_join_at,last_join_network_server');
  expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^${DEV_EUI},${JOIN_EUI},1\\.0\\.3,acme,acme-ns,,false,`, 'i'))]);
  expect(lines.join('\n')).not.toMatch(new RegExp(APP_KEY, 'i'));
  await screenshots(page, 'devices-filtered');
});

test('usage: the activation of this month, as a chart and a CSV', async () => {
  await go('usage');
  await page.getByRole('img', { name: 'Devices activated per month' }).waitFor();
  const month = new Date().toISOString().slice(0, 7);
  expect(await page.getByRole('row').filter({ hasText: month }).textContent()).toContain('1');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download per month (CSV)' }).click()]);
  const csv = await fs.readFile((await download.path())!, 'utf8');
  expect(csv.split('\n')).toContain(`${month},1`);
  await screenshots(page, 'usage');
});

test('no page shows a root key or the network server KEK', async () => {
  const kek = (JSON.parse(await fs.readFile(path.join(dataDir, 'bundle', 'kek.json'), 'utf8')) as { kek: string }).kek;
  for (const hash of ['devices', `devices/${DEV_EUI}`, 'claim', 'networks', 'usage', 'migrations']) {
    await go(hash);
    await page.getByRole('heading').first().waitFor();
    await page.waitForLoadState('networkidle');
    const html = (await page.content()).toLowerCase();
    expect([hash, html.includes(APP_KEY.toLowerCase()) || html.includes(kek.toLowerCase())]).toEqual([hash, false]);
  }
});

test('device actions next to the DevNonce reset: delete one device, transfer another to a tenant (a new owner token shown once)', async () => {
  const api = (method: string, url: string, body?: unknown) =>
    fetch(new URL(`/api/v1${url}`, server.adminURL), {
      method,
      headers: { authorization: `Bearer ${ownerKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  // A second device of the maker, claimed by the owner through the API, then deleted in the console.
  const second = '0004A30B001C0A02';
  const csv = path.join(dataDir, 'second.csv');
  const third = '0004A30B001C0A03';
  await fs.writeFile(csv, `dev_eui,join_eui,mac_version,app_key,nwk_key,owner_token\n${second},${JOIN_EUI},1.0.3,${randomKey()},,SECOND42\n${third},${JOIN_EUI},1.0.3,${randomKey()},,THIRD420\n`);
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--as-tenant', 'maker', '--labels', path.join(dataDir, 'labels2.csv')]);
  expect((await api('POST', '/claims', { devEUI: second, ownerToken: 'SECOND42' })).status).toBe(200);
  expect((await api('POST', '/claims', { devEUI: third, ownerToken: 'THIRD420' })).status).toBe(200);
  // Unclaimed: the maker's again, in stock; the owner no longer sees it.
  await go(`devices/${third.toLowerCase()}`);
  await page.getByRole('button', { name: 'Unclaim', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Unclaim', exact: true }).click();
  await page.getByText('The device has no owner and no binding any more').waitFor();
  expect((await api('GET', `/devices/${third}`)).status).toBe(404);
  await go(`devices/${second.toLowerCase()}`);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  expect((await api('GET', `/devices/${second}`)).status).toBe(404);
  // The first device, transferred to the maker: no longer the owner's, a new owner token shown.
  await go(`devices/${DEV_EUI.toLowerCase()}`);
  await page.getByRole('button', { name: 'Transfer', exact: true }).click();
  await page.getByLabel('New owner (tenant ID)').fill('maker');
  await screenshots(page, 'device-transfer');
  await page.getByRole('dialog').getByRole('button', { name: 'Transfer', exact: true }).click();
  await page.getByText(/The device is maker's now, not bound\. Its new owner token, shown only this once: \S+/).waitFor();
  expect((await api('GET', `/devices/${DEV_EUI}`)).status).toBe(404);
});

test("audit log: the owner's own entries (claim, bind, transfer), by device; verifying the whole chain is the operator's", async () => {
  await page.getByRole('link', { name: 'Audit log' }).click();
  for (const action of ['device.claim', 'device.bind', 'device.transfer', 'device.delete']) await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
  const tenants = await page.locator('tbody tr td:nth-child(4)').allTextContents();
  expect(tenants.length).toBeGreaterThan(3);
  expect(tenants.filter((t) => t !== 'acme')).toEqual([]);
  await page.getByLabel('Only this device').fill(DEV_EUI);
  // The filtered list replaces the whole one when it arrives: the other device's delete goes
  // (a filter that does not filter times out here), this device's transfer stays.
  await page.getByRole('cell', { name: 'device.delete', exact: true }).first().waitFor({ state: 'detached' });
  await page.getByRole('cell', { name: 'device.transfer', exact: true }).waitFor();
  expect(await page.getByRole('cell', { name: 'device.delete', exact: true }).count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Verify the hash chain' }).count()).toBe(0);
  await screenshots(page, 'audit');
});

test('the API key never appears in a URL, the server output, or a console message; no CSP violation', async () => {
  expect(browser.requestURLs.length).toBeGreaterThan(10);
  expect(browser.requestURLs.filter((u) => u.includes(ownerKey) || u.includes(ownerKey.slice(21)))).toEqual([]);
  expect(page.url()).not.toContain(ownerKey);
  expect(server.output()).not.toContain(ownerKey.slice(21));
  expect(browser.consoleMessages.filter((m) => m.includes(ownerKey.slice(21)))).toEqual([]);
  expect(browser.consoleMessages.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
  expect(browser.consoleMessages.filter((m) => m.startsWith('pageerror'))).toEqual([]);
});

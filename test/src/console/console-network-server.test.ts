import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import type { Page } from 'playwright-core';
import { api } from '../support/admin-api';
import { apiKeyIn, launchBrowser, screenshots, signIn, type Browser } from '../support/browser';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';

/**
 * The network server page, in Chromium against a real `joinery serve`: its state, certificate
 * expiry and devices bound; disabling and enabling it; a new bundle, a renewal and a KEK
 * rotation, each downloaded as a zip with the vendor's files rendered again; retiring the old
 * certificate; deleting it. What the page shows matches what the API says.
 */
let dataDir: string;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let ownerKey: string;

beforeAll(async () => {
  dataDir = await makeTempDir('console-ns');
  ownerKey = apiKeyIn((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'acme', '--name', 'Acme Farms', '--roles', 'owner'])).stdout);
  server = await startServer(dataDir);
  expect((await api(server.adminURL, ownerKey, 'POST', '/network-servers', { name: 'acme-cs', netID: '000013', vendor: 'chirpstack' })).status).toBe(201);
  browser = await launchBrowser();
  page = await browser.newPage();
  await signIn(page, server.adminURL, ownerKey);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const summary = async () => (await api(server.adminURL, ownerKey, 'GET', '/network-servers/acme-cs/summary')).body as { state: string; kekLabel: string; certificates: Array<{ status: string }> };

async function downloaded(button: string, file: string): Promise<Record<string, string>> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  expect(download.suggestedFilename()).toBe(file);
  const zip = path.join(dataDir, file);
  await download.saveAs(zip);
  const files = unzipSync(new Uint8Array(await fs.readFile(zip)));
  return Object.fromEntries(Object.entries(files).map(([name, content]) => [name, strFromU8(content)]));
}

test('from the networks list to the page: state, certificate expiry, devices bound', async () => {
  await page.goto(new URL('/#/networks', server.adminURL).toString());
  await page.getByRole('link', { name: 'acme-cs' }).click();
  await page.getByRole('heading', { name: 'Network server acme-cs' }).waitFor();
  await page.getByText('enabled', { exact: true }).waitFor();
  expect(await page.locator('dl.facts').textContent()).toMatch(/Certificate expires\d+\/\d+\/20\d\d, .*KEK label000013Devices bound0Last join—Joins, last daynone/);
  await screenshots(page, 'network-server');
});

test('disable (confirmed) then enable: the API agrees', async () => {
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
  await page.getByText(/acme-cs is disabled/).waitFor();
  expect((await summary()).state).toBe('disabled');
  await page.getByRole('button', { name: 'Enable' }).click();
  await page.getByText('acme-cs is enabled again.').waitFor();
  expect((await summary()).state).toBe('enabled');
});

test('a new bundle, a renewal and a KEK rotation are downloaded with the vendor files; the old certificate retired', async () => {
  const bundle = await downloaded('Download its bundle', 'acme-cs-bundle.zip');
  expect(Object.keys(bundle)).toEqual(expect.arrayContaining(['acme-cs/client.crt', 'acme-cs/client.key', 'acme-cs/kek.json', 'acme-cs/chirpstack.toml', 'acme-cs/SETUP.txt']));
  const renewed = await downloaded('Renew certificate (7-day overlap)', 'acme-cs-renewed.zip');
  expect(renewed['acme-cs/client.crt']).not.toBe(bundle['acme-cs/client.crt']);
  await page.getByText(/keeps working for 7 days/).waitFor();
  expect((await summary()).certificates.map((c) => c.status)).toEqual(['accepted', 'accepted', 'current']);
  await page.getByRole('button', { name: 'Retire earlier certificates' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retire' }).click();
  await page.getByText(/Only the current certificate/).waitFor();
  expect((await summary()).certificates.map((c) => c.status)).toEqual(['retired', 'retired', 'current']);
  await page.getByRole('cell', { name: 'retired' }).nth(1).waitFor(); // the page reloaded its summary

  const rotated = await downloaded('Rotate KEK', 'acme-cs-new-kek.zip');
  const kek = JSON.parse(rotated['acme-cs/kek.json']!) as { label: string; kek: string };
  expect(kek.label).toBe('000013-2');
  expect(rotated['acme-cs/chirpstack.toml']).toContain('000013-2');
  await page.getByText(/new KEK labelled 000013-2/).waitFor();
  await page.locator('dl.facts').filter({ hasText: 'KEK label000013-2' }).waitFor();
  // The page never shows a key.
  expect(await page.content()).not.toContain(kek.kek);
});

test('delete (confirmed): back to the list, the network server gone', async () => {
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Networks' }).waitFor();
  expect((await api(server.adminURL, ownerKey, 'GET', '/network-servers/acme-cs/summary')).status).toBe(404);
});

test('an application server is added from the console: its bundle downloaded, listed', async () => {
  await page.goto(new URL('/#/networks', server.adminURL).toString());
  await page.locator('#as-name').fill('acme-as');
  await page.locator('#as-id').fill('as.acme.example');
  const files = await downloaded('Add application server and download its credentials', 'acme-as.zip');
  expect(Object.keys(files).sort()).toEqual(['acme-as/README.txt', 'acme-as/ca.crt', 'acme-as/client.crt', 'acme-as/client.key', 'acme-as/kek.json', 'acme-as/peer.json']);
  await page.getByRole('cell', { name: 'as.acme.example' }).waitFor();
  const listed = (await api(server.adminURL, ownerKey, 'GET', '/application-servers')).body as { peers: Array<{ name: string; asID: string }> };
  expect(listed.peers.map((p) => [p.name, p.asID])).toEqual([['acme-as', 'as.acme.example']]);
});

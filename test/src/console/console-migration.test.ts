import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import type { Page } from 'playwright-core';
import { MQTT_URL } from '../adapters/fake-network-server';
import { startChirpStackFake, type ChirpStackFake } from '../../../adapters/chirpstack/test/fake-chirpstack';
import { startTTSFake, type TTSFake } from '../../../adapters/the-things-stack/test/fake-the-things-stack';
import { apiKeyIn, launchBrowser, screenshots, signIn, type Browser } from '../support/browser';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * A small fleet migration driven from the console, in Chromium against a real `joinery serve`:
 * four devices on a ChirpStack (the in-process gRPC fake the migration suites use) move to a
 * The Things Stack (its HTTP fake). The operator previews the plan (dry run), starts it,
 * watches the devices wait for their join through the target, the devices join (JoinReqs with
 * the target's certificate), and the page follows the migration to done.
 */
const JOIN_EUI = '70b3d57ed0000000';
const TTS_NS_ID = '70b3d57ed0000001';
const agent = new https.Agent({ keepAlive: true });

let work: string;
let dataDir: string;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let cs: ChirpStackFake;
let tts: TTSFake;
let ttsBundle: PeerBundle;
let operatorKey: string;
const devices: DeviceKeys[] = Array.from({ length: 4 }, (_, i) => ({
  devEUI: `${randomBytes(3).toString('hex')}${i.toString(16).padStart(10, '0')}`,
  joinEUI: JOIN_EUI,
  macVersion: '1.0.4',
  appKey: randomKey(),
}));

beforeAll(async () => {
  work = await makeTempDir('console-migration');
  dataDir = path.join(work, 'data');
  cs = await startChirpStackFake();
  tts = await startTTSFake();
  const csKey = path.join(work, 'cs.key');
  const ttsKey = path.join(work, 'tts.key');
  await fs.writeFile(csKey, `${cs.apiKey}\n`, { mode: 0o600 });
  await fs.writeFile(ttsKey, `${tts.apiKey}\n`, { mode: 0o600 });
  await cli([
    'ns',
    'add',
    '--data-dir',
    dataDir,
    '--name',
    'farm-chirpstack',
    '--net-id',
    '000013',
    '--vendor',
    'chirpstack',
    '--out',
    path.join(work, 'cs'),
    '--api-url',
    cs.url,
    '--api-key-file',
    csKey,
    '--application-id',
    cs.applicationId,
    '--tenant-id',
    cs.tenantId,
    '--mqtt-url',
    MQTT_URL,
    '--mqtt-topic-prefix',
    cs.topicPrefix,
  ]);
  await cli([
    'ns',
    'add',
    '--data-dir',
    dataDir,
    '--name',
    'farm-tts',
    '--net-id',
    '000014',
    '--ns-id',
    TTS_NS_ID,
    '--vendor',
    'the-things-stack',
    '--out',
    path.join(work, 'tts'),
    '--api-url',
    tts.url,
    '--api-key-file',
    ttsKey,
    '--application-id',
    tts.applicationId,
    '--mqtt-url',
    MQTT_URL,
    '--mqtt-topic-prefix',
    tts.topicPrefix,
  ]);
  ttsBundle = await readBundle(path.join(work, 'tts'));
  const csv = path.join(work, 'devices.csv');
  await fs.writeFile(csv, ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devices.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},`)].join('\n') + '\n');
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--ns', 'farm-chirpstack']);
  await cli(['ns', 'sync', 'farm-chirpstack', '--data-dir', dataDir]);
  const created = await cli(['api-keys', 'create', '--data-dir', dataDir, '--tenant', 'operator', '--scopes', 'devices:read,devices:write,claims,peers,admin', '--label', 'console']);
  operatorKey = apiKeyIn(created.stdout);
  server = await startServer(dataDir);
  browser = await launchBrowser();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  agent.destroy();
  await cs?.stop();
  await tts?.stop();
});

async function joinThroughTarget(d: DeviceKeys, devNonce: number): Promise<string> {
  const answer = await postJSON(
    server.biURL,
    {
      ProtocolVersion: '1.1',
      SenderID: '000014',
      SenderNSID: TTS_NS_ID,
      ReceiverID: d.joinEUI,
      TransactionID: randomInt(1, 2 ** 31),
      MessageType: 'JoinReq',
      MACVersion: '1.0.4',
      PHYPayload: joinRequest(d, devNonce).toString('hex'),
      DevEUI: d.devEUI,
      DevAddr: '26011234',
      DLSettings: '00',
      RxDelay: 1,
    },
    ttsBundle,
    agent,
  );
  return answer.body?.Result?.ResultCode as string;
}

test('plan with a dry run, start, follow it live, the devices join through the target, done', async () => {
  await signIn(page, server.adminURL, operatorKey);
  await page.getByRole('link', { name: 'Migrations' }).click();
  await page.getByLabel('From network server').selectOption('farm-chirpstack');
  await page.getByLabel('To network server').selectOption('farm-tts');
  await page.getByRole('button', { name: 'Preview (dry run)' }).click();
  await page.getByText('4 devices would move from farm-chirpstack to farm-tts').waitFor();
  await screenshots(page, 'migration-plan');
  expect(tts.ns.size).toBe(0); // the dry run changed nothing

  await page.getByRole('button', { name: 'Start the migration' }).click();
  await page.getByRole('heading', { name: /Migration mig-/ }).waitFor();
  // Overlap: each device is registered on the target and waits for its join through it.
  await page.getByText('rebound: 4').waitFor({ timeout: 30_000 });
  for (const d of devices) expect(tts.ns.has(`eui-${d.devEUI}`)).toBe(true);
  await screenshots(page, 'migration-running');
  for (const [i, d] of devices.entries()) {
    expect(await joinThroughTarget(d, 1 + i)).toBe('Success');
    await new Promise((r) => setTimeout(r, 400));
  }
  await page.getByTestId('migration-status').filter({ hasText: 'finished' }).waitFor({ timeout: 30_000 });
  await page.getByText('done: 4').first().waitFor();
  await page.getByRole('img', { name: 'Devices by state over time' }).waitFor();
  await page.getByText('No device has failed.').waitFor();
  await screenshots(page, 'migration');
  // Removed from the source only after their join through the target.
  for (const d of devices) expect(cs.devices.has(d.devEUI)).toBe(false);

  await page.getByRole('link', { name: 'All migrations' }).click();
  await page.getByText('4 of 4 done').waitFor();
  await screenshots(page, 'migrations');

  // The operator's audit log: every entry, and the hash chain verified from the console.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('cell', { name: 'device.import' }).first().waitFor();
  await page.getByRole('button', { name: 'Verify the hash chain' }).click();
  await page.getByText(/Audit log verified: \d+ entries, hash chain intact\./).waitFor();
  await screenshots(page, 'audit-operator');
  expect(browser.consoleMessages.filter((m) => /Content Security Policy|pageerror/i.test(m))).toEqual([]);
  expect(browser.requestURLs.filter((u) => u.includes(operatorKey.slice(21)))).toEqual([]);
  expect(server.output()).not.toContain(operatorKey.slice(21));
});

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { api, printedKey, writeBundle } from '../support/admin-api';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { randomKey } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';

/**
 * HomeNSReq tells a device's home network server only to network servers that may see the
 * device (`serve --home-ns-answers`): to any other it answers exactly as for a DevEUI nobody
 * registered. Tenants alice (maker and owner: one device claimed and bound to alice-ns, a second
 * network server alice-ns2) and bob (bob-ns); the operator's op-ns from the local CLI.
 */
const JOIN_EUI = '70b3d57ed0000000';
const OTHER_JOIN_EUI = '70b3d57ed0000001';
const NOBODY = 'ffeeddccbbaa0099';
const NETIDS = { 'op-ns': '000001', 'alice-ns': '000013', 'alice-ns2': '000015', 'bob-ns': '000042' } as const;
type NSName = keyof typeof NETIDS;

let work: string;
let dataDir: string;
let server: ServerProcess;
const bundles = {} as Record<NSName, PeerBundle>;
const device = '00bb000000000001';

beforeAll(async () => {
  work = await makeTempDir('home-ns');
  dataDir = path.join(work, 'data');
  const adminKey = printedKey((await cli(['tenants', 'add', '--data-dir', dataDir, '--id', 'ops', '--roles', 'admin'])).stdout);
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'op-ns', '--net-id', NETIDS['op-ns'], '--vendor', 'generic', '--out', path.join(work, 'op-ns')]);
  server = await startServer(dataDir);
  const remote = (key: string): string[] => ['--url', server.adminURL, '--api-key', key];
  const alice = printedKey((await cli(['tenants', 'add', '--id', 'alice', '--roles', 'manufacturer,owner', ...remote(adminKey)])).stdout);
  const bob = printedKey((await cli(['tenants', 'add', '--id', 'bob', '--roles', 'owner', ...remote(adminKey)])).stdout);
  for (const [key, name] of [
    [alice, 'alice-ns'],
    [alice, 'alice-ns2'],
    [bob, 'bob-ns'],
  ] as const) {
    const r = await api(server.adminURL, key, 'POST', '/network-servers', { name, netID: NETIDS[name], vendor: 'generic' });
    expect(r.status).toBe(201);
    await writeBundle(path.join(work, name), r.body.bundle);
  }
  for (const name of Object.keys(NETIDS) as NSName[]) bundles[name] = await readBundle(path.join(work, name));

  const file = path.join(work, 'devices.csv');
  await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${device},${JOIN_EUI},1.0.3,${randomKey()},\n`);
  const labels = path.join(work, 'labels.csv');
  await cli(['devices', 'import', file, '--labels', labels, ...remote(alice)]);
  const token = (await fs.readFile(labels, 'utf8')).trim().split('\n')[1]!.split(',')[3]!;
  await cli(['devices', 'claim', device, '--owner-token', token, ...remote(alice)]);
  await cli(['devices', 'bind', device, '--ns', 'alice-ns', ...remote(alice)]);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function restart(mode: string): Promise<void> {
  await server.stop();
  server = await startServer(dataDir, ['--home-ns-answers', mode]);
}

async function homeNS(ns: NSName, devEUI: string, o: { readonly receiverID?: string; readonly version?: '1.0' | '1.1' } = {}): Promise<Record<string, any>> {
  const r = await postJSON(server.biURL, { ProtocolVersion: o.version ?? '1.0', SenderID: NETIDS[ns], ReceiverID: o.receiverID ?? JOIN_EUI, TransactionID: 7, MessageType: 'HomeNSReq', DevEUI: devEUI }, bundles[ns]);
  expect(r.status).toBe(200);
  return r.body as Record<string, any>;
}

/** The answer with the DevEUI taken out: what tells one refusal from another, if anything does. */
const shape = (answer: Record<string, any>, devEUI: string): string => JSON.stringify(answer).split(devEUI).join('<DevEUI>');

describe('e2e/home-ns-visibility', () => {
  test("default (tenant): the owner's network servers and the operator's get the home NetID", async () => {
    for (const ns of ['alice-ns', 'alice-ns2', 'op-ns'] as const) {
      expect(await homeNS(ns, device)).toMatchObject({ MessageType: 'HomeNSAns', SenderID: JOIN_EUI, Result: { ResultCode: 'Success' }, HNetID: NETIDS['alice-ns'] });
    }
  });

  test("default (tenant): another tenant's network server gets UnknownDevEUI, word for word as for a device that does not exist", async () => {
    const refused = await homeNS('bob-ns', device);
    const nonexistent = await homeNS('bob-ns', NOBODY);
    expect(refused['Result']['ResultCode']).toBe('UnknownDevEUI');
    expect(refused).not.toHaveProperty('HNetID');
    expect(shape(refused, device)).toBe(shape(nonexistent, NOBODY));
  });

  test("a ReceiverID that is not the device's JoinEUI: UnknownDevEUI, the same as for a device that does not exist", async () => {
    const wrong = await homeNS('alice-ns', device, { receiverID: OTHER_JOIN_EUI });
    expect(wrong['Result']['ResultCode']).toBe('UnknownDevEUI');
    expect(wrong).not.toHaveProperty('HNetID');
    expect(shape(wrong, device)).toBe(shape(await homeNS('alice-ns', NOBODY, { receiverID: OTHER_JOIN_EUI }), NOBODY));
    // Not a JoinEUI at all: malformed, whatever the device.
    expect((await homeNS('alice-ns', device, { receiverID: 'js.example.com' }))['Result']['ResultCode']).toBe('MalformedRequest');
  });

  test('bound: only the network server the device is bound to', async () => {
    await restart('bound');
    expect(await homeNS('alice-ns', device)).toMatchObject({ Result: { ResultCode: 'Success' }, HNetID: NETIDS['alice-ns'] });
    for (const ns of ['alice-ns2', 'op-ns', 'bob-ns'] as const) {
      expect(shape(await homeNS(ns, device), device)).toBe(shape(await homeNS(ns, NOBODY), NOBODY));
    }
  }, 60_000);

  test('any: every registered network server', async () => {
    await restart('any');
    for (const ns of Object.keys(NETIDS) as NSName[]) {
      expect(await homeNS(ns, device)).toMatchObject({ Result: { ResultCode: 'Success' }, HNetID: NETIDS['alice-ns'] });
    }
  }, 60_000);
});

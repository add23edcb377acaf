import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { joinReqMessage } from '../support/bi-request';

/**
 * A network server's whole life, through the CLI, with two server processes sharing one store:
 * added, joined through, its certificate renewed (both certificates join during the overlap,
 * only the new one once the old is retired), its KEK rotated (the next JoinAns is wrapped under
 * the new label, with the new KEK), disabled (refused at once by the other instance too),
 * enabled, and deleted with its devices unbound (its certificate refused). Every step is audited.
 */

const JOIN_EUI = '70b3d57ed0000000';
let work: string;
let dataDir: string;
let a: ServerProcess;
let b: ServerProcess;
const device: DeviceKeys = { devEUI: '0000000000ac0103', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
const secrets = new Set<string>([device.appKey]);
let nextDevNonce = 300;

async function joinReq(server: ServerProcess, bundle: PeerBundle): Promise<Record<string, any>> {
  const devNonce = nextDevNonce++;
  const answer = (await postJSON(server.biURL, joinReqMessage(device, devNonce, { senderID: '000013' }), bundle)).body as Record<string, any>;
  if (answer['Result']?.ResultCode === 'Success') {
    const accepted = acceptJoin(device, devNonce, answer['PHYPayload']);
    expect(accepted.micValid).toBe(true);
    for (const value of Object.values(accepted.keys)) secrets.add(value);
    answer['clearKeys'] = accepted.keys;
  }
  return answer;
}

async function joins(server: ServerProcess, bundle: PeerBundle): Promise<Record<string, any>> {
  const answer = await joinReq(server, bundle);
  expect(answer['Result']).toEqual({ ResultCode: 'Success' });
  // Every session key of the answer unwraps with the bundle's KEK, under its label.
  expect(openEnvelope(answer['NwkSKey'], { label: bundle.kekLabel, key: bundle.kek })).toBe(answer['clearKeys']['NwkSKey']);
  expect(openEnvelope(answer['AppSKey'], { label: bundle.kekLabel, key: bundle.kek })).toBe(answer['clearKeys']['AppSKey']);
  return answer;
}

async function refused(server: ServerProcess, bundle: PeerBundle): Promise<void> {
  const answer = await joinReq(server, bundle);
  expect(answer['Result']?.ResultCode).toBe('UnknownSender');
}

const ns = (...args: string[]) => cli(['ns', ...args, '--data-dir', dataDir]);

beforeAll(async () => {
  work = await makeTempDir('peer-lifecycle');
  dataDir = path.join(work, 'data');
  await ns('add', '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'b1'));
  const csv = path.join(work, 'd.csv');
  await fs.writeFile(csv, `dev_eui,join_eui,mac_version,app_key\n${device.devEUI},${JOIN_EUI},${device.macVersion},${device.appKey}\n`);
  await cli(['devices', 'import', csv, '--data-dir', dataDir, '--ns', 'ns-a']);
  [a, b] = await Promise.all([startServer(dataDir), startServer(dataDir)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('e2e/peer-lifecycle', () => {
  test('add, join, renew with overlap, retire, rotate the KEK, disable on one instance refused by the other, enable, unbind and delete; all audited', async () => {
    const b1 = await readBundle(path.join(work, 'b1'));
    secrets.add(b1.kek.toString('hex'));
    await joins(a, b1);
    await joins(b, b1); // both instances now hold the peer in their caches

    const listed = JSON.parse((await ns('list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ name: 'ns-a', vendor: 'generic', netID: '000013', state: 'enabled', boundDevices: 1, lastJoinAt: expect.any(String), certificateExpiry: expect.any(String) })]);
    expect((await ns('list')).stdout).toMatch(/^NAME\s+VENDOR\s+NETID\/NSID\s+STATE\s+CERT EXPIRES\s+DEVICES\s+LAST JOIN\nns-a\s+generic\s+000013\s+enabled\s+\d{4}-\d\d-\d\d\s+1\s+\d{4}-/);

    // Renewal with an overlap: the old and the new certificate both join.
    const renew = await ns('renew-certificate', 'ns-a', '--out', path.join(work, 'b2'), '--overlap', '1h');
    expect(renew.stdout).toMatch(/refused from \d{4}-/);
    const b2 = await readBundle(path.join(work, 'b2'));
    expect(b2.cert).not.toBe(b1.cert);
    expect(b2.kek).toEqual(b1.kek);
    await joins(a, b1);
    await joins(b, b2);
    // Retired: only the new one.
    expect((await ns('retire-certificate', 'ns-a')).stdout).toMatch(/certificate [0-9a-f]{64} retired/);
    await refused(a, b1);
    await refused(b, b1);
    await joins(b, b2);
    const shown = JSON.parse((await ns('show', 'ns-a', '--json')).stdout) as { certificates: Array<{ status: string }> };
    expect(shown.certificates.map((c) => c.status)).toEqual(['retired', 'current']);
    // The joins of the last day by result, from the join history (written by the servers within a moment).
    let results: Record<string, number> = {};
    for (let i = 0; i < 50 && (results['Success'] ?? 0) < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      results = (JSON.parse((await ns('show', 'ns-a', '--json')).stdout) as { recentJoinResults: Record<string, number> }).recentJoinResults;
    }
    expect(results).toEqual({ Success: 5 });
    expect((await ns('show', 'ns-a')).stdout).toContain('joins over the last day: Success 5');

    // A new KEK under a new label: the next answer is wrapped with it.
    const rotate = await ns('rotate-kek', 'ns-a', '--out', path.join(work, 'b3'));
    expect(rotate.stdout).toContain('new KEK labelled 000013-2 (was 000013)');
    const b3 = await readBundle(path.join(work, 'b3'));
    secrets.add(b3.kek.toString('hex'));
    expect(b3.kekLabel).toBe('000013-2');
    expect(b3.kek).not.toEqual(b1.kek);
    const wrapped = await joins(a, b3);
    expect(wrapped['NwkSKey'].KEKLabel).toBe('000013-2');
    // The certificate of b2 still identifies the network server; its answers are under the new KEK too.
    const viaB2 = await joinReq(b, b2);
    expect(viaB2['AppSKey'].KEKLabel).toBe('000013-2');
    expect(openEnvelope(viaB2['AppSKey'], { label: b3.kekLabel, key: b3.kek })).toBe(viaB2['clearKeys']['AppSKey']);

    // Disabled through the CLI: refused at once by both running instances.
    await ns('disable', 'ns-a');
    await refused(b, b3);
    await refused(a, b3);
    expect(JSON.parse((await ns('list', '--json')).stdout)[0].state).toBe('disabled');
    await ns('enable', 'ns-a');
    await joins(b, b3);

    // Deleting is refused while the device is bound; unbound, the peer goes and its certificate is refused.
    const bound = await runCLI(['ns', 'delete', 'ns-a', '--data-dir', dataDir]);
    expect(bound.code).not.toBe(0);
    expect(bound.stderr).toMatch(/1 device\(s\) bound/);
    await joins(a, b3);
    expect((await ns('delete', 'ns-a', '--unbind-devices')).stdout).toContain('deleted network server ns-a (1 device(s) unbound)');
    await refused(a, b3);
    await refused(b, b2);
    expect(JSON.parse((await ns('list', '--json')).stdout)).toEqual([]);

    const audit = JSON.parse((await cli(['audit', 'list', '--json', '--data-dir', dataDir])).stdout) as Array<{ action: string; detail: Record<string, unknown> }>;
    const trail = audit
      .filter((e) => e.action.startsWith('peer.') && e.detail['name'] === 'ns-a')
      .map((e) => e.action)
      .reverse();
    expect(trail).toEqual(['peer.add', 'peer.certificate.renew', 'peer.certificate.retire', 'peer.kek.rotate', 'peer.disable', 'peer.enable', 'peer.delete']);
  }, 120_000);

  test('no KEK or session key appears in any output', async () => {
    await Promise.all([a.stop(), b.stop()]);
    const everything = transcript.join('\n').toLowerCase();
    expect([...secrets].filter((s) => everything.includes(s.toLowerCase()))).toEqual([]);
  });
});

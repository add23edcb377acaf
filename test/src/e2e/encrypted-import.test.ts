import { createCipheriv, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createSoftHsmToken } from '../../../core/src/keys/softhsm-token.test-helper';
import { cli, makeTempDir, runCLI, startServer, transcript } from '../support/joinery-cli';
import { acceptJoin, randomKey, type DeviceKeys } from '../support/lora-device';
import { openEnvelope, postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { joinReqMessage } from '../support/bi-request';

/**
 * `joinery devices import --transport-kek-file`: a manufacturer's batch whose root keys are
 * RFC 3394-wrapped under a transport KEK is imported (the PKCS#11 vault unwraps them inside the
 * HSM), the devices join, and bad batches are refused whole, with no key in any output. On both
 * vaults.
 */

const JOIN_EUI = '70b3d57ed0000000';
const token = createSoftHsmToken('e2e-import');
const vaults: readonly (readonly [string, NodeJS.ProcessEnv])[] = [
  ['software', {}],
  ['pkcs11', { ...token.env, JOINERY_VAULT: 'pkcs11', JOINERY_PKCS11_LIB: token.library, JOINERY_PKCS11_TOKEN: token.label }],
];

/** RFC 3394 wrap, as a manufacturer's tool does it (node's own implementation, not Joinery's). */
function wrap(kekHex: string, keyHex: string): string {
  const cipher = createCipheriv('id-aes128-wrap', Buffer.from(kekHex, 'hex'), Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  return Buffer.concat([cipher.update(Buffer.from(keyHex, 'hex')), cipher.final()]).toString('hex');
}

describe.each(vaults)('e2e/encrypted import/%s vault', (_vault, env) => {
  let work: string;
  let dataDir: string;
  let ns: PeerBundle;
  let kekFile: string;
  const kek = randomKey();
  const secrets = new Set<string>([kek]);
  const device = (devEUI: string, macVersion: string): DeviceKeys => {
    const d: DeviceKeys = { devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion === '1.1' ? { nwkKey: randomKey() } : {}) };
    secrets.add(d.appKey);
    if (d.nwkKey) secrets.add(d.nwkKey);
    return d;
  };
  const csv = async (name: string, list: readonly DeviceKeys[], keyOf: (k: string) => string): Promise<string> => {
    const file = path.join(work, name);
    const lines = ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...list.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${keyOf(d.appKey)},${d.nwkKey ? keyOf(d.nwkKey) : ''}`)];
    await fs.writeFile(file, `${lines.join('\n')}\n`);
    return file;
  };
  const list = async (): Promise<string> => (await cli(['devices', 'list', '--data-dir', dataDir, '--json'], env)).stdout;

  beforeAll(async () => {
    work = await makeTempDir('encrypted-import');
    dataDir = path.join(work, 'data');
    await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-a')], env);
    ns = await readBundle(path.join(work, 'ns-a'));
    secrets.add(ns.kek.toString('hex'));
    kekFile = path.join(work, 'transport.kek');
    await fs.writeFile(kekFile, `${kek}\n`, { mode: 0o600 });
  });

  test('a batch wrapped under the transport KEK is imported, and its devices join', async () => {
    const d10 = device('00000000000e0103', '1.0.3');
    const d11 = device('00000000000e0110', '1.1');
    const file = await csv('wrapped.csv', [d10, d11], (k) => wrap(kek, k));
    const r = await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'ns-a', '--transport-kek-file', kekFile], env);
    expect(r.stdout).toMatch(/imported 2 devices \(1 LoRaWAN 1\.0\.x, 1 LoRaWAN 1\.1\)/);
    expect(r.stderr).not.toMatch(/in clear/);

    const server = await startServer(dataDir, [], env);
    try {
      for (const d of [d10, d11]) {
        const devNonce = randomInt(1, 60000);
        const request = joinReqMessage(d, devNonce, { senderID: '000013' });
        const answer = (await postJSON(server.biURL, request, ns)).body as Record<string, any>;
        expect(answer['Result']).toEqual({ ResultCode: 'Success' });
        const accepted = acceptJoin(d, devNonce, answer['PHYPayload']);
        expect(accepted.micValid).toBe(true);
        for (const [name, value] of Object.entries(accepted.keys)) {
          secrets.add(value);
          expect({ name, key: openEnvelope(answer[name], { label: ns.kekLabel, key: ns.kek }) }).toEqual({ name, key: value });
        }
      }
    } finally {
      await server.stop();
    }
  });

  test('keys wrapped under another KEK: refused, line by line, and nothing is imported', async () => {
    const good = device('00000000000f0001', '1.0.4');
    const bad = device('00000000000f0002', '1.1');
    const otherKEK = randomKey();
    const file = path.join(work, 'foreign.csv');
    await fs.writeFile(
      file,
      `dev_eui,join_eui,mac_version,app_key,nwk_key\n${good.devEUI},${JOIN_EUI},1.0.4,${wrap(kek, good.appKey)},\n${bad.devEUI},${JOIN_EUI},1.1,${wrap(kek, bad.appKey)},${wrap(otherKEK, bad.nwkKey!)}\n`,
    );
    const r = await runCLI(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'ns-a', '--transport-kek-file', kekFile], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing was imported/);
    expect(r.stderr).toMatch(/line 3: NwkKey does not unwrap under the transport KEK/);
    const listed = await list();
    expect(listed).not.toContain(good.devEUI);
    expect(listed).not.toContain(bad.devEUI);
  });

  test('clear keys given with --transport-kek-file, and wrapped keys without it, are refused without echoing them', async () => {
    const d = device('00000000000f0003', '1.0.3');
    const clear = await csv('clear.csv', [d], (k) => k);
    const r1 = await runCLI(['devices', 'import', clear, '--data-dir', dataDir, '--ns', 'ns-a', '--transport-kek-file', kekFile], env);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/app_key: is a clear key .*--transport-kek-file/);
    const wrapped = await csv('wrapped-no-kek.csv', [d], (k) => wrap(kek, k));
    const r2 = await runCLI(['devices', 'import', wrapped, '--data-dir', dataDir, '--ns', 'ns-a'], env);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/48 hex digits: a key wrapped under a transport KEK\? then give the KEK with --transport-kek-file/);
    expect(await list()).not.toContain(d.devEUI);
    const output = [r1, r2].map((r) => r.stdout + r.stderr).join('\n');
    expect(output).not.toContain(d.appKey);
    expect(output).not.toContain(wrap(kek, d.appKey));
  });

  test('a transport KEK file others can read is refused', async () => {
    const open = path.join(work, 'open.kek');
    await fs.writeFile(open, kek, { mode: 0o644 });
    await fs.chmod(open, 0o644);
    const file = await csv('any.csv', [device('00000000000f0004', '1.0.3')], (k) => wrap(kek, k));
    const r = await runCLI(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'ns-a', '--transport-kek-file', open], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mode 0644.*chmod 600/);
  });

  test('a plain-key import still works, with a warning', async () => {
    const d = device('00000000000f0005', '1.0.3');
    const r = await cli(['devices', 'import', await csv('plain.csv', [d], (k) => k), '--data-dir', dataDir, '--ns', 'ns-a'], env);
    expect(r.stdout).toMatch(/imported 1 device/);
    expect(r.stderr).toMatch(/warning: the root keys were read in clear/);
  });

  test('no root key, transport KEK or session key appears in any output', () => {
    const everything = transcript.join('\n').toLowerCase();
    expect([...secrets].filter((s) => everything.includes(s.toLowerCase()))).toEqual([]);
  });
});

import { randomBytes, randomInt } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { loadAdapter, parseEUI64, type NetworkServerAdapter } from '@joinery/core';
import { spawn } from 'node:child_process';
import { CLI, cli, makeTempDir, runCLI, startServer, transcript, type ServerProcess } from '../support/joinery-cli';
import { acceptJoin, joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle } from '../support/network-server';
import { startChirpStackFake, type ChirpStackFake } from '../../../adapters/chirpstack/test/fake-chirpstack';
import { startTTSFake, type TTSFake } from '../../../adapters/the-things-stack/test/fake-the-things-stack';
import { MQTT_URL } from '../adapters/fake-network-server';

/**
 * End to end per vendor: ns add (with the adapter) → devices import bound to it → ns sync
 * registers them on the fake NS → a device joins through a real joinery serve with that NS's
 * certificate → the adapter's watch yields the uplink published on Mosquitto as that NS would.
 */

interface Case {
  readonly vendor: 'chirpstack' | 'the-things-stack';
  readonly start: () => Promise<ChirpStackFake | TTSFake>;
  readonly flags: (f: any) => string[];
  readonly setupFiles: readonly string[];
  readonly devicesOnFake: (f: any) => number;
}

const CASES: Case[] = [
  {
    vendor: 'chirpstack',
    start: startChirpStackFake,
    flags: (f: ChirpStackFake) => ['--application-id', f.applicationId, '--tenant-id', f.tenantId, '--mqtt-url', MQTT_URL, '--mqtt-topic-prefix', f.topicPrefix],
    setupFiles: ['chirpstack.toml', 'SETUP.txt'],
    devicesOnFake: (f: ChirpStackFake) => f.devices.size,
  },
  {
    vendor: 'the-things-stack',
    start: startTTSFake,
    flags: (f: TTSFake) => ['--application-id', f.applicationId, '--mqtt-url', MQTT_URL, '--mqtt-topic-prefix', f.topicPrefix, '--ns-id', '70b3d57ed0000001'],
    setupFiles: ['config.yml', 'js.yml', 'key-vault.yml', 'dcs-config.yml', 'joinery-ns-x.yml', 'dcs.yml', 'SETUP.txt'],
    devicesOnFake: (f: TTSFake) => f.ns.size,
  },
];

describe.each(CASES)('e2e/adapter $vendor', (c) => {
  let work: string;
  let dataDir: string;
  let fake: ChirpStackFake | TTSFake;
  let server: ServerProcess | undefined;
  let adapter: NetworkServerAdapter | undefined;
  const netID = '000013';
  const devices: DeviceKeys[] = [
    { devEUI: `00a0${randomBytes(6).toString('hex')}`, joinEUI: '70b3d57ed0000000', macVersion: '1.0.3', appKey: randomKey() },
    { devEUI: `00b0${randomBytes(6).toString('hex')}`, joinEUI: '70b3d57ed0000000', macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() },
  ];

  beforeAll(async () => {
    work = await makeTempDir(`e2e-${c.vendor}`);
    dataDir = path.join(work, 'data');
    fake = await c.start();
  });
  afterAll(async () => {
    await server?.stop();
    await adapter?.close();
    await fake.stop();
  });

  it("ns add, devices import, ns sync, a join with that NS's certificate, watch", async () => {
    const keyFile = path.join(work, 'api.key');
    await fs.writeFile(keyFile, `${fake.apiKey}\n`, { mode: 0o600 });
    const out = path.join(work, 'bundle');
    const add = await cli([
      'ns',
      'add',
      '--data-dir',
      dataDir,
      '--name',
      'ns-x',
      '--net-id',
      netID,
      '--vendor',
      c.vendor,
      '--out',
      out,
      '--api-url',
      fake.url,
      '--api-key-file',
      keyFile,
      '--join-eui-prefix',
      '70b3d57ed0000000/40',
      ...c.flags(fake),
    ]);
    expect(add.stdout).toContain('management API');
    for (const f of c.setupFiles) expect(await fs.readdir(out)).toContain(f);
    const stored = path.join(dataDir, 'adapter-keys', 'ns-x.key');
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect((await fs.readFile(stored, 'utf8')).trim()).toBe(fake.apiKey);

    const csv = path.join(work, 'devices.csv');
    await fs.writeFile(csv, ['dev_eui,join_eui,mac_version,app_key,nwk_key', ...devices.map((d) => `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`)].join('\n') + '\n');
    await cli(['devices', 'import', csv, '--data-dir', dataDir, '--ns', 'ns-x']);

    const dry = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir, '--dry-run']);
    expect(dry.stdout).toContain('dry run: 2 missing');
    expect(c.devicesOnFake(fake)).toBe(0);

    const sync = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir]);
    expect(sync.stdout).toContain('2 registered');
    expect(c.devicesOnFake(fake)).toBe(2);
    // ns set keeps the adapter settings; --api-key-file replaces the stored key.
    const set = await cli(['ns', 'set', 'ns-x', '--data-dir', dataDir, '--no-authorization', '--api-key-file', keyFile]);
    expect(set.stdout).toContain('management API');
    const again = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir]);
    expect(again.stdout).toContain('0 registered, 2 already there');

    // No root key ever went to the NS, and the API key was never printed.
    const sent = fake
      .requests()
      .map((r) => r.body)
      .join('\n')
      .toLowerCase();
    for (const d of devices) for (const k of [d.appKey, d.nwkKey]) if (k) expect(sent).not.toContain(k);
    for (const r of fake.requests()) expect(r.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(transcript.join('\n')).not.toContain(fake.apiKey);

    // The device joins through joinery serve, the NS identified by the bundle's certificate.
    server = await startServer(dataDir);
    const bundle = await readBundle(out);
    const d = devices[1]!;
    const devNonce = randomInt(1, 0xffff);
    const answer = await postJSON(
      server.biURL,
      {
        ProtocolVersion: c.vendor === 'the-things-stack' ? '1.1' : '1.0',
        SenderID: netID,
        ...(c.vendor === 'the-things-stack' ? { SenderNSID: '70b3d57ed0000001' } : {}),
        ReceiverID: d.joinEUI,
        TransactionID: c.vendor === 'the-things-stack' ? 0 : randomInt(1, 2 ** 31),
        MessageType: 'JoinReq',
        MACVersion: '1.1',
        PHYPayload: joinRequest(d, devNonce).toString('hex'),
        DevEUI: d.devEUI,
        DevAddr: '26011234',
        DLSettings: '80',
        RxDelay: 1,
      },
      bundle,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.Result).toEqual({ ResultCode: 'Success' });
    expect(acceptJoin(d, devNonce, answer.body.PHYPayload).micValid).toBe(true);

    // The NS reports the uplink on MQTT; the adapter (configured as ns add stored it) sees it.
    const peerSettings = JSON.parse(await fs.readFile(path.join(out, 'peer.json'), 'utf8'));
    expect(peerSettings.vendor).toBe(c.vendor);
    adapter = fake.adapter();
    expect(loadAdapter(c.vendor).vendor).toBe(c.vendor);
    const w = adapter.watch!([parseEUI64(d.devEUI)]);
    try {
      await w.ready;
      await fake.publishEvent!('join', d.devEUI, Buffer.alloc(0), 0);
      await fake.publishEvent!('up', d.devEUI, Buffer.from('temperature=21'), 1);
      const it = w[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ kind: 'join', devEUI: d.devEUI });
      const up = (await it.next()).value;
      expect(up).toMatchObject({ kind: 'up', devEUI: d.devEUI, fCnt: 1 });
      expect(up.payload.toString()).toBe('temperature=21');
    } finally {
      await w.close();
    }
  });

  it('a bound device the network server joins itself: ns sync reports it, --remove-network-server-keys removes it (audited)', async () => {
    const d = devices[0]!;
    fake.seedLocalJoin!(d.devEUI);
    const found = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir]);
    expect(found.stdout).toContain(`conflict ${d.devEUI}: `);
    expect(found.stdout).toContain('fix: joinery ns sync ns-x --remove-network-server-keys');
    expect(found.stdout).toContain('1 joined by ns-x itself, never through Joinery');
    const dry = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir, '--dry-run', '--remove-network-server-keys']);
    expect(dry.stdout).toContain(`conflict ${d.devEUI}`); // a dry run removes nothing
    const removed = await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir, '--remove-network-server-keys']);
    expect(removed.stdout).toContain(`removed from ns-x: what made it join ${d.devEUI} itself`);
    expect((await cli(['ns', 'sync', 'ns-x', '--data-dir', dataDir])).stdout).not.toContain('conflict');
    const audit = JSON.parse((await cli(['audit', 'list', '--data-dir', dataDir, '--dev-eui', d.devEUI, '--json'])).stdout) as Array<{ action: string; detail: Record<string, unknown> }>;
    expect(audit[0]).toMatchObject({ action: 'ns.local-join.removed', detail: { peer: 'ns-x', vendor: c.vendor, removed: true } });
    // The network server's keys were read for existence only: none of them was printed.
    expect(transcript.join('\n')).not.toMatch(new RegExp(`${d.appKey}`, 'i'));
  });

  it('ns watch prints what the network server reports of a device (open-source TTS: the bare application id as MQTT user)', async () => {
    const d = devices[1]!;
    const child = spawn(process.execPath, [CLI, 'ns', 'watch', 'ns-x', '--data-dir', dataDir, '--dev-eui', d.devEUI, '--count', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const until = Date.now() + 20_000;
    while (!err.includes('watching ns-x') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(err).toContain(`watching ns-x (${c.vendor})`);
    await fake.publishEvent!('up', devices[0]!.devEUI, Buffer.from('not watched'), 9);
    await fake.publishEvent!('join', d.devEUI, Buffer.alloc(0), 0);
    await fake.publishEvent!('up', d.devEUI, Buffer.from('hello'), 5);
    expect(await exited).toBe(0);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toMatchObject([
      { kind: 'join', devEUI: d.devEUI },
      { kind: 'up', devEUI: d.devEUI, fCnt: 5, payload: Buffer.from('hello').toString('base64') },
    ]);
    expect(out + err).not.toContain(fake.apiKey);
  });

  it('bad input: an adapter flag without --api-url, a generic vendor with --api-url, sync without adapter', async () => {
    const r1 = await runCLI(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-y', '--net-id', '000014', '--vendor', c.vendor, '--out', path.join(work, 'y'), '--application-id', 'x']);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('--api-url');
    const r2 = await runCLI(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-z', '--net-id', '000015', '--vendor', 'generic', '--out', path.join(work, 'z'), '--api-url', 'http://127.0.0.1:1', '--api-key', 'k']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/no network server adapter for "generic".*@joinery\/adapter-generic/);
    await fs.access(path.join(work, 'z')).then(
      () => fail('nothing may be written'),
      () => undefined,
    );
    await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-plain', '--net-id', '000016', '--vendor', c.vendor, '--out', path.join(work, 'plain')]);
    const r3 = await runCLI(['ns', 'sync', 'ns-plain', '--data-dir', dataDir]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain(`no management API configured (joinery ns set ns-plain --api-url ...)`);
  });
});

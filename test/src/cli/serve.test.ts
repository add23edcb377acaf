import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI, startServer, transcript, type CLIResult, type ServerProcess } from '../support/joinery-cli';
import type { DeviceKeys } from '../support/lora-device';
import { bundleKEK, CSV_HEADER, csvLine, leakedKeys, newDevice, parseSimulateOutput, rootKeys, sessionKeysOf, writeCSV } from './fixtures';

/**
 * The CLI next to a running `joinery serve` on the same data directory: peers and devices
 * added while it runs take effect at once ("live changes"), `joinery simulate join` as the
 * operator's first end-to-end check, and graceful shutdown. No run here uses --show-keys
 * (simulate-show-keys.test.ts does), so the last test can check no key was ever printed.
 */

let work: string;
let dataDir: string;
let server: ServerProcess;
/** Root keys and KEKs: never printed. */
const secrets = new Set<string>();
/** Session keys of the joins in this file, derived independently: never printed without --show-keys. */
const sessionKeys = new Set<string>();
const devices: Record<string, DeviceKeys> = {};
let liveBundle: string;

function device(name: string, devEUI: string, macVersion: string): DeviceKeys {
  const d = newDevice(devEUI, macVersion);
  for (const k of rootKeys(d)) secrets.add(k);
  devices[name] = d;
  return d;
}

/** `joinery simulate join` for a device, through the running server's per-peer endpoint. */
function simulate(d: DeviceKeys, bundle: string, ...extra: string[]): Promise<CLIResult> {
  const name = path.basename(bundle);
  return runCLI(
    [
      'simulate',
      'join',
      '--bundle',
      bundle,
      '--url',
      new URL(`bi/${name}`, server.biURL).href,
      '--dev-eui',
      d.devEUI,
      '--join-eui',
      d.joinEUI,
      '--mac-version',
      d.macVersion,
      // The keys go through the environment, as an operator would pass them (not in `ps`).
      ...extra,
    ],
    { JOINERY_SIM_APP_KEY: d.appKey, ...(d.nwkKey ? { JOINERY_SIM_NWK_KEY: d.nwkKey } : {}) },
  );
}

/** A successful simulated join: exit 0, "join verified", and the session keys noted as secrets. */
async function verifiedJoin(d: DeviceKeys, bundle: string, ...extra: string[]) {
  const r = await simulate(d, bundle, ...extra);
  if (r.code !== 0) throw new Error(`simulate join exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout).toMatch(/^join verified$/m);
  const join = parseSimulateOutput(r.stdout);
  expect(join.resultCode).toBe('Success');
  const keys = sessionKeysOf(d, join);
  for (const k of Object.values(keys)) sessionKeys.add(k);
  return { r, join, keys };
}

beforeAll(async () => {
  work = await makeTempDir('cli-serve-live');
  dataDir = path.join(work, 'data');
  const first = path.join(work, 'ns-first');
  await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-first', '--net-id', '000013', '--vendor', 'generic', '--out', first]);
  secrets.add(await bundleKEK(first));
  const file = await writeCSV(path.join(work, 'first.csv'), [CSV_HEADER, csvLine(device('first-1.0.3', '0000000000000103', '1.0.3'))]);
  await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'ns-first']);
  server = await startServer(dataDir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('cli/serve', () => {
  test('cli/serve/live changes: ns add and devices import while it runs, then a join through the new peer without restart', async () => {
    liveBundle = path.join(work, 'ns-live');
    await cli(['ns', 'add', '--data-dir', dataDir, '--name', 'ns-live', '--net-id', '00a0b1', '--ns-id', '70b3d57ed0001234', '--vendor', 'the-things-stack', '--out', liveBundle]);
    secrets.add(await bundleKEK(liveBundle));
    const list = [device('1.0.4', '0000000000000104', '1.0.4'), device('1.1', '0000000000000110', '1.1'), device('1.0.2', '0000000000000102', '1.0.2')];
    // ChirpStack exports a 1.0.x device's root key in nwk_key: it must be the key that joins.
    const chirp = device('1.0.3-nwk_key', '00000000000c0103', '1.0.3');
    const file = await writeCSV(path.join(work, 'live.csv'), [CSV_HEADER, ...list.map(csvLine), `${chirp.devEUI},${chirp.joinEUI},1.0.3,,${chirp.appKey}`]);
    await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'ns-live']);

    for (const d of [...list, chirp]) {
      const { join } = await verifiedJoin(d, liveBundle);
      expect(join.netID).toBe('00a0b1');
      expect(join.optNeg).toBe(d.macVersion === '1.1');
    }
    expect(server.child.exitCode).toBeNull(); // the same process all along
    const shown = JSON.parse((await cli(['devices', 'show', devices['1.0.4']!.devEUI, '--json', '--data-dir', dataDir])).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ networkServer: 'ns-live', lastDevNonce: 0, lastJoinNonce: 1, lastJoinNetworkServer: 'ns-live' });
  });

  test('cli/serve/a device of the first network server still joins, and not through the new one', async () => {
    const d = devices['first-1.0.3']!;
    await verifiedJoin(d, path.join(work, 'ns-first'));
    const other = await simulate(d, liveBundle);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/-> ActivationDisallowed/);
    expect(other.stdout).toMatch(/^join NOT verified$/m);
  });
});

describe('cli/simulate join', () => {
  test('cli/simulate join/success exits 0, says "join verified", every key agrees, and prints no key', async () => {
    const d = devices['1.1']!;
    const { r, keys } = await verifiedJoin(d, liveBundle);
    for (const name of ['fNwkSIntKey', 'sNwkSIntKey', 'nwkSEncKey', 'appSKey']) expect(r.stdout).toMatch(new RegExp(`^ +${name} +device and network server agree$`, 'm'));
    expect(r.stdout).toMatch(/^SessionKeyID [0-9a-f]+$/m);
    expect(leakedKeys(r.stdout + r.stderr, [...rootKeys(d), ...Object.values(keys), await bundleKEK(liveBundle)])).toEqual([]);
  });

  test('cli/simulate join/--json without --show-keys has no key either', async () => {
    const d = devices['1.0.4']!;
    const r = await simulate(d, liveBundle, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out['ok']).toBe(true);
    expect(out['resultCode']).toBe('Success');
    expect(out).not.toHaveProperty('deviceKeys');
    expect(out['keyChecks']).toEqual({ nwkSKey: 'match', appSKey: 'match' });
    expect(out['joinAccept']['mic']).toMatch(/^[0-9a-f]{8}$/);
    const keys = sessionKeysOf(d, { devNonce: out['devNonce'], resultCode: 'Success', joinNonce: out['joinAccept']['joinNonce'], netID: out['joinAccept']['netID'], optNeg: false });
    for (const k of Object.values(keys)) sessionKeys.add(k);
    expect(leakedKeys(r.stdout + r.stderr, [...rootKeys(d), ...Object.values(keys)])).toEqual([]);
  });

  test.each(['1.0.4', '1.1'])('cli/simulate join/%s: the next join uses the next DevNonce by itself and gets a higher JoinNonce', async (name) => {
    const d = devices[name]!;
    const first = await verifiedJoin(d, liveBundle);
    const second = await verifiedJoin(d, liveBundle);
    expect(second.join.devNonce).toBe(first.join.devNonce + 1);
    expect(second.join.joinNonce).toBeGreaterThan(first.join.joinNonce!);
  });

  test.each(['1.0.4', '1.1'])('cli/simulate join/%s: replaying an old DevNonce exits 1 with JoinReqFailed; the next join still works', async (name) => {
    const d = devices[name]!;
    const before = await verifiedJoin(d, liveBundle);
    const replay = await simulate(d, liveBundle, '--dev-nonce', '0');
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/JoinReq DevNonce 0 .*-> JoinReqFailed: .*DevNonce/);
    expect(replay.stdout).toMatch(/^join NOT verified$/m);
    expect(replay.stdout).not.toMatch(/join-accept/);
    // The device's counter did not go back: the next join takes the next unused DevNonce.
    const after = await verifiedJoin(d, liveBundle);
    expect(after.join.devNonce).toBe(before.join.devNonce + 1);
    expect(after.join.joinNonce).toBeGreaterThan(before.join.joinNonce!);
  });

  test('cli/simulate join/1.0.2: a replayed DevNonce is refused too', async () => {
    const d = devices['1.0.2']!;
    await verifiedJoin(d, liveBundle, '--dev-nonce', '4242');
    const replay = await simulate(d, liveBundle, '--dev-nonce', '4242');
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/-> JoinReqFailed/);
  });

  test('cli/simulate join/the device keeps its JoinNonce: 1.1 drops one not above its stored one (and keeps the stored one), 1.0.3 takes a lower one', async () => {
    const d11 = device('stored-1.1', '00000000000d0110', '1.1');
    const d103 = device('stored-1.0.3', '00000000000d0103', '1.0.3');
    await cli(['devices', 'import', await writeCSV(path.join(work, 'stored.csv'), [CSV_HEADER, csvLine(d11), csvLine(d103)]), '--data-dir', dataDir, '--ns', 'ns-live']);
    // Both devices remember a JoinNonce from before: 1 (what this Join Server issues first), 1000.
    const stateFile = path.join(liveBundle, 'simulator-state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(stateFile, JSON.stringify({ ...state, [d11.devEUI]: { lastJoinNonce: 1 }, [d103.devEUI]: { lastJoinNonce: 1000 } }));

    const dropped = await simulate(d11, liveBundle);
    expect(dropped.code).toBe(1);
    expect(dropped.stdout).toMatch(/-> Success/);
    expect(dropped.stdout).toMatch(/join-accept: JoinNonce 1,/);
    expect(dropped.stderr).toMatch(/^problem: the device would drop this join-accept: JoinNonce 1 is not greater than its stored 1$/m);
    expect(dropped.stdout).toMatch(/^join NOT verified$/m);
    const after = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Record<string, { lastJoinNonce?: number }>;
    expect(after[d11.devEUI]!.lastJoinNonce).toBe(1);
    expect((await verifiedJoin(d11, liveBundle)).join.joinNonce).toBe(2);

    expect((await verifiedJoin(d103, liveBundle)).join.joinNonce).toBe(1);
  });

  test('cli/simulate join/wrong key: the Join Server answers MICFailed and it exits 1', async () => {
    const d = devices['1.0.3-nwk_key']!;
    const impostor = { ...d, appKey: newDevice(d.devEUI, d.macVersion).appKey };
    secrets.add(impostor.appKey);
    const r = await simulate(impostor, liveBundle);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/-> MICFailed/);
  });

  test('cli/simulate join/bad input exits 2 naming the flag; a missing 1.1 NwkKey is refused', async () => {
    const d = devices['1.1']!;
    const base = ['simulate', 'join', '--bundle', liveBundle, '--url', server.biURL, '--dev-eui', d.devEUI, '--join-eui', d.joinEUI];
    const [noNwk, badKey, badVersion, badNonce] = await Promise.all([
      runCLI([...base, '--mac-version', '1.1', '--app-key', d.appKey]),
      runCLI([...base, '--mac-version', '1.0.3', '--app-key', d.appKey.slice(0, 31)]),
      runCLI([...base, '--mac-version', '2.0', '--app-key', d.appKey]),
      runCLI([...base, '--mac-version', '1.0.3', '--app-key', d.appKey, '--dev-nonce', '70000']),
    ]);
    expect(noNwk.code).toBe(2);
    expect(noNwk.stderr).toMatch(/--nwk-key: required for a LoRaWAN 1.1 device/);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/--app-key: /);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toMatch(/--mac-version: /);
    expect(badNonce.code).toBe(2);
    expect(badNonce.stderr).toMatch(/--dev-nonce: /);
    expect(leakedKeys([noNwk, badKey, badVersion, badNonce].map((r) => r.stdout + r.stderr).join('\n'), secrets)).toEqual([]);
  });

  test("cli/simulate join/an application server's bundle or a missing bundle is a clear error", async () => {
    const d = devices['1.0.4']!;
    const asBundle = path.join(work, 'as-x');
    await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-x', '--as-id', 'as-x.example.com', '--out', asBundle]);
    secrets.add(await bundleKEK(asBundle));
    const [as, missing] = await Promise.all([simulate(d, asBundle), simulate(d, path.join(work, 'no-such-bundle'))]);
    expect(as.code).toBe(1);
    expect(as.stderr).toMatch(/application server's bundle/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-bundle.*ca\.crt: missing/);
  });
});

describe('cli/serve/log', () => {
  test("cli/serve/log/a lone request's log line reaches stdout while the server runs (lines are buffered, and flushed at least every 100 ms)", async () => {
    const { r } = await verifiedJoin(devices['first-1.0.3']!, path.join(work, 'ns-first'));
    const transactionID = /\(TransactionID (\d+)\)/.exec(r.stdout)![1]!;
    await server.outputMatching(new RegExp(`"transactionID":${transactionID},.*"msg":"bi request"`), 2_000);
  });

  test('cli/serve/log/no runtime warning from node or a library (deprecations and the like) in what it printed', () => {
    // Such a line reads `(node:<pid>) [CODE] ...Warning: ...` on stderr.
    expect(server.output()).not.toMatch(/\(node:\d+\) \[?\w*\]? ?\w*Warning/);
  });
});

describe('cli/serve/shutdown', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('cli/serve/%s stops it gracefully with exit 0', async (signal) => {
    const other = await startServer(dataDir);
    const code = await other.stop(signal);
    expect(code).toBe(0);
    expect(other.output()).toContain(`joinery: ${signal}: finishing in-flight requests and stopping`);
    expect(other.output()).toMatch(/"msg":"join server stopped"/);
  });
});

describe('cli/serve/secrets', () => {
  test("cli/serve/secrets/no root key, KEK or session key appears in any output of this file, the server's log included", async () => {
    await server.stop('SIGINT');
    const everything = transcript.join('\n');
    expect(everything).toMatch(/"msg":"bi request"/); // the server's log really was captured
    expect(sessionKeys.size).toBeGreaterThan(10);
    expect(leakedKeys(everything, [...secrets, ...sessionKeys])).toEqual([]);
  });
});

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, startServer, type ServerProcess } from '../support/joinery-cli';
import { joinRequest, randomKey, type DeviceKeys } from '../support/lora-device';
import { postJSON, readBundle, type PeerBundle } from '../support/network-server';
import { expectVendorAnswer, VENDOR_JOIN_REQUESTS, type VendorJoinRequest } from '../support/vendor-join-requests';

/**
 * Smoke test through a real `joinery serve`: one JoinReq per vendor dialect, exactly as that
 * vendor sends it (test/src/support/vendor-join-requests.ts), answered as it accepts. Every
 * vendor's request, and every MAC version × OptNeg × dialect, is checked in process
 * (core/src/backend-interfaces/join-req.test.ts, core/src/join/join-matrix.test.ts).
 */
const JOIN_EUI = '70b3d57ed0000000';

/** ChirpStack (plaintext AppSKey, no SessionKeyID; 1.0.3 and 1.1), The Things Stack over BI 1.1, and a TS002-default vendor. */
const SMOKE: readonly VendorJoinRequest[] = VENDOR_JOIN_REQUESTS.filter((f) =>
  ['ChirpStack v4, LoRaWAN 1.0.3', 'ChirpStack v4, LoRaWAN 1.1', 'The Things Stack, BI 1.1', 'actility, '].some((prefix) => f.name.startsWith(prefix)),
);

let server: ServerProcess;
let as1: PeerBundle;
const cases: { fixture: VendorJoinRequest; device: DeviceKeys; ns: PeerBundle }[] = [];

beforeAll(async () => {
  expect(SMOKE).toHaveLength(4);
  const work = await makeTempDir('dialects');
  const dataDir = path.join(work, 'data');
  await cli(['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1', '--out', path.join(work, 'as-1')]);
  as1 = await readBundle(path.join(work, 'as-1'));
  for (const [i, fixture] of SMOKE.entries()) {
    const name = `ns-${i}`;
    await cli(['ns', 'add', '--data-dir', dataDir, '--name', name, '--net-id', fixture.netID, ...(fixture.nsID ? ['--ns-id', fixture.nsID] : []), '--vendor', fixture.vendor, '--out', path.join(work, name)]);
    const device: DeviceKeys = {
      devEUI: `00000000000d00${i.toString(16).padStart(2, '0')}`,
      joinEUI: JOIN_EUI,
      macVersion: fixture.macVersion,
      appKey: randomKey(),
      ...(fixture.macVersion === '1.1' ? { nwkKey: randomKey() } : {}),
    };
    const file = path.join(work, `${name}.csv`);
    await fs.writeFile(file, `dev_eui,join_eui,mac_version,app_key,nwk_key\n${device.devEUI},${device.joinEUI},${device.macVersion},${device.appKey},${device.nwkKey ?? ''}\n`);
    await cli(['devices', 'import', file, '--data-dir', dataDir, '--ns', name, ...(fixture.withAS ? ['--as', 'as-1'] : [])]);
    cases.push({ fixture, device, ns: await readBundle(path.join(work, name)) });
  }
  server = await startServer(dataDir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('e2e/vendor dialects', () => {
  test.each(SMOKE.map((f, i) => [f.name, i] as const))('%s', async (_name, i) => {
    const { fixture, device, ns } = cases[i]!;
    const request = fixture.request(device, joinRequest(device, 1).toString('hex'));
    const r = await postJSON(server.biURL, request, ns);
    expect(r.status).toBe(200);
    expectVendorAnswer(fixture, device, request, r.body as Record<string, any>, { label: ns.kekLabel, key: ns.kek }, { label: as1.kekLabel, key: as1.kek });
  });
});

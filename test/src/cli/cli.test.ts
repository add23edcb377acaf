import { existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { cli, makeTempDir, runCLI, transcript, type CLIResult } from '../support/joinery-cli';
import type { DeviceKeys } from '../support/lora-device';
import { bundleKEK, CSV_HEADER, csvLine, JOIN_EUI, jsonEntry, leakedKeys, newDevice, rootKeys, writeCSV, writeJSON } from './fixtures';

/**
 * The `joinery` CLI as a contract, used the way a new operator uses it: register network and
 * application servers, import devices, look at them, and the refusals on the way. Every run
 * of the CLI in this file is in `transcript`; the last test checks no key ever showed up.
 *
 * Each describe starts its CLI runs together in beforeAll (a run is a node process start, so
 * running them one by one would make the suite slow); the tests then read the results.
 */

/** Every key this file gives the CLI (root keys, KEKs): none may ever be printed. */
const secrets = new Set<string>();

function track<T extends DeviceKeys[]>(...devices: T): T {
  for (const d of devices) for (const k of rootKeys(d)) secrets.add(k);
  return devices;
}

/** Runs every command of `runs` at the same time; the results under the same names. */
async function runAll<K extends string>(runs: Record<K, readonly string[] | (() => Promise<CLIResult>)>): Promise<Record<K, CLIResult>> {
  const names = Object.keys(runs) as K[];
  const results = await Promise.all(
    names.map((n) => {
      const r = runs[n];
      return typeof r === 'function' ? r() : runCLI(r);
    }),
  );
  return Object.fromEntries(names.map((n, i) => [n, results[i]!])) as Record<K, CLIResult>;
}

async function snapshot(dir: string): Promise<Record<string, { content: string; mode: number; mtimeMs: number }>> {
  const out: Record<string, { content: string; mode: number; mtimeMs: number }> = {};
  for (const f of (await fs.readdir(dir)).sort()) {
    const p = path.join(dir, f);
    const s = statSync(p);
    out[f] = { content: await fs.readFile(p, 'utf8'), mode: s.mode & 0o777, mtimeMs: s.mtimeMs };
  }
  return out;
}

async function listDevices(dataDir: string): Promise<Array<Record<string, unknown>>> {
  const r = await cli(['devices', 'list', '--data-dir', dataDir, '--json', '--limit', '1000']);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

const BUNDLE_FILES = ['README.txt', 'ca.crt', 'client.crt', 'client.key', 'kek.json', 'peer.json'];
const VENDORS = ['chirpstack', 'the-things-stack', 'actility', 'loriot', 'orbiwise', 'generic'];

describe('cli/ns add', () => {
  let work: string;
  let first: string;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let r: Record<string, CLIResult>;
  const BAD_NET_IDS = ['0013', 'zzzzzz'];

  beforeAll(async () => {
    work = await makeTempDir('cli-peers');
    const dataDir = path.join(work, 'data');
    const add = (...args: string[]): string[] => ['ns', 'add', '--data-dir', dataDir, ...args];
    first = path.join(work, 'ns-chirp');
    await cli(add('--name', 'ns-chirp', '--net-id', '00002A', '--ns-id', '70B3D57ED000ABCD', '--vendor', 'chirpstack', '--kek-label', 'chirp-kek-1', '--out', first));
    before = await snapshot(first);
    await fs.writeFile(path.join(work, 'a-file'), 'not a directory\n');
    r = await runAll({
      occupiedOut: add('--name', 'ns-other', '--net-id', '000077', '--vendor', 'generic', '--out', first),
      duplicateName: add('--name', 'ns-chirp', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'dup')),
      ...Object.fromEntries(BAD_NET_IDS.map((n) => [`netID:${n}`, add('--name', 'ns-bad', '--net-id', n, '--vendor', 'generic', '--out', path.join(work, `bad-netid-${n}`))])),
      badNSID: add('--name', 'ns-bad', '--net-id', '000013', '--ns-id', '1234', '--vendor', 'generic', '--out', path.join(work, 'bad-nsid')),
      badVendor: add('--name', 'ns-bad', '--net-id', '000013', '--vendor', 'acme', '--out', path.join(work, 'bad-vendor')),
      badName: add('--name', 'NS_Upper', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'bad-name')),
      unwritable: add('--name', 'ns-retry', '--net-id', '000055', '--vendor', 'generic', '--out', path.join(work, 'a-file', 'bundle')),
      asAdd: ['as', 'add', '--data-dir', dataDir, '--name', 'as-1', '--as-id', 'as1.example.com', '--out', path.join(work, 'as-1')],
      emptyASID: ['as', 'add', '--data-dir', dataDir, '--name', 'as-bad', '--as-id', ' ', '--out', path.join(work, 'as-bad')],
    });
    // The operator corrects the refused commands and runs them again: the names must still be free.
    Object.assign(
      r,
      await runAll({
        otherRetry: add('--name', 'ns-other', '--net-id', '000077', '--vendor', 'generic', '--out', path.join(work, 'ns-other')),
        unwritableRetry: add('--name', 'ns-retry', '--net-id', '000055', '--vendor', 'generic', '--out', path.join(work, 'ns-retry')),
      }),
    );
    for (const b of ['ns-chirp', 'ns-other', 'ns-retry', 'as-1']) if (existsSync(path.join(work, b, 'kek.json'))) secrets.add(await bundleKEK(path.join(work, b)));
  }, 120_000);

  test('cli/ns add/writes the credential bundle: every file, client.key and kek.json mode 0600', async () => {
    // ChirpStack's setup files come without a management API (--api-url): they do not depend on it.
    expect((await fs.readdir(first)).sort()).toEqual([...BUNDLE_FILES, 'SETUP.txt', 'chirpstack.toml'].sort());
    expect(statSync(path.join(first, 'chirpstack.toml')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(first, 'client.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(first, 'kek.json')).mode & 0o777).toBe(0o600);
    for (const f of ['ca.crt', 'client.crt', 'peer.json', 'README.txt']) expect(statSync(path.join(first, f)).mode & 0o077).toBe(0o044);
    const peer = JSON.parse(await fs.readFile(path.join(first, 'peer.json'), 'utf8')) as Record<string, string>;
    expect(peer).toEqual({ kind: 'ns', name: 'ns-chirp', netID: '00002a', nsID: '70b3d57ed000abcd', vendor: 'chirpstack', biURL: 'https://localhost:8003/bi/ns-chirp' });
    const kek = JSON.parse(await fs.readFile(path.join(first, 'kek.json'), 'utf8')) as Record<string, string>;
    expect(kek['label']).toBe('chirp-kek-1');
    expect(kek['kek']).toMatch(/^[0-9a-f]{32}$/);
    expect(await fs.readFile(path.join(first, 'client.key'), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
  });

  test('cli/ns add/the ChirpStack README has the setup steps and the KEK label, never the KEK', async () => {
    const readme = await fs.readFile(path.join(first, 'README.txt'), 'utf8');
    expect(readme).toContain('Merge chirpstack.toml into your chirpstack.toml');
    expect(await fs.readFile(path.join(first, 'chirpstack.toml'), 'utf8')).toContain('[[join_server.servers]]');
    expect(readme).toContain('chirp-kek-1');
    expect(readme).toContain('https://localhost:8003/bi/ns-chirp');
    expect(leakedKeys(readme, [await bundleKEK(first)])).toEqual([]);
  });

  test('cli/ns add/refuses an --out directory that already holds a bundle and leaves it unchanged', async () => {
    expect(r['occupiedOut']!.code).not.toBe(0);
    expect(r['occupiedOut']!.stderr).toContain(first);
    expect(r['occupiedOut']!.stderr).toMatch(/already holds a credential bundle/);
    expect(await snapshot(first)).toEqual(before);
    // ... and the refused peer was not registered.
    expect(r['otherRetry']!.code).toBe(0);
  });

  test('cli/ns add/a duplicate --name is refused and writes nothing', () => {
    expect(r['duplicateName']!.code).toBe(2);
    expect(r['duplicateName']!.stderr).toMatch(/--name: a peer named ns-chirp already exists/);
    expect(existsSync(path.join(work, 'dup'))).toBe(false);
  });

  test.each(BAD_NET_IDS)('cli/ns add/--net-id "%s" exits 2 with a message naming --net-id', (netID) => {
    const res = r[`netID:${netID}`]!;
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^joinery: --net-id: /m);
    expect(existsSync(path.join(work, `bad-netid-${netID}`))).toBe(false);
  });

  test('cli/ns add/a bad --ns-id exits 2 naming --ns-id', () => {
    expect(r['badNSID']!.code).toBe(2);
    expect(r['badNSID']!.stderr).toMatch(/^joinery: --ns-id: /m);
  });

  test('cli/ns add/an unknown --vendor exits 2 and lists the valid vendors', () => {
    expect(r['badVendor']!.code).toBe(2);
    expect(r['badVendor']!.stderr).toMatch(/--vendor: unknown vendor "acme"/);
    for (const v of VENDORS) expect(r['badVendor']!.stderr).toContain(v);
  });

  test('cli/ns add/a bad --name exits 2 naming --name', () => {
    expect(r['badName']!.code).toBe(2);
    expect(r['badName']!.stderr).toMatch(/^joinery: --name: /m);
    expect(existsSync(path.join(work, 'bad-name'))).toBe(false);
  });

  test('cli/ns add/a bundle that cannot be written leaves no half-registered peer behind', () => {
    expect(r['unwritable']!.code).toBe(1);
    expect(r['unwritable']!.stderr).toMatch(/^joinery: .*a-file/m);
    // The operator fixes --out and runs it again: the name is still free.
    expect(r['unwritableRetry']!.code).toBe(0);
    expect(r['unwritableRetry']!.stdout).toContain('registered network server ns-retry');
  });

  test('cli/as add/registers an application server and writes its bundle', async () => {
    const out = path.join(work, 'as-1');
    expect(r['asAdd']!.code).toBe(0);
    expect(r['asAdd']!.stdout).toContain('registered application server as-1 (AS-ID as1.example.com)');
    expect(r['asAdd']!.stdout).toContain('KEK label: as1.example.com');
    expect((await fs.readdir(out)).sort()).toEqual(BUNDLE_FILES);
    expect(statSync(path.join(out, 'client.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(out, 'kek.json')).mode & 0o777).toBe(0o600);
    const peer = JSON.parse(await fs.readFile(path.join(out, 'peer.json'), 'utf8')) as Record<string, string>;
    expect(peer).toEqual({ kind: 'as', name: 'as-1', asID: 'as1.example.com', biURL: 'https://localhost:8003/bi/as-1' });
    const readme = await fs.readFile(path.join(out, 'README.txt'), 'utf8');
    expect(readme).toContain('as1.example.com');
    expect(leakedKeys(readme, [await bundleKEK(out)])).toEqual([]);
  });

  test('cli/as add/an empty --as-id exits 2 naming --as-id', () => {
    expect(r['emptyASID']!.code).toBe(2);
    expect(r['emptyASID']!.stderr).toMatch(/^joinery: --as-id: /m);
  });
});

describe('cli/devices', () => {
  let work: string;
  let dataDir: string;
  const data = (...args: string[]): string[] => [...args, '--data-dir', dataDir];
  /** The devices of the files that were imported. */
  const imported: DeviceKeys[] = [];
  /** Every device in the store once all imports, good and bad, ran. */
  let stored: Array<Record<string, unknown>>;
  let r: Record<string, CLIResult>;

  // Good files.
  const csvDevices = track(newDevice('00000000000a0001', '1.0.3'), newDevice('00000000000a0002', '1.0.4'), newDevice('00000000000a0003', '1.1'));
  const jsonDevices = track(newDevice('00000000000b0001', '1.0.2'), newDevice('00000000000b0002', '1.1'));
  const txtDevice = track(newDevice('00000000000b0003', '1.0.4'))[0];
  const chirpDevice = track(newDevice('00000000000c0001', '1.0.3'))[0];
  const bothDevice = track(newDevice('00000000000c0002', '1.0.2'))[0];
  const orderDevices = track(newDevice('00000000000d0001', '1.0.3'), newDevice('00000000000d0002', '1.1'));
  // Refused files: none of these may be in the store afterwards.
  const refused: DeviceKeys[] = [];
  const noColumnDevice = track(newDevice('00000000000e0001', '1.0.3'))[0];
  const badGood = track(newDevice('00000000000f0001', '1.0.3'), newDevice('00000000000f0002', '1.1'), newDevice('00000000000f0003', '1.0.4'));
  const bad = track(
    newDevice('00000000000f0004', '1.0.3'),
    newDevice('00000000000f0005', '1.0.3'),
    newDevice('00000000000f0006', '1.0.3'),
    newDevice('00000000000f0007', '1.1'),
    newDevice('00000000000f0008', '1.0.4'),
    newDevice('00000000000f0009', '1.0.2'),
    newDevice('00000000000f000a', '1.0.3'),
    newDevice('00000000000f000b', '1.0.3'),
  );
  const otherKey = track(newDevice('00000000000f00ff', '1.0.4'))[0];
  const jsonGood = track(newDevice('0000000000100001', '1.0.3'))[0];
  const jsonBad = track(newDevice('0000000000100002', '1.1'), newDevice('0000000000100003', '1.0.4'));
  const quoted = track(newDevice('0000000000110001', '1.0.3'), newDevice('0000000000110002', '1.0.3'));
  const fresh = track(newDevice('0000000000120001', '1.0.3'))[0];
  // Two devices of the CSV file again, with other keys.
  const existing = track(...csvDevices.slice(0, 2).map((d) => newDevice(d.devEUI, d.macVersion)));
  const unbound = track(newDevice('0000000000130001', '1.0.3'))[0];
  refused.push(noColumnDevice, ...badGood, ...bad, jsonGood, ...jsonBad, ...quoted, fresh, unbound);

  beforeAll(async () => {
    work = await makeTempDir('cli-devices');
    dataDir = path.join(work, 'data');
    const file = (name: string): string => path.join(work, name);
    await cli(data('ns', 'add', '--name', 'ns-a', '--net-id', '000013', '--vendor', 'generic', '--out', file('ns-a')));
    await runAll({
      nsB: () => cli(data('ns', 'add', '--name', 'ns-b', '--net-id', '000042', '--vendor', 'the-things-stack', '--out', file('ns-b'))),
      as1: () => cli(data('as', 'add', '--name', 'as-1', '--as-id', 'as1.example.com', '--out', file('as-1'))),
    });
    for (const b of ['ns-a', 'ns-b', 'as-1']) secrets.add(await bundleKEK(file(b)));

    const [d0, d1, d2] = csvDevices;
    const [o0, o1] = orderDevices;
    r = await runAll({
      // Upper-case hex and a 0x prefix are what people paste.
      csv: data('devices', 'import', await writeCSV(file('a.csv'), [CSV_HEADER, csvLine(d0).toUpperCase(), csvLine(d1).replace(d1.appKey, `0x${d1.appKey}`), csvLine(d2)]), '--ns', 'ns-a', '--as', 'as-1'),
      json: data('devices', 'import', await writeJSON(file('b.json'), jsonDevices.map(jsonEntry)), '--ns', 'ns-b'),
      txt: data('devices', 'import', await writeJSON(file('export.txt'), [jsonEntry(txtDevice)]), '--ns', 'ns-b'),
      chirpstack: data(
        'devices',
        'import',
        await writeCSV(file('chirpstack.csv'), [
          CSV_HEADER,
          `${chirpDevice.devEUI},${JOIN_EUI},1.0.3,,${chirpDevice.appKey}`,
          `${bothDevice.devEUI},${JOIN_EUI},1.0.2,${bothDevice.appKey},${bothDevice.appKey.toUpperCase()}`,
        ]),
        '--ns',
        'ns-a',
      ),
      order: data(
        'devices',
        'import',
        await writeCSV(file('order.csv'), [
          '# exported by hand',
          'Name, NWK_KEY ,app_key,mac_version,join_eui,dev_eui,claim_code',
          `"sensor, kitchen",,${o0.appKey},LoRaWAN 1.0.3,${JOIN_EUI},${o0.devEUI},ABC123`,
          `sensor 2,${o1.nwkKey},${o1.appKey},MAC_V1_1,${JOIN_EUI},${o1.devEUI},DEF456`,
        ]),
        '--ns',
        'ns-a',
      ),
    });
    imported.push(...csvDevices, ...jsonDevices, txtDevice, chirpDevice, bothDevice, ...orderDevices);

    const [b0, b1, b2, b3, b4, b5, b6, b7] = bad;
    const [q0, q1] = quoted;
    Object.assign(
      r,
      await runAll({
        noColumn: data('devices', 'import', await writeCSV(file('nocol.csv'), ['dev_eui,join_eui,app_key', `${noColumnDevice.devEUI},${JOIN_EUI},${noColumnDevice.appKey}`]), '--ns', 'ns-a'),
        badRows: data(
          'devices',
          'import',
          await writeCSV(file('bad.csv'), [
            CSV_HEADER, //                                                                              line 1
            csvLine(badGood[0]), //                                                                      line 2
            csvLine({ ...b0, devEUI: '00000000000f00zz' }), //                        bad hex DevEUI:     line 3
            csvLine({ ...b1, appKey: b1.appKey.slice(0, 30) }), //                    15-byte AppKey:     line 4
            csvLine({ ...b2, macVersion: '1.2' }), //                                 unknown version:    line 5
            csvLine({ ...b3, nwkKey: '' }), //                                        1.1 without NwkKey: line 6
            csvLine(badGood[1]), //                                                                      line 7
            csvLine({ ...b4, devEUI: badGood[0].devEUI }), //                         duplicate DevEUI:   line 8
            csvLine({ ...b5, nwkKey: otherKey.appKey }), //                           1.0.x, two keys:    line 9
            `${b6.devEUI},${b6.joinEUI},${b6.appKey},1.0.3,`, //                      columns swapped:    line 10
            `${b7.devEUI},${b7.appKey},1.0.3`, //                                     a field missing:    line 11
            csvLine(badGood[2]), //                                                                      line 12
          ]),
          '--ns',
          'ns-a',
        ),
        badJSON: data(
          'devices',
          'import',
          await writeJSON(file('bad.json'), [
            jsonEntry(jsonGood),
            { ...jsonEntry(jsonBad[0]), nwk_key: undefined },
            'not an object',
            { ...jsonEntry(jsonBad[1]), app_key: 42 },
            { ...jsonEntry(jsonBad[1]), dev_eui: jsonGood.devEUI, app_key: jsonBad[1].appKey.toUpperCase() },
          ]),
          '--ns',
          'ns-a',
        ),
        quote: data('devices', 'import', await writeCSV(file('quote.csv'), [CSV_HEADER, csvLine(q0), `${q1.devEUI},${JOIN_EUI},1.0.3,${q1.appKey.slice(0, 30)}"${q1.appKey.slice(30)},`]), '--ns', 'ns-a'),
        existingCSV: data('devices', 'import', await writeCSV(file('again.csv'), [CSV_HEADER, csvLine(existing[0]!), csvLine(fresh), csvLine(existing[1]!)]), '--ns', 'ns-a'),
        existingJSON: data('devices', 'import', await writeJSON(file('again.json'), [jsonEntry(fresh), jsonEntry(existing[0]!)]), '--ns', 'ns-a'),
        unknownNS: data('devices', 'import', await writeCSV(file('unbound.csv'), [CSV_HEADER, csvLine(unbound)]), '--ns', 'ns-nope'),
        asAsNS: data('devices', 'import', file('unbound.csv'), '--ns', 'as-1'),
        unknownAS: data('devices', 'import', file('unbound.csv'), '--ns', 'ns-a', '--as', 'as-nope'),
        missingFile: data('devices', 'import', file('nope.csv'), '--ns', 'ns-a'),
        emptyFile: data('devices', 'import', await writeCSV(file('empty.csv'), [CSV_HEADER]), '--ns', 'ns-a'),
      }),
    );
    stored = await listDevices(dataDir);
  }, 120_000);

  function isStored(d: DeviceKeys): boolean {
    return stored.some((s) => s['devEUI'] === d.devEUI);
  }

  function reportedLines(stderr: string, unit = 'line'): number[] {
    return [...stderr.matchAll(new RegExp(`^ {2}${unit} (\\d+): `, 'gm'))].map((m) => Number(m[1]));
  }

  describe('cli/devices import', () => {
    test('cli/devices import/CSV: 1.0.x and 1.1 devices, bound to the network and application server', () => {
      expect(r['csv']!.code).toBe(0);
      expect(r['csv']!.stdout).toContain('imported 3 devices (2 LoRaWAN 1.0.x, 1 LoRaWAN 1.1), bound to network server ns-a and application server as-1');
      for (const d of csvDevices) {
        expect(stored.find((x) => x['devEUI'] === d.devEUI)).toMatchObject({ joinEUI: JOIN_EUI, macVersion: d.macVersion, networkServer: 'ns-a', applicationServer: 'as-1' });
      }
    });

    test('cli/devices import/JSON: an array of objects with the same fields', () => {
      expect(r['json']!.code).toBe(0);
      expect(r['json']!.stdout).toContain('imported 2 devices (1 LoRaWAN 1.0.x, 1 LoRaWAN 1.1), bound to network server ns-b');
      for (const d of jsonDevices) expect(stored.find((x) => x['devEUI'] === d.devEUI)).toMatchObject({ macVersion: d.macVersion, networkServer: 'ns-b', applicationServer: null });
    });

    test('cli/devices import/a JSON file without the .json extension is recognised', () => {
      expect(r['txt']!.code).toBe(0);
      expect(isStored(txtDevice)).toBe(true);
    });

    test('cli/devices import/a 1.0.x row with its key in nwk_key only (ChirpStack export style), or the same key in both, is accepted', () => {
      expect(r['chirpstack']!.code).toBe(0);
      expect(r['chirpstack']!.stdout).toContain('imported 2 devices (2 LoRaWAN 1.0.x, 0 LoRaWAN 1.1)');
      expect(isStored(chirpDevice)).toBe(true);
      expect(isStored(bothDevice)).toBe(true);
    });

    test('cli/devices import/columns in another order, vendor spellings, comments and extra columns are fine', () => {
      expect(r['order']!.code).toBe(0);
      expect(r['order']!.stdout).toContain('imported 2 devices (1 LoRaWAN 1.0.x, 1 LoRaWAN 1.1)');
      expect(stored.find((x) => x['devEUI'] === orderDevices[0].devEUI)).toMatchObject({ macVersion: '1.0.3' });
      expect(stored.find((x) => x['devEUI'] === orderDevices[1].devEUI)).toMatchObject({ macVersion: '1.1' });
    });

    test('cli/devices import/a missing required column is a clear error', () => {
      expect(r['noColumn']!.code).toBe(1);
      expect(r['noColumn']!.stderr).toMatch(/nothing was imported/);
      expect(r['noColumn']!.stderr).toMatch(/line 1: the header lacks mac_version/);
      expect(isStored(noColumnDevice)).toBe(false);
    });

    test('cli/devices import/bad rows are reported with their line and nothing is imported', () => {
      const { code, stderr, stdout } = r['badRows']!;
      expect(code).toBe(1);
      expect(stderr).toMatch(/import refused, nothing was imported\. 8 bad lines:/);
      expect(reportedLines(stderr)).toEqual([3, 4, 5, 6, 8, 9, 10, 11]);
      expect(stderr).toMatch(/line 3: dev_eui: /);
      expect(stderr).toMatch(/line 4: app_key: expected 16 bytes/);
      expect(stderr).toMatch(/line 5: mac_version: unknown LoRaWAN MAC version "1.2"/);
      expect(stderr).toMatch(/line 6: nwk_key: missing/);
      expect(stderr).toMatch(/line 8: dev_eui: 00000000000f0001 is already in line 2/);
      expect(stderr).toMatch(/line 9: nwk_key: .*one root key/);
      expect(stderr).toMatch(/line 10: mac_version: unknown LoRaWAN MAC version/);
      expect(stderr).toMatch(/line 11: fields: expected 5 \(one per header column\), got 3/);
      expect(leakedKeys(stdout + stderr, secrets)).toEqual([]);
      expect([...badGood, ...bad].filter(isStored)).toEqual([]);
    });

    test('cli/devices import/bad JSON entries are reported by entry number and nothing is imported', () => {
      const { code, stderr, stdout } = r['badJSON']!;
      expect(code).toBe(1);
      expect(stderr).toMatch(/4 bad entries:/);
      expect(reportedLines(stderr, 'entry')).toEqual([2, 3, 4, 5]);
      expect(stderr).toMatch(/entry 2: nwk_key: missing/);
      expect(stderr).toMatch(/entry 3: device: expected an object/);
      expect(stderr).toMatch(/entry 4: app_key: /);
      expect(stderr).toMatch(/entry 5: dev_eui: 0000000000100001 is already in entry 1/);
      expect(leakedKeys(stdout + stderr, secrets)).toEqual([]);
      expect([jsonGood, ...jsonBad].filter(isStored)).toEqual([]);
    });

    test('cli/devices import/a CSV syntax error names its line and never echoes the field', () => {
      const { code, stderr, stdout } = r['quote']!;
      expect(code).toBe(1);
      expect(stderr).toMatch(/line 3: not valid CSV \(a quote inside a field/);
      expect(leakedKeys(stdout + stderr, secrets)).toEqual([]);
      expect(quoted.filter(isStored)).toEqual([]);
    });

    test('cli/devices import/DevEUIs that already exist refuse the whole file, each one listed', () => {
      const csv = r['existingCSV']!;
      expect(csv.code).toBe(1);
      expect(csv.stderr).toMatch(/nothing was imported\. 2 bad lines/);
      expect(csv.stderr).toContain(`line 2: device ${existing[0]!.devEUI} already exists`);
      expect(csv.stderr).toContain(`line 4: device ${existing[1]!.devEUI} already exists`);
      const json = r['existingJSON']!;
      expect(json.code).toBe(1);
      expect(json.stderr).toContain(`entry 2: device ${existing[0]!.devEUI} already exists`);
      expect(leakedKeys(csv.stderr + json.stderr, secrets)).toEqual([]);
      expect(isStored(fresh)).toBe(false);
    });

    test('cli/devices import/an unknown --ns or --as is a clear error', () => {
      expect(r['unknownNS']!.code).toBe(2);
      expect(r['unknownNS']!.stderr).toMatch(/^joinery: --ns: no network server named ns-nope \(add it with: joinery ns add\)$/m);
      // An application server is not a network server.
      expect(r['asAsNS']!.code).toBe(2);
      expect(r['asAsNS']!.stderr).toMatch(/--ns: no network server named as-1/);
      expect(r['unknownAS']!.code).toBe(2);
      expect(r['unknownAS']!.stderr).toMatch(/^joinery: --as: no application server named as-nope/m);
      expect(isStored(unbound)).toBe(false);
    });

    test('cli/devices import/a missing file or an empty file is a clear error', () => {
      expect(r['missingFile']!.code).toBe(2);
      expect(r['missingFile']!.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
      expect(r['emptyFile']!.code).toBe(1);
      expect(r['emptyFile']!.stderr).toMatch(/no devices in the file/);
    });

    test('cli/devices import/nothing of a refused file is in the store', () => {
      expect(stored.map((d) => d['devEUI']).sort()).toEqual(imported.map((d) => d.devEUI).sort());
      expect(refused.filter(isStored)).toEqual([]);
    });
  });

  describe('cli/devices list and show', () => {
    let q: Record<string, CLIResult>;
    const v11 = csvDevices[2];

    beforeAll(async () => {
      q = await runAll({
        listText: data('devices', 'list', '--limit', '1000'),
        listJSON: data('devices', 'list', '--json'),
        listNS: data('devices', 'list', '--json', '--ns', 'ns-b'),
        page: data('devices', 'list', '--json', '--ns', 'ns-b', '--limit', '1', '--offset', '1'),
        badLimit: data('devices', 'list', '--limit', 'many'),
        showText: data('devices', 'show', v11.devEUI.toUpperCase()),
        showJSON: data('devices', 'show', v11.devEUI, '--json'),
        showUnknown: data('devices', 'show', 'ffffffffffff0001'),
        'bad:00zz': data('devices', 'show', '00zz'),
        'bad:0011': data('devices', 'show', '0011'),
        freshDir: ['devices', 'list', '--data-dir', path.join(work, 'typo-data')],
      });
    });

    test('cli/devices list/text: identities, MAC version and binding, never a key', () => {
      const { code, stdout, stderr } = q['listText']!;
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]!.split(/\s{2,}/)).toEqual(['DEVEUI', 'JOINEUI', 'MAC', 'NETWORK SERVER', 'APP SERVER', 'LAST DEVNONCE', 'JOINNONCE', 'LAST JOIN']);
      expect(lines).toHaveLength(imported.length + 1);
      for (const d of imported) {
        const row = lines.find((l) => l.startsWith(d.devEUI));
        expect(row?.split(/\s{2,}/).slice(0, 3)).toEqual([d.devEUI, JOIN_EUI, d.macVersion]);
      }
      expect(stdout).toMatch(/^00000000000a0003 +70b3d57ed0000000 +1\.1 +ns-a +as-1 +- +- +never$/m);
      expect(stdout).toMatch(/^00000000000b0001 +70b3d57ed0000000 +1\.0\.2 +ns-b +- +- +- +never$/m);
      expect(stderr).toContain(`${imported.length} shown, ${imported.length} devices in all`);
      expect(leakedKeys(stdout + stderr, secrets)).toEqual([]);
    });

    test('cli/devices list/--json: identities, MAC version and binding, never a key', () => {
      const { code, stdout, stderr } = q['listJSON']!;
      expect(code).toBe(0);
      const list = JSON.parse(stdout) as Array<Record<string, unknown>>;
      expect(list.map((d) => d['devEUI']).sort()).toEqual(imported.map((d) => d.devEUI).sort());
      for (const d of list) expect(Object.keys(d).filter((k) => /key/i.test(k))).toEqual([]);
      expect(list.find((d) => d['devEUI'] === '00000000000b0002')).toMatchObject({ joinEUI: JOIN_EUI, macVersion: '1.1', networkServer: 'ns-b', applicationServer: null, lastJoinAt: null });
      expect(leakedKeys(stdout + stderr, secrets)).toEqual([]);
    });

    test('cli/devices list/--ns, --limit and --offset', () => {
      const onB = JSON.parse(q['listNS']!.stdout) as Array<Record<string, unknown>>;
      expect(onB.map((d) => d['devEUI']).sort()).toEqual(['00000000000b0001', '00000000000b0002', '00000000000b0003']);
      const page = JSON.parse(q['page']!.stdout) as Array<Record<string, unknown>>;
      expect(page).toHaveLength(1);
      expect(onB.map((d) => d['devEUI'])).toContain(page[0]!['devEUI']);
      expect(q['badLimit']!.code).toBe(2);
      expect(q['badLimit']!.stderr).toMatch(/^joinery: --limit: /m);
    });

    test('cli/devices list/on a data directory that does not exist says so and creates nothing', () => {
      expect(q['freshDir']!.code).toBe(1);
      expect(q['freshDir']!.stderr).toContain(`no Joinery data directory at ${path.join(work, 'typo-data')}`);
      expect(existsSync(path.join(work, 'typo-data'))).toBe(false);
    });

    test('cli/devices show/text and --json: one device, never a key', () => {
      const text = q['showText']!;
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^devEUI: +00000000000a0003$/m);
      expect(text.stdout).toMatch(/^joinEUI: +70b3d57ed0000000$/m);
      expect(text.stdout).toMatch(/^macVersion: +1\.1$/m);
      expect(text.stdout).toMatch(/^networkServer: +ns-a$/m);
      expect(text.stdout).toMatch(/^applicationServer: +as-1$/m);
      expect(text.stdout).not.toMatch(/key/i);
      const json = q['showJSON']!;
      expect(json.code).toBe(0);
      const view = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(view).toMatchObject({ devEUI: v11.devEUI, joinEUI: JOIN_EUI, macVersion: '1.1', networkServer: 'ns-a', applicationServer: 'as-1', lastDevNonce: null, lastJoinNonce: null });
      expect(Object.keys(view).filter((k) => /key/i.test(k))).toEqual([]);
      expect(leakedKeys(text.stdout + text.stderr + json.stdout + json.stderr, secrets)).toEqual([]);
    });

    test('cli/devices show/an unknown DevEUI exits 1 with a message', () => {
      expect(q['showUnknown']!.code).toBe(1);
      expect(q['showUnknown']!.stdout).toBe('');
      expect(q['showUnknown']!.stderr).toMatch(/^joinery: no device ffffffffffff0001$/m);
    });

    test.each(['00zz', '0011'])('cli/devices show/a bad DevEUI "%s" exits 2', (devEUI) => {
      expect(q[`bad:${devEUI}`]!.code).toBe(2);
      expect(q[`bad:${devEUI}`]!.stderr).toMatch(/^joinery: devEUI: /im);
    });
  });
});

describe('cli/backends', () => {
  let work: string;
  let r: Record<string, CLIResult>;
  const COMMANDS = {
    serve: ['serve', '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
    'ns add': ['ns', 'add', '--name', 'ns-x', '--net-id', '000013', '--vendor', 'generic', '--out', 'OUT'],
    'devices list': ['devices', 'list'],
  } as const;
  const dirs = (name: string) => ({ dataDir: path.join(work, `${name.replace(' ', '-')}-data`), out: path.join(work, `${name.replace(' ', '-')}-out`) });

  beforeAll(async () => {
    work = await makeTempDir('cli-backends');
    const runs: Record<string, readonly string[] | (() => Promise<CLIResult>)> = {};
    for (const [name, args] of Object.entries(COMMANDS)) {
      const { dataDir, out } = dirs(name);
      const argv = [...args.map((a) => (a === 'OUT' ? out : a)), '--data-dir', dataDir];
      runs[`${name}:postgres`] = [...argv, '--store', 'postgres://127.0.0.1/x'];
      runs[`${name}:pkcs11`] = [...argv, '--vault', 'pkcs11'];
      if (name === 'devices list') runs[`${name}:pkcs11-env`] = () => runCLI(argv, { JOINERY_VAULT: 'pkcs11' });
    }
    runs['vault:hsm'] = ['devices', 'list', '--data-dir', path.join(work, 'v'), '--vault', 'hsm'];
    runs['store:mysql'] = ['devices', 'list', '--data-dir', path.join(work, 'v'), '--store', 'mysql://x'];
    const sqlite = async (): Promise<CLIResult> => {
      const dataDir = path.join(work, 'sq-data');
      const db = path.join(work, 'elsewhere.db');
      await cli(['ns', 'add', '--data-dir', dataDir, '--store', `sqlite:${db}`, '--name', 'ns-s', '--net-id', '000013', '--vendor', 'generic', '--out', path.join(work, 'ns-s')]);
      secrets.add(await bundleKEK(path.join(work, 'ns-s')));
      const d = track(newDevice('0000000000140001', '1.0.4'))[0];
      await cli(['devices', 'import', await writeCSV(path.join(work, 's.csv'), [CSV_HEADER, csvLine(d)]), '--ns', 'ns-s', '--data-dir', dataDir], { JOINERY_STORE: `sqlite:${db}` });
      return cli(['devices', 'list', '--json', '--data-dir', dataDir, '--store', `sqlite:${db}`]);
    };
    runs['sqlite'] = sqlite;
    r = await runAll(runs);
  }, 120_000);

  // A backend that cannot be opened is refused with one clear line, before anything is created
  // in the data directory or in --out. A build without the PostgreSQL store or the PKCS#11 vault
  // says "not available in this release" (exit 1); a build with them cannot open
  // postgres://127.0.0.1/x (exit 1) or a PKCS#11 vault without its module (--pkcs11-lib, exit 2).
  test.each(Object.keys(COMMANDS))('cli/backends/%s: --store postgres://127.0.0.1/x exits 1 with a clear message and creates nothing', (name) => {
    const res = r[`${name}:postgres`]!;
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^joinery: .*PostgreSQL store/);
    if (/not available/.test(res.stderr)) expect(res.stderr).toMatch(/PostgreSQL store is not available in this release/);
    expect(existsSync(dirs(name).dataDir)).toBe(false);
    expect(existsSync(dirs(name).out)).toBe(false);
  });

  test.each(Object.keys(COMMANDS))('cli/backends/%s: --vault pkcs11 (flag or JOINERY_VAULT) is refused with a clear message and creates nothing', (name) => {
    for (const res of [r[`${name}:pkcs11`]!, ...(r[`${name}:pkcs11-env`] ? [r[`${name}:pkcs11-env`]!] : [])]) {
      expect(res.stderr).toMatch(/^joinery: .*(PKCS#11|--pkcs11)/);
      if (/not available/.test(res.stderr)) {
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(/PKCS#11 key vault is not available in this release/);
      } else {
        expect([1, 2]).toContain(res.code);
      }
    }
    expect(existsSync(dirs(name).dataDir)).toBe(false);
    expect(existsSync(dirs(name).out)).toBe(false);
  });

  test('cli/backends/an unknown --vault or --store exits 2 naming the flag', () => {
    expect(r['vault:hsm']!.code).toBe(2);
    expect(r['vault:hsm']!.stderr).toMatch(/^joinery: --vault: expected software or pkcs11/m);
    expect(r['store:mysql']!.code).toBe(2);
    expect(r['store:mysql']!.stderr).toMatch(/^joinery: --store: expected sqlite:<path> or postgres:/m);
  });

  test('cli/backends/--store sqlite:<path> (flag or JOINERY_STORE) puts the database there', () => {
    expect(existsSync(path.join(work, 'elsewhere.db'))).toBe(true);
    expect(existsSync(path.join(work, 'sq-data', 'joinery.db'))).toBe(false);
    expect((JSON.parse(r['sqlite']!.stdout) as unknown[]).length).toBe(1);
  });
});

describe('cli/serve refusals', () => {
  let r: Record<string, CLIResult>;
  const BAD_LISTEN = [
    ['--bi-listen', 'nope'],
    ['--bi-listen', '127.0.0.1:99999'],
    ['--admin-listen', 'localhost:http'],
  ] as const;

  beforeAll(async () => {
    const dataDir = path.join(await makeTempDir('cli-serve'), 'data');
    const serve = (...args: string[]): string[] => ['serve', '--data-dir', dataDir, '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...args];
    r = await runAll({
      ...Object.fromEntries(BAD_LISTEN.map(([flag, value]) => [`${flag} ${value}`, serve(flag, value)])),
      usedDevNonces: serve('--used-dev-nonces', '0'),
      keyCacheSize: serve('--key-cache-size', '-1'),
    });
  });

  test.each(BAD_LISTEN)('cli/serve/%s "%s" exits 2 with a message naming the flag', (flag, value) => {
    expect(r[`${flag} ${value}`]!.code).toBe(2);
    expect(r[`${flag} ${value}`]!.stderr).toContain(`joinery: ${flag}: expected host:port`);
  });

  test('cli/serve/a bad --used-dev-nonces exits 2 naming the flag', () => {
    expect(r['usedDevNonces']!.code).toBe(2);
    expect(r['usedDevNonces']!.stderr).toMatch(/^joinery: --used-dev-nonces: /m);
  });

  test('cli/serve/a negative --key-cache-size exits 2 naming the flag and its range', () => {
    expect(r['keyCacheSize']!.code).toBe(2);
    expect(r['keyCacheSize']!.stderr).toMatch(/^joinery: --key-cache-size: expected an integer 0\.\.10000000/m);
  });
});

describe('cli/devices import: weak owner tokens', () => {
  test('an owner token shorter than 8 characters is refused, saying why, unless --allow-weak-owner-tokens', async () => {
    const dir = await makeTempDir('cli-weak-tokens');
    const dataDir = path.join(dir, 'data');
    const [a, b] = track(newDevice('00000000000e0001', '1.0.3'), newDevice('00000000000e0002', '1.0.3'));
    const file = await writeCSV(path.join(dir, 'weak.csv'), [`${CSV_HEADER},owner_token`, `${csvLine(a!)},AB12CD7`, `${csvLine(b!)},AB12CD78`]);
    const refused = await runCLI(['devices', 'import', file, '--data-dir', dataDir]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/line 2: owner_token has 7 characters, fewer than 8: a short owner token can be guessed within the claim rate limits over the device's lifetime/);
    expect(refused.stderr).toContain('--allow-weak-owner-tokens');
    expect(refused.stderr).not.toContain('line 3');
    const bound = await runCLI(['devices', 'import', file, '--data-dir', dataDir, '--ns', 'none', '--allow-weak-owner-tokens']);
    expect(bound.code).toBe(2);
    expect(bound.stderr).toContain('--allow-weak-owner-tokens');
    const allowed = await cli(['devices', 'import', file, '--data-dir', dataDir, '--allow-weak-owner-tokens']);
    expect(allowed.stdout).toContain('imported 2 pre-provisioned devices');
    expect(allowed.stdout).toContain(',AB12CD7,');
  });
});

describe('cli/secrets', () => {
  test('cli/secrets/no root key or KEK given to the CLI appears in any of its output in this file', () => {
    const everything = transcript.join('\n');
    expect(everything).toMatch(/imported \d+ devices/); // the output really was captured
    expect(secrets.size).toBeGreaterThan(40);
    expect(leakedKeys(everything, secrets)).toEqual([]);
  });
});

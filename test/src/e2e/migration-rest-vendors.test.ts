import { firstCertificate } from '../../../core/src/peers/peer-certificates';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PEER_SETTINGS, OPERATOR_TENANT, parseEUI64, parseNetID, type EUI64, type NetworkServerAdapter, type Vendor } from '@joinery/core';
import { runMigration } from '../../../core/src/fleet-migration/migration-runner';
import { createMigration, planMigration } from '../../../core/src/fleet-migration/plan-migration';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import { startActilityFake, type ActilityFake } from '../../../adapters/actility/test/fake-actility';
import { startChirpStackFake, type ChirpStackFake } from '../../../adapters/chirpstack/test/fake-chirpstack';
import { startLoriotFake, type LoriotFake } from '../../../adapters/loriot/test/fake-loriot';
import { startOrbiwiseFake, type OrbiwiseFake } from '../../../adapters/orbiwise/test/fake-orbiwise';

/**
 * Fleet migration of 1,000 devices from ChirpStack (its in-process gRPC fake) to each REST
 * vendor (its fake, written from the vendor's published contract) and back, through the real
 * migration runner on the real SQLite store, with the adapters tried once per call as
 * migrations run them. At the end of each leg every device is on exactly one side.
 */
jest.setTimeout(180_000);

const N = 1000;
const JOIN_EUI = parseEUI64('70b3d57ed0000000');

interface VendorCase {
  readonly vendor: Vendor;
  start(): Promise<OrbiwiseFake | LoriotFake | ActilityFake>;
  /** DevEUIs (lower case) the fake holds. */
  held(f: any): Set<string>;
}

const CASES: VendorCase[] = [
  { vendor: 'orbiwise', start: startOrbiwiseFake, held: (f: OrbiwiseFake) => new Set([...f.nodes.keys()].map((k) => k.toLowerCase())) },
  { vendor: 'loriot', start: startLoriotFake, held: (f: LoriotFake) => new Set([...f.devices.keys()].map((k) => k.toLowerCase())) },
  { vendor: 'actility', start: startActilityFake, held: (f: ActilityFake) => new Set([...f.devices.values()].map((d) => String(d.EUI).toLowerCase())) },
];

const ONE_TRY = { attempts: 1, timeoutMs: 15_000 };

describe.each(CASES)('e2e/migration $vendor', (c) => {
  let dir: string;
  let store: SqliteStore;
  let cs: ChirpStackFake;
  let other: OrbiwiseFake | LoriotFake | ActilityFake;
  const adapters: NetworkServerAdapter[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), `joinery-migration-${c.vendor}-`));
    store = SqliteStore.open(path.join(dir, 'joinery.db'));
    cs = await startChirpStackFake();
    other = await c.start();
  });
  afterAll(async () => {
    for (const a of adapters) await a.close();
    await other?.stop();
    await cs?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const peer = (name: string, vendor: Vendor, netID: string, certFingerprint = randomBytes(32).toString('hex')) => ({
    kind: 'ns' as const,
    name,
    certFingerprint,
    certificates: firstCertificate(certFingerprint, new Date(), null),
    state: 'enabled' as const,
    kekLabel: name,
    sealedKEK: randomBytes(40),
    settings: { ...DEFAULT_PEER_SETTINGS, adapter: { apiUrl: 'fake:', options: {} } },
    createdAt: new Date(),
    tenantID: OPERATOR_TENANT,
    netID: parseNetID(netID),
    nsID: null,
    vendor,
  });

  async function migrate(from: string, to: string, source: NetworkServerAdapter, target: NetworkServerAdapter): Promise<{ seconds: number; done: number }> {
    const limit = { ratePerSecond: 5000, concurrency: 16 };
    const plan = await planMigration(store, {
      sourcePeer: from,
      targetPeer: to,
      strategy: 'cutover',
      selection: { kind: 'all' },
      limits: { chirpstack: limit, [c.vendor]: limit },
      deadline: null,
      rollbackAtDeadline: false,
      maxAttempts: 3,
    });
    const m = await createMigration(store, plan, 'test');
    const t0 = Date.now();
    const end = await runMigration(m.id, { store, adapters: { source, target }, actor: 'test', pollMs: 100, baseBackoffMs: 50 });
    const counts = await store.countMigrationEntries(m.id);
    expect(end.status).toBe('finished');
    return { seconds: (Date.now() - t0) / 1000, done: counts.done ?? 0 };
  }

  it(`${N} devices, ChirpStack → ${c.vendor} → ChirpStack: every device on exactly one side after each leg`, async () => {
    const csName = `cs-${c.vendor}`;
    const vName = `${c.vendor}-1`;
    await store.insertPeer(peer(csName, 'chirpstack', '000013'));
    await store.insertPeer(peer(vName, c.vendor, '000014'));
    const prefix = randomBytes(3).toString('hex');
    const euis: EUI64[] = Array.from({ length: N }, (_, i) => parseEUI64(`${prefix}${i.toString(16).padStart(10, '0')}`));
    await store.insertDevices(euis.map((devEUI) => ({ devEUI, joinEUI: JOIN_EUI, macVersion: '1.0.4' as const, sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: csName, asPeer: null })));
    const csAdapter = cs.adapter({ retry: ONE_TRY });
    const vAdapter = other.adapter({ retry: ONE_TRY });
    adapters.push(csAdapter, vAdapter);
    for (let i = 0; i < N; i += 50) await Promise.all(euis.slice(i, i + 50).map((devEUI) => csAdapter.registerDevice({ devEUI, joinEUI: JOIN_EUI, macVersion: '1.0.4' })));
    expect(cs.devices.size).toBe(N);

    const onExactlyOneSide = (side: 'source' | 'target'): void => {
      const onVendor = c.held(other);
      const wrong = euis.filter((e) => (side === 'target') !== onVendor.has(e) || (side === 'source') !== cs.devices.has(e));
      expect(wrong).toEqual([]);
    };

    const there = await migrate(csName, vName, csAdapter, vAdapter);
    expect(there.done).toBe(N);
    onExactlyOneSide('target');
    const back = await migrate(vName, csName, vAdapter, csAdapter);
    expect(back.done).toBe(N);
    onExactlyOneSide('source');
    console.log(`${c.vendor}: ${N} devices ChirpStack → ${c.vendor} ${there.seconds.toFixed(1)} s, back ${back.seconds.toFixed(1)} s`);
  });
});

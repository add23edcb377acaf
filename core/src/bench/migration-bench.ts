import { firstCertificate } from '../peers/peer-certificates';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdapterDevice, RemoteDevice } from '../adapters/adapter-device';
import type { NetworkServerAdapter } from '../adapters/network-server-adapter';
import { parseEUI64, parseNetID, type EUI64 } from '../lorawan/identifiers';
import { dialectOf } from '../peers/vendor-dialect';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { runMigration } from '../fleet-migration/migration-runner';
import { createMigration, planMigration } from '../fleet-migration/plan-migration';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { Vendor } from '../peers/vendor';
import { OPERATOR_TENANT } from '../tenants/tenant';

/**
 * Fleet migration throughput against the configured vendor rate limit: a cutover of N devices
 * (one registration on the target, one deregistration from the source each), on the real
 * SQLite store (every journal step a durable write) and the real runner, against two
 * network server APIs simulated in memory with a fixed latency per call. Reports devices
 * migrated per second and its ratio to the rate limit (the most a migration may do: each
 * device needs one call to each vendor). Goal: >= 0.9.
 *
 * `node core/dist/bench/migration-bench.js [devices, default 2000] [rate per vendor, default
 * 200] [API latency ms, default 20]`; prints one JSON object.
 */
const devices = Number(process.argv[2] ?? 2000);
const rate = Number(process.argv[3] ?? 200);
const latencyMs = Number(process.argv[4] ?? 20);

/** A network server's device registry in memory, each call answered after `latencyMs`. */
function simulatedNetworkServer(vendor: Vendor, initial: readonly EUI64[]): NetworkServerAdapter & { readonly registry: Set<string> } {
  const registry = new Set<string>(initial);
  const later = <T>(v: () => T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(v()), latencyMs));
  return {
    vendor,
    registry,
    capabilities: new Set(['devices']),
    dialect: dialectOf(vendor),
    renderSetup: () => ({ files: [], instructions: [] }),
    registerDevice: (d: AdapterDevice) => later(() => ({ created: !registry.has(d.devEUI) && registry.add(d.devEUI) !== undefined })),
    deregisterDevice: (e: EUI64) => later(() => ({ deleted: registry.delete(e) })),
    getDevice: (e: EUI64) => later((): RemoteDevice | null => (registry.has(e) ? { devEUI: e, joinEUI: null, name: e, remoteID: e } : null)),
    listDevices: () => later(() => ({ devices: [] })),
    close: async () => undefined,
  } as NetworkServerAdapter & { registry: Set<string> };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joinery-migration-bench-'));
  const store = SqliteStore.open(path.join(dir, 'joinery.db'));
  try {
    const peer = (name: string, vendor: Vendor, netID: string, certFingerprint = randomBytes(32).toString('hex')) => ({
      kind: 'ns' as const,
      name,
      certFingerprint,
      certificates: firstCertificate(certFingerprint, new Date(), null),
      state: 'enabled' as const,
      kekLabel: name,
      sealedKEK: randomBytes(40),
      settings: { ...DEFAULT_PEER_SETTINGS, adapter: { apiUrl: 'memory:', options: {} } },
      createdAt: new Date(),
      tenantID: OPERATOR_TENANT,
      netID: parseNetID(netID),
      nsID: null,
      vendor,
    });
    await store.insertPeer(peer('src', 'chirpstack', '000013'));
    await store.insertPeer(peer('dst', 'the-things-stack', '000014'));
    const euis = Array.from({ length: devices }, (_, i) => parseEUI64(`bb${i.toString(16).padStart(14, '0')}`));
    await store.insertDevices(
      euis.map((devEUI) => ({ devEUI, joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.4' as const, sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: 'src', asPeer: null })),
    );
    const source = simulatedNetworkServer('chirpstack', euis);
    const target = simulatedNetworkServer('the-things-stack', []);
    const limit = { ratePerSecond: rate, concurrency: Math.max(2, Math.ceil((rate * latencyMs) / 1000) * 2) };
    const plan = await planMigration(store, {
      sourcePeer: 'src',
      targetPeer: 'dst',
      strategy: 'cutover',
      selection: { kind: 'all' },
      limits: { chirpstack: limit, 'the-things-stack': limit },
      deadline: null,
      rollbackAtDeadline: false,
      maxAttempts: 3,
    });
    const m = await createMigration(store, plan, 'bench');
    const started = process.hrtime.bigint();
    const end = await runMigration(m.id, { store, adapters: { source, target }, actor: 'bench', pollMs: 200 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const counts = await store.countMigrationEntries(m.id);
    if (end.status !== 'finished' || counts.done !== devices || source.registry.size !== 0 || target.registry.size !== devices) {
      throw new Error(`migration did not complete: ${end.status} ${JSON.stringify(counts)}`);
    }
    const perSecond = devices / seconds;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'fleet-migration',
        strategy: 'cutover',
        devices,
        apiLatencyMs: latencyMs,
        vendorRateLimitPerSecond: rate,
        concurrency: limit.concurrency,
        seconds: Number(seconds.toFixed(3)),
        devicesPerSecond: Number(perSecond.toFixed(1)),
        ratioToRateLimit: Number((perSecond / rate).toFixed(3)),
        goal: 0.9,
      })}\n`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migration bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

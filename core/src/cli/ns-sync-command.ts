import type { Command } from 'commander';
import { listAllDevices, type NetworkServerAdapter } from '../adapters/network-server-adapter';
import type { EUI64 } from '../lorawan/identifiers';
import { auditEvent } from '../store/audit-event';
import { cliAuditContext } from './cli-actor';
import type { Device } from '../store/device';
import type { DeviceRegistry } from '../store/ports/device-registry';
import { openBackends } from '../server/open-backends';
import { terminalProgress } from './terminal-progress';
import { openNetworkServerAdapter } from './peer-adapter';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { say } from './output';

interface SyncFlags extends BackendFlags {
  readonly dryRun?: boolean;
  readonly removeNetworkServerKeys?: boolean;
}

async function boundDevices(store: DeviceRegistry, nsPeer: string): Promise<Device[]> {
  const all: Device[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await store.listDevices({ limit: 500, offset, nsPeer });
    all.push(...page);
    if (page.length < 500) return all;
  }
}

/**
 * `joinery ns sync NAME [--dry-run]`: registers on that network server, through its vendor
 * adapter, every device bound to it here that is missing there (identifiers and MAC version
 * only, never keys), and reports the difference both ways. It never deletes anything on the
 * network server: devices there that are not bound here are only listed.
 */
/**
 * Bound devices the network server joins itself (it holds their keys, or its own Join Server has
 * them): their join-requests never reach Joinery. Empty when the adapter cannot tell.
 */
async function localJoins(adapter: NetworkServerAdapter, onNetworkServer: readonly Device[]): Promise<Array<{ devEUI: EUI64; what: string }>> {
  if (!adapter.localJoin) return [];
  const found: Array<{ devEUI: EUI64; what: string }> = [];
  for (const d of onNetworkServer) {
    const what = await adapter.localJoin(d.devEUI);
    if (what !== null) found.push({ devEUI: d.devEUI, what });
  }
  return found;
}

export function addNsSyncCommand(ns: Command): void {
  withBackendOptions(
    ns
      .command('sync')
      .description('register on a network server (through its adapter) every device bound to it here that it lacks; report the difference')
      .argument('<name>', 'network server peer name')
      .option('--dry-run', 'only report: change nothing on the network server')
      .option('--remove-network-server-keys', 'delete, through its API, what makes the network server join a bound device itself (ChirpStack device keys, The Things Stack Join Server records); audited'),
  ).action(async (name: string, flags: SyncFlags) => {
    const backends = await openBackends(backendSettings(flags));
    try {
      const { peer, adapter } = await openNetworkServerAdapter(backends.store, backends.settings.dataDir, name);
      try {
        const local = await boundDevices(backends.store, name);
        const remote = await listAllDevices(adapter);
        const remoteEUIs = new Set(remote.map((d) => d.devEUI));
        const localEUIs = new Set(local.map((d) => d.devEUI));
        const missing = local.filter((d) => !remoteEUIs.has(d.devEUI));
        const extra = remote.filter((d) => !localEUIs.has(d.devEUI));
        say(`${name} (${peer.vendor}): ${local.length} device(s) bound here, ${remote.length} on the network server`);
        let registered = 0;
        const progress = terminalProgress('registering', flags.dryRun ? 0 : missing.length, 'devices');
        try {
          for (const d of missing) {
            if (flags.dryRun) {
              say(`  would register ${d.devEUI} (JoinEUI ${d.joinEUI}, LoRaWAN ${d.macVersion})`);
              continue;
            }
            // Identifiers and version only: the Device's sealed root keys are never handed over.
            await adapter.registerDevice({ devEUI: d.devEUI, joinEUI: d.joinEUI, macVersion: d.macVersion });
            registered++;
            progress.log(`  registered ${d.devEUI} (JoinEUI ${d.joinEUI}, LoRaWAN ${d.macVersion})`);
            progress.update(registered);
          }
        } finally {
          progress.stop();
        }
        for (const d of extra) say(`  on the network server only (not bound to ${name} here; left alone): ${d.devEUI}`);
        const joinsLocally = await localJoins(
          adapter,
          local.filter((d) => remoteEUIs.has(d.devEUI)),
        );
        let removed = 0;
        for (const { devEUI, what } of joinsLocally) {
          if (flags.removeNetworkServerKeys && !flags.dryRun) {
            const r = await adapter.removeLocalJoin!(devEUI);
            await backends.store.appendAudit(auditEvent(cliAuditContext(), 'ns.local-join.removed', devEUI, { peer: name, vendor: peer.vendor, removed: r.removed }));
            removed++;
            say(`  removed from ${name}: what made it join ${devEUI} itself (${what}); its join-requests now come to Joinery`);
          } else {
            say(`  conflict ${devEUI}: ${what}; fix: joinery ns sync ${name} --remove-network-server-keys`);
          }
        }
        say(
          flags.dryRun
            ? `dry run: ${missing.length} missing on ${name}, ${extra.length} there only, ${joinsLocally.length} joined by ${name} itself; nothing changed`
            : `${registered} registered, ${local.length - missing.length} already there, ${extra.length} there only` +
                (joinsLocally.length > 0 ? `, ${removed > 0 ? `${removed} no longer joined by ${name} itself` : `${joinsLocally.length} joined by ${name} itself, never through Joinery`}` : ''),
        );
      } finally {
        await adapter.close();
      }
    } finally {
      await backends.close();
    }
  });
}

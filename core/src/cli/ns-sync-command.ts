import type { Command } from 'commander';
import { loadAdapter } from '../adapters/load-adapter';
import { listAllDevices } from '../adapters/network-server-adapter';
import { ParseError } from '../lorawan/parse-error';
import type { Device } from '../store/device';
import type { Store } from '../store/store';
import { openBackends } from '../server/open-backends';
import { readAdapterAPIKey } from '../adapters/adapter-api-key-store';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say } from './output';

interface SyncFlags extends BackendFlags {
  readonly dryRun?: boolean;
}

async function boundDevices(store: Store, nsPeer: string): Promise<Device[]> {
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
export function addNsSyncCommand(ns: Command): void {
  withBackendOptions(
    ns
      .command('sync')
      .description('register on a network server (through its adapter) every device bound to it here that it lacks; report the difference')
      .argument('<name>', 'network server peer name')
      .option('--dry-run', 'only report: change nothing on the network server'),
  ).action(async (name: string, flags: SyncFlags) => {
    const backends = await openBackends(backendSettings(flags));
    try {
      const peer = await backends.store.getPeer(name);
      if (!peer || peer.kind !== 'ns') throw new ParseError('NAME', `no network server named ${name}`);
      const config = peer.settings.adapter;
      if (!config) throw new ParseError('NAME', `network server ${name} has no adapter configured (ns add --api-url ...)`);
      const module = loadAdapter(peer.vendor);
      const apiKey = await readAdapterAPIKey(backends.settings.dataDir, name);
      const adapter = module.createAdapter({ apiUrl: config.apiUrl, apiKey, options: config.options, warn: (m) => note(`warning: ${m}`) });
      try {
        const local = await boundDevices(backends.store, name);
        const remote = await listAllDevices(adapter);
        const remoteEUIs = new Set(remote.map((d) => d.devEUI));
        const localEUIs = new Set(local.map((d) => d.devEUI));
        const missing = local.filter((d) => !remoteEUIs.has(d.devEUI));
        const extra = remote.filter((d) => !localEUIs.has(d.devEUI));
        say(`${name} (${peer.vendor}): ${local.length} device(s) bound here, ${remote.length} on the network server`);
        let registered = 0;
        for (const d of missing) {
          if (flags.dryRun) {
            say(`  would register ${d.devEUI} (JoinEUI ${d.joinEUI}, LoRaWAN ${d.macVersion})`);
            continue;
          }
          // Identifiers and version only: the Device's sealed root keys are never handed over.
          await adapter.registerDevice({ devEUI: d.devEUI, joinEUI: d.joinEUI, macVersion: d.macVersion });
          registered++;
          say(`  registered ${d.devEUI} (JoinEUI ${d.joinEUI}, LoRaWAN ${d.macVersion})`);
        }
        for (const d of extra) say(`  on the network server only (not bound to ${name} here; left alone): ${d.devEUI}`);
        say(
          flags.dryRun
            ? `dry run: ${missing.length} missing on ${name}, ${extra.length} there only; nothing changed`
            : `${registered} registered, ${local.length - missing.length} already there, ${extra.length} there only`,
        );
      } finally {
        await adapter.close();
      }
    } finally {
      await backends.close();
    }
  });
}

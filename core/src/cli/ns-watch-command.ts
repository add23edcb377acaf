import type { Command } from 'commander';
import type { NetworkServerEvent } from '../adapters/network-server-event';
import { parseEUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import { openBackends } from '../server/open-backends';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say } from './output';
import { openNetworkServerAdapter } from './peer-adapter';

interface WatchFlags extends BackendFlags {
  readonly devEui?: string[];
  readonly json?: boolean;
  readonly count?: string;
}

/** One line per event: what the network server saw of a device, never a key. */
function eventLine(e: NetworkServerEvent): string {
  const what =
    e.kind === 'join'
      ? `join${e.devAddr ? ` DevAddr ${e.devAddr}` : ''}`
      : `uplink${e.fCnt !== undefined ? ` FCnt ${e.fCnt}` : ''}${e.fPort !== undefined ? ` FPort ${e.fPort}` : ''}${e.payload ? ` ${e.payload.length} byte(s)` : ''}`;
  return `${e.at.toISOString()} ${e.devEUI} ${what}`;
}

/**
 * `joinery ns watch NAME`: the joins and uplinks the network server reports on its MQTT
 * integration, as they come (Ctrl-C stops), to see a device that Joinery answered actually join
 * and send on that network server.
 */
export function addNsWatchCommand(ns: Command): void {
  withBackendOptions(
    ns
      .command('watch')
      .description('print the joins and uplinks a network server reports (its MQTT events, through its adapter) until stopped')
      .argument('<name>', 'network server peer name')
      .option('--dev-eui <eui...>', 'only these devices (default: every device of its application)')
      .option('--count <n>', 'stop after this many events')
      .option('--json', 'one JSON object per line'),
  ).action(async (name: string, flags: WatchFlags) => {
    const count = flags.count === undefined ? Infinity : Number(flags.count);
    if (!(count === Infinity || (Number.isInteger(count) && count > 0))) throw new ParseError('--count', 'expected a positive integer');
    const devEUIs = (flags.devEui ?? []).flatMap((d) => d.split(',')).map((d) => parseEUI64(d, '--dev-eui'));
    const backends = await openBackends(backendSettings(flags));
    let adapter;
    try {
      ({ adapter } = await openNetworkServerAdapter(backends.store, backends.settings.dataDir, name));
    } finally {
      await backends.close();
    }
    try {
      if (!adapter.watch) throw new ParseError('NAME', `the ${adapter.vendor} adapter cannot watch events`);
      const watch = adapter.watch(devEUIs);
      const stop = (): void => void watch.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await watch.ready;
        note(`joinery: watching ${name} (${adapter.vendor}); Ctrl-C stops`);
        let seen = 0;
        for await (const e of watch) {
          say(
            flags.json
              ? JSON.stringify({ kind: e.kind, devEUI: e.devEUI, at: e.at.toISOString(), fCnt: e.fCnt, fPort: e.fPort, devAddr: e.devAddr, payload: e.payload?.toString('base64'), topic: e.topic })
              : eventLine(e),
          );
          if (++seen >= count) break;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await watch.close();
      }
    } finally {
      await adapter.close();
    }
  });
}

import { Option, type Command } from 'commander';
import { parseProtocolVersion } from '../backend-interfaces/protocol-version';
import { AES128Key } from '../lorawan/aes128-key';
import { parseHex } from '../lorawan/hex';
import { parseDevAddr, parseEUI64 } from '../lorawan/identifiers';
import { isLegacy, parseMACVersion } from '../lorawan/mac-version';
import { devNonce } from '../lorawan/nonces';
import { ParseError } from '../lorawan/parse-error';
import { simulateJoin } from '../simulator/join-simulator';
import { note, say } from './output';

interface SimulateFlags {
  readonly bundle: string;
  readonly url?: string;
  readonly devEui: string;
  readonly joinEui: string;
  readonly macVersion: string;
  readonly appKey: string;
  readonly nwkKey?: string;
  readonly devNonce?: string;
  readonly devAddr?: string;
  readonly protocolVersion?: string;
  readonly optNeg: boolean;
  readonly rxDelay: string;
  readonly cfList?: string;
  readonly showKeys?: boolean;
  readonly json?: boolean;
}

export function addSimulateCommands(program: Command): void {
  const simulate = program.command('simulate').description('a device and a network server in one, for trying a running Join Server');
  simulate
    .command('join')
    .description("send a real JoinReq with a network server's credential bundle, then decrypt and check the join-accept and the session keys as the device")
    .requiredOption('--bundle <dir>', 'network server credential bundle (from joinery ns add)')
    .option('--url <url>', "BI URL (default: the bundle's)")
    .requiredOption('--dev-eui <eui>', 'DevEUI')
    .requiredOption('--join-eui <eui>', 'JoinEUI')
    .requiredOption('--mac-version <version>', 'LoRaWAN MAC version: 1.0.0 .. 1.0.4, 1.1')
    .addOption(new Option('--app-key <hex>', "the device's AppKey (1.0.x: its root key)").env('JOINERY_SIM_APP_KEY').makeOptionMandatory())
    .addOption(new Option('--nwk-key <hex>', "the device's NwkKey (1.1)").env('JOINERY_SIM_NWK_KEY'))
    .option('--dev-nonce <n>', 'DevNonce (default: next counter value, or random for 1.0.0-1.0.3)')
    .option('--dev-addr <hex>', 'DevAddr the network server assigns (default random)')
    .option('--protocol-version <v>', 'BI protocol version 1.0 or 1.1 (default 1.1 when the bundle has an NSID)')
    .option('--no-opt-neg', "send a 1.1 device's join as a 1.0-only network server would (OptNeg clear)")
    .option('--rx-delay <s>', 'RxDelay', '1')
    .option('--cf-list <hex>', 'CFList (16 bytes)')
    .option('--show-keys', 'print the session keys (secrets!)')
    .option('--json', 'JSON output')
    .action(async (flags: SimulateFlags) => {
      const macVersion = parseMACVersion(flags.macVersion, '--mac-version');
      const protocolVersion = flags.protocolVersion === undefined ? undefined : parseProtocolVersion(flags.protocolVersion);
      if (protocolVersion === null) throw new ParseError('--protocol-version', 'expected 1.0 or 1.1');
      const nwkKey = flags.nwkKey ? AES128Key.fromHex(flags.nwkKey, '--nwk-key') : undefined;
      if (!isLegacy(macVersion) && !nwkKey) throw new ParseError('--nwk-key', 'required for a LoRaWAN 1.1 device');
      const rxDelay = Number(flags.rxDelay);
      const result = await simulateJoin({
        bundleDir: flags.bundle,
        ...(flags.url ? { url: flags.url } : {}),
        devEUI: parseEUI64(flags.devEui, '--dev-eui'),
        joinEUI: parseEUI64(flags.joinEui, '--join-eui'),
        macVersion,
        appKey: AES128Key.fromHex(flags.appKey, '--app-key'),
        ...(nwkKey ? { nwkKey } : {}),
        ...(flags.devNonce !== undefined ? { devNonce: devNonce(Number(flags.devNonce), '--dev-nonce') } : {}),
        ...(flags.devAddr ? { devAddr: parseDevAddr(flags.devAddr, '--dev-addr') } : {}),
        ...(protocolVersion ? { protocolVersion } : {}),
        optNeg: flags.optNeg,
        rxDelay,
        ...(flags.cfList ? { cfList: parseHex(flags.cfList, '--cf-list', 16) } : {}),
      });
      const allMatch = result.keyChecks ? Object.values(result.keyChecks).every((c) => c !== 'mismatch') : false;
      const ok = result.resultCode === 'Success' && result.problems.length === 0 && allMatch;
      const keys = flags.showKeys && result.deviceKeys ? Object.fromEntries(Object.entries(result.deviceKeys).map(([k, v]) => [k, v.unsafeBytes().toString('hex')])) : undefined;
      if (flags.json) {
        say(JSON.stringify({ ok, ...result, deviceKeys: keys, latencyMs: Math.round(result.latencyMs * 100) / 100 }, hexBuffers, 2));
      } else {
        say(`JoinReq DevNonce ${result.devNonce} (TransactionID ${result.transactionID}) -> ${result.resultCode}${result.description ? `: ${result.description}` : ''} in ${result.latencyMs.toFixed(1)} ms`);
        if (result.joinAccept) {
          const ja = result.joinAccept;
          say(
            `join-accept: JoinNonce ${ja.joinNonce}, NetID ${ja.netID}, DevAddr ${ja.devAddr}, DLSettings ${ja.dlSettings.toString(16).padStart(2, '0')} (OptNeg ${ja.optNeg ? 'on' : 'off'}), RxDelay ${ja.rxDelay}${ja.cfList ? ', CFList' : ''}`,
          );
        }
        for (const [name, check] of Object.entries(result.keyChecks ?? {})) {
          say(`  ${name.padEnd(12)} ${typeof check === 'string' ? (check === 'match' ? 'device and network server agree' : 'MISMATCH') : `not checked: ${check.notChecked}`}`);
        }
        if (result.sessionKeyID) say(`SessionKeyID ${result.sessionKeyID}`);
        if (keys) for (const [k, v] of Object.entries(keys)) say(`  ${k.padEnd(12)} ${v}`);
        for (const p of result.problems) note(`problem: ${p}`);
        say(ok ? 'join verified' : 'join NOT verified');
      }
      if (!ok) process.exitCode = 1;
    });
}

/** JSON output shows bytes (the join-accept's MIC, a CFList) as hex, not as Buffer objects. */
function hexBuffers(_key: string, value: unknown): unknown {
  const v = value as { type?: unknown; data?: unknown } | null;
  return typeof v === 'object' && v !== null && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data as number[]).toString('hex') : value;
}

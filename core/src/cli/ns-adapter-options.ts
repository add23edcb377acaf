import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { configureAdapter, joinEUIPrefixesFrom, setupInputFromBundle, setupInstallDir, setupSheet, type ConfiguredAdapter } from '../adapters/configure-adapter';
import { AdapterNotInstalledError, loadAdapter } from '../adapters/load-adapter';
import type { AdapterModule } from '../adapters/network-server-adapter';
import type { AdapterSetupInput, RenderedSetup } from '../adapters/adapter-setup';
import type { JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import type { PeerAdapterSettings } from '../peers/peer-settings';
import { writeFileAtomic } from '../pki/atomic-file';
import { apiKeyFromFlags } from './adapter-api-key';
import { bundleReadme, type PeerDescriptor } from '../peers/credential-bundle';

/** `ns add` flags for the vendor adapter (management API, setup files). */
export interface NsAdapterFlags {
  readonly apiUrl?: string;
  readonly apiKey?: string;
  readonly apiKeyFile?: string;
  readonly applicationId?: string;
  readonly tenantId?: string;
  readonly deviceProfileId?: string;
  readonly region?: string;
  readonly frequencyPlanId?: string;
  readonly mqttUrl?: string;
  readonly mqttTopicPrefix?: string;
  readonly clientId?: string;
  readonly tokenUrl?: string;
  readonly connectivityPlanId?: string;
  readonly routingProfileId?: string;
  readonly joinServerId?: string;
  readonly deviceClass?: string;
  readonly serviceProfileId?: string;
  readonly authScheme?: string;
  readonly pageSize?: string;
  readonly rateLimit?: string;
  readonly maxConcurrency?: string;
  readonly joinEuiPrefix?: string[];
  readonly nsConfigDir?: string;
}

/** Flag → adapter option key (each adapter says which keys it reads). */
const OPTION_FLAGS: ReadonlyArray<readonly [keyof NsAdapterFlags, string, string]> = [
  ['applicationId', 'applicationId', '--application-id'],
  ['tenantId', 'tenantId', '--tenant-id'],
  ['deviceProfileId', 'deviceProfileId', '--device-profile-id'],
  ['region', 'region', '--region'],
  ['frequencyPlanId', 'frequencyPlanId', '--frequency-plan-id'],
  ['mqttUrl', 'mqttUrl', '--mqtt-url'],
  ['mqttTopicPrefix', 'mqttTopicPrefix', '--mqtt-topic-prefix'],
  ['clientId', 'clientId', '--client-id'],
  ['tokenUrl', 'tokenUrl', '--token-url'],
  ['connectivityPlanId', 'connectivityPlanId', '--connectivity-plan-id'],
  ['routingProfileId', 'routingProfileId', '--routing-profile-id'],
  ['joinServerId', 'joinServerId', '--join-server-id'],
  ['deviceClass', 'deviceClass', '--device-class'],
  ['serviceProfileId', 'serviceProfileId', '--service-profile-id'],
  ['authScheme', 'authScheme', '--auth-scheme'],
  ['pageSize', 'pageSize', '--page-size'],
  ['rateLimit', 'rateLimit', '--rate-limit'],
  ['maxConcurrency', 'maxConcurrency', '--max-concurrency'],
];

/**
 * The vendor flags of `ns add`; `ns set` (`forUpdate`) takes the management API ones only (no
 * setup rendering), and its --api-key-file only from the command line: an environment variable
 * meant for `ns add` must not replace a stored key.
 */
/** The flag keys of the adapter's own options (they need --api-url). */
export const ADAPTER_OPTION_KEYS: ReadonlySet<string> = new Set(OPTION_FLAGS.map(([k]) => k));

export function withNsAdapterOptions(cmd: Command, forUpdate = false): Command {
  const apiKeyFile = new Option('--api-key-file <file>', 'file holding the API token / key');
  cmd
    .option(
      '--api-url <url>',
      "the network server's management API (ChirpStack gRPC http(s)://host:port, TTS https://host, ThingPark https://host, LORIOT server name such as eu1, OrbiWAN https://host): loads @joinery/adapter-<vendor>, writes its setup files into the bundle, enables ns sync",
    )
    .option(
      '--api-key <key>',
      'API token / key of that API (ThingPark: the OAuth2 client secret; OrbiWAN with --auth-scheme token or basic: user:password); stored 0600 in the data dir, never printed; prefer --api-key-file',
    )
    .addOption(forUpdate ? apiKeyFile : apiKeyFile.env('JOINERY_NS_API_KEY_FILE'))
    .option('--application-id <id>', 'ChirpStack application UUID / TTS application id / LORIOT application id (APPID, hex) the devices go into')
    .option('--tenant-id <id>', 'ChirpStack tenant UUID (device profiles) / TTS Cloud or Enterprise tenant (MQTT user {app}@{tenant}; absent: open-source TTS, the bare application id)')
    .option('--device-profile-id <id>', 'ChirpStack: use this device profile UUID instead of ensuring one per MAC version; ThingPark, OrbiWAN: device profile of created devices (required)')
    .option('--region <region>', 'ChirpStack: region of ensured device profiles (default EU868)')
    .option('--frequency-plan-id <id>', 'TTS: frequency plan of registered devices (default EU_863_870_TTN)')
    .option('--mqtt-url <url>', "the network server's MQTT events (ChirpStack integration / TTS MQTT server), for watching joins and uplinks")
    .option('--mqtt-topic-prefix <prefix>', 'first topic level of those events, when not the vendor default')
    .option('--client-id <id>', 'ThingPark: OAuth2 client id (--api-key is its secret): a ThingPark Enterprise 7.x service account, or <targetProfileId>/<user> with --auth-scheme dx')
    .option('--token-url <url>', 'ThingPark: OAuth2 token endpoint, when not the one --auth-scheme implies')
    .option('--connectivity-plan-id <id>', 'ThingPark: connectivity plan of created devices (required)')
    .option('--routing-profile-id <id>', 'ThingPark: routing profile of created devices')
    .option(
      '--join-server-id <eui>',
      "LORIOT: the Join Server EUI LORIOT registered Joinery under, set as the application's joinServerId (tier 2 accounts; without it, LORIOT sets the application's Join Server on request)",
    )
    .option('--device-class <class>', 'LORIOT: LoRaWAN class of created devices, A, B or C (default A)')
    .option('--service-profile-id <id>', 'OrbiWAN: service profile UUID of created nodes (required)')
    .option(
      '--auth-scheme <scheme>',
      'ThingPark: keycloak (Enterprise 7.x token endpoint <host>/users-auth/...) or dx (DX user credentials); default dx for dx-api*.thingpark.com, keycloak otherwise. OrbiWAN: token (--api-key is user:password, exchanged for OAuth2 tokens), bearer (default: --api-key is a token) or basic (--api-key is user:password)',
    )
    .option('--page-size <n>', 'ThingPark: devices per page when listing (at most and default 100)')
    .option('--rate-limit <per-second>', 'at most this many API requests per second (0: no limit; default: none for ChirpStack and TTS, 10 for ThingPark and OrbiWAN, 5 for LORIOT)')
    .option('--max-concurrency <n>', 'at most this many API requests in flight (0: no limit; default: none for ChirpStack and TTS, 4 for ThingPark and OrbiWAN, 2 for LORIOT)');
  if (forUpdate) return cmd;
  return cmd
    .option('--join-eui-prefix <prefix...>', 'JoinEUI range(s) the network server sends to Joinery (e.g. 70b3d57ed0000000/40; default all)')
    .option('--ns-config-dir <dir>', "where the bundle's files will sit on the network server host (absolute; used in the rendered config)");
}

/** What `ns add` renders for the vendor: its setup files, and its management API when given. */
export interface NsVendorSetup {
  readonly vendor: string;
  /** The adapter's renderSetup (a configured adapter may add what its options know, e.g. LORIOT's joinServerId). */
  readonly render: (input: AdapterSetupInput) => RenderedSetup;
  readonly joinEUIPrefixes: readonly JoinEUIPrefix[];
  readonly installDir: string;
  /** The management API (`--api-url`): kept in the peer's settings, its key in the data directory. Null: not given. */
  readonly management: { readonly module: AdapterModule; readonly settings: PeerAdapterSettings; readonly apiKey: string } | null;
}

/**
 * Reads and checks the vendor flags before anything is registered. With `--api-url` the adapter
 * package is loaded and its config validated (a bad option fails here, leaving nothing behind).
 * Without it, the vendor's setup files are still rendered (how the network server reaches
 * Joinery does not depend on Joinery reaching the network server), then no management flag may
 * be given. Undefined: the vendor has no adapter package installed (`generic`), so no setup files.
 */
export async function nsVendorSetupFrom(flags: NsAdapterFlags, vendor: string, name: string): Promise<NsVendorSetup | undefined> {
  const given = OPTION_FLAGS.filter(([k]) => flags[k] !== undefined);
  const joinEUIPrefixes = joinEUIPrefixesFrom(flags.joinEuiPrefix, '--join-eui-prefix');
  const installDir = setupInstallDir(vendor, name, flags.nsConfigDir, '--ns-config-dir');
  if (flags.apiUrl === undefined) {
    const stray = [...given.map(([, , f]) => f), ...(flags.apiKey !== undefined || flags.apiKeyFile !== undefined ? ['--api-key'] : [])];
    if (stray.length > 0) throw new ParseError(stray[0]!, "needs --api-url (the network server's management API)");
    let module: AdapterModule;
    try {
      module = loadAdapter(vendor);
    } catch (err) {
      if (!(err instanceof AdapterNotInstalledError)) throw err;
      if (flags.joinEuiPrefix !== undefined || flags.nsConfigDir !== undefined) {
        throw new ParseError(flags.joinEuiPrefix !== undefined ? '--join-eui-prefix' : '--ns-config-dir', `renders vendor setup files, and ${err.message}`);
      }
      return undefined;
    }
    return { vendor, render: (input) => module.renderSetup(input), joinEUIPrefixes, installDir, management: null };
  }
  const management = await managementFrom(flags, vendor);
  return { vendor, render: management.render, joinEUIPrefixes, installDir, management };
}

/** `--api-url`, `--api-key[-file]` and the adapter options, checked by the vendor's adapter. */
export async function managementFrom(flags: NsAdapterFlags, vendor: string): Promise<ConfiguredAdapter & { readonly apiKey: string }> {
  if (flags.apiUrl === undefined) throw new ParseError('--api-url', "the network server's management API is needed");
  const apiKey = await apiKeyFromFlags(flags);
  if (apiKey === undefined) throw new ParseError('--api-key', 'needed with --api-url (or --api-key-file)');
  const options: Record<string, string> = {};
  for (const [k, option] of OPTION_FLAGS) if (flags[k] !== undefined) options[option] = String(flags[k]);
  const flagOf = (option: string): string => OPTION_FLAGS.find(([, o]) => o === option)?.[2] ?? option;
  return { ...(await configureAdapter(vendor, { apiUrl: flags.apiUrl, apiKey, options }, flagOf)), apiKey };
}

/** What a rendering needs of the network server beyond its bundle: how it authenticates, where answers go. */
export type SetupConnection = Pick<AdapterSetupInput, 'authorizationHeader' | 'asyncAnswers'>;

/**
 * Renders the vendor's setup files into the bundle directory (secret ones 0600) and SETUP.txt,
 * and writes README.txt again with the same steps, so both name the same files and paths.
 */
export async function writeVendorSetup(
  setup: NsVendorSetup,
  outDir: string,
  peer: { readonly name: string; readonly netID: string; readonly nsID: string | null; readonly biURL: string },
  connection: SetupConnection,
): Promise<string[]> {
  const read = (f: string): Promise<string> => fs.readFile(path.join(outDir, f), 'utf8');
  const rendered = setup.render(
    setupInputFromBundle({ kekJSON: await read('kek.json'), caCertificatePEM: await read('ca.crt'), clientCertificatePEM: await read('client.crt') }, peer, connection, setup.joinEUIPrefixes, setup.installDir),
  );
  const written: string[] = [];
  for (const f of rendered.files) {
    const file = path.join(outDir, f.name);
    await writeFileAtomic(file, f.content.endsWith('\n') ? f.content : `${f.content}\n`, { mode: f.secret ? 0o600 : 0o644, replace: false });
    written.push(file);
  }
  const sheet = path.join(outDir, 'SETUP.txt');
  await writeFileAtomic(sheet, setupSheet(setup.vendor, peer.name, rendered), { mode: 0o644, replace: false });
  written.push(sheet);
  const readme = path.join(outDir, 'README.txt');
  const kek = JSON.parse(await read('kek.json')) as { label: string };
  await writeFileAtomic(readme, bundleReadme(JSON.parse(await read('peer.json')) as PeerDescriptor, kek.label, rendered), { mode: 0o644, replace: true });
  return written;
}

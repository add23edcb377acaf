import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { cliAuditContext } from './cli-actor';
import { parseEUI64, parseNetID } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { PeerRegistration } from '../peers/register-peer';
import { parseVendor, VENDORS } from '../peers/vendor';
import { openBackends } from '../server/open-backends';
import { serverHosts } from '../server/server-hosts';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say } from './output';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { describePeerSettings, peerSettingsFrom, withPeerSettingsOptions, type PeerSettingsFlags } from './peer-settings-options';
import type { Peer } from '../peers/peer';
import { writeAdapterAPIKey } from '../adapters/adapter-api-key-store';
import { apiKeyFromFlags } from './adapter-api-key';
import { nsAdapterSetupFrom, withNsAdapterOptions, writeAdapterSetup, type NsAdapterFlags } from './ns-adapter-options';
import { addNsSyncCommand } from './ns-sync-command';

interface PeerFlags extends BackendFlags, PeerSettingsFlags {
  readonly name: string;
  readonly kekLabel?: string;
  readonly out: string;
  readonly publicUrl: string;
  readonly publicHost?: string[];
}

interface NsFlags extends PeerFlags, NsAdapterFlags {
  readonly netId: string;
  readonly nsId?: string;
  readonly vendor: string;
}

interface AsFlags extends PeerFlags {
  readonly asId: string;
}

function commonPeerOptions(cmd: Command): Command {
  return withBackendOptions(
    withPeerSettingsOptions(cmd, false)
      .requiredOption('--name <name>', 'peer name: lower-case letters, digits, "-"')
      .requiredOption('--out <dir>', 'directory to write the credential bundle into (must not hold one already)')
      .option('--kek-label <label>', 'label of the KEK that wraps session keys for this peer')
      .addOption(
        new Option('--public-url <url>', 'base URL where peers reach the BI listener').env('JOINERY_PUBLIC_URL').default('https://localhost:8003'),
      ),
  );
}

function biURLFor(publicUrl: string, name: string): string {
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    throw new ParseError('--public-url', `not a URL: "${publicUrl}"`);
  }
  if (u.protocol !== 'https:') throw new ParseError('--public-url', 'the BI listener is HTTPS: expected an https:// URL');
  return new URL(`bi/${name}`, u.href.endsWith('/') ? u.href : `${u.href}/`).href;
}

/** After the peer and its bundle exist: more files for the bundle (the adapter's setup). */
type AfterRegister = (peer: Peer, outDir: string, biURL: string, dataDir: string) => Promise<string[]>;

async function register(flags: PeerFlags, registration: PeerRegistration, after?: AfterRegister): Promise<void> {
  const backends = await openBackends(backendSettings(flags));
  try {
    for (const c of backends.created) note(`joinery: created ${c}`);
    // Loaded here, not at start-up: the X.509 code is slow to load and only these commands use it.
    const [{ loadOrCreatePKI }, { registerPeer }] = await Promise.all([import('../pki/pki-files.js'), import('../peers/register-peer.js')]);
    const pki = await loadOrCreatePKI(backends.settings.dataDir, serverHosts([new URL(flags.publicUrl).hostname]));
    if (pki.created.ca) note(`joinery: created certificate authority ${backends.settings.dataDir}/ca.crt`);
    const outDir = path.resolve(flags.out);
    const biURL = biURLFor(flags.publicUrl, registration.name);
    const { peer, files: bundleFiles } = await registerPeer({ store: backends.store, vault: backends.vault, ca: pki.ca }, registration, outDir, biURL, cliAuditContext());
    const files = [...bundleFiles, ...(after ? await after(peer, outDir, biURL, backends.settings.dataDir) : [])];
    say(`registered ${peer.kind === 'ns' ? 'network server' : 'application server'} ${peer.name}` + (peer.kind === 'ns' ? ` (NetID ${peer.netID}${peer.nsID ? `, NSID ${peer.nsID}` : ''}, vendor ${peer.vendor})` : ` (AS-ID ${peer.asID})`));
    say(`KEK label: ${peer.kekLabel}`);
    for (const line of describePeerSettings(peer.settings)) say(line);
    say(`BI URL: ${biURL}`);
    say(`credential bundle in ${outDir}:`);
    for (const f of files) say(`  ${path.basename(f)}`);
    say(`read ${path.join(outDir, 'README.txt')} for what goes where; client.key and kek.json are secrets.`);
  } finally {
    await backends.close();
  }
}

export function addPeerCommands(program: Command): void {
  const ns = program.command('ns').description('network servers allowed to join devices');
  withNsAdapterOptions(commonPeerOptions(
    ns
      .command('add')
      .description('register a network server and write its credential bundle (CA, client certificate and key, KEK, README)')
      .requiredOption('--net-id <netid>', 'the network server\'s NetID (6 hex digits): its BI SenderID')
      .option('--ns-id <eui>', 'its NSID (16 hex digits), sent as SenderNSID in BI 1.1')
      .requiredOption('--vendor <vendor>', `network server vendor: ${VENDORS.join(', ')}`),
  )).action(async (flags: NsFlags) => {
    const vendor = parseVendor(flags.vendor, '--vendor');
    const adapterSetup = await nsAdapterSetupFrom(flags, vendor, flags.name);
    const settings = await peerSettingsFrom(flags, DEFAULT_PEER_SETTINGS);
    const after: AfterRegister | undefined = adapterSetup && (async (peer, outDir, biURL, dataDir) => {
      if (peer.kind !== 'ns') return [];
      const keyFile = await writeAdapterAPIKey(dataDir, peer.name, adapterSetup.apiKey);
      note(`joinery: ${vendor} API key stored in ${keyFile} (mode 0600)`);
      return writeAdapterSetup(adapterSetup, outDir, { name: peer.name, netID: peer.netID, nsID: peer.nsID, biURL });
    });
    await register(flags, {
      settings: adapterSetup ? { ...settings, adapter: adapterSetup.settings } : settings,
      kind: 'ns',
      name: flags.name,
      netID: parseNetID(flags.netId, '--net-id'),
      nsID: flags.nsId ? parseEUI64(flags.nsId, '--ns-id') : null,
      vendor,
      ...(flags.kekLabel !== undefined ? { kekLabel: flags.kekLabel } : {}),
    }, after);
  });
  addNsSyncCommand(ns);

  const as = program.command('as').description('application servers that fetch AppSKeys (AppSKeyReq)');
  commonPeerOptions(
    as
      .command('add')
      .description('register an application server and write its credential bundle')
      .requiredOption('--as-id <id>', 'the application server\'s AS-ID: its BI SenderID'),
  ).action(async (flags: AsFlags) => {
    if (flags.asId.trim() === '') throw new ParseError('--as-id', 'must not be empty');
    await register(flags, {
      settings: await peerSettingsFrom(flags, DEFAULT_PEER_SETTINGS),
      kind: 'as',
      name: flags.name,
      asID: flags.asId.trim(),
      ...(flags.kekLabel !== undefined ? { kekLabel: flags.kekLabel } : {}),
    });
  });

  for (const [group, kind] of [[ns, 'ns'], [as, 'as']] as const) {
    const set = withPeerSettingsOptions(
      group
        .command('set')
        .description(`change how a registered ${kind === 'ns' ? 'network' : 'application'} server is talked to (async answers, Authorization header); takes effect at once`)
        .argument('<name>', 'peer name'),
      true,
    );
    if (kind === 'ns') set.option('--api-key-file <file>', 'replace the stored API key of its management API (ns sync)');
    withBackendOptions(set).action(async (name: string, flags: PeerSettingsFlags & BackendFlags & { apiKeyFile?: string }) => {
      const backends = await openBackends(backendSettings(flags));
      try {
        const peer = await backends.store.getPeer(name);
        if (!peer || peer.kind !== kind) throw new ParseError('NAME', `no ${kind === 'ns' ? 'network' : 'application'} server named ${name}`);
        const settings = await peerSettingsFrom(flags, peer.settings);
        if (flags.apiKeyFile !== undefined) {
          if (!settings.adapter) throw new ParseError('--api-key-file', `network server ${name} has no adapter configured (ns add --api-url ...)`);
          const file = await writeAdapterAPIKey(backends.settings.dataDir, name, (await apiKeyFromFlags({ apiKeyFile: flags.apiKeyFile }))!);
          note(`joinery: API key replaced in ${file} (mode 0600)`);
        }
        await backends.store.updatePeerSettings(name, settings);
        say(`${name}:`);
        for (const line of describePeerSettings(settings)) say(`  ${line}`);
      } finally {
        await backends.close();
      }
    });
  }
}

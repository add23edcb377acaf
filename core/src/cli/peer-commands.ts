import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { cliAuditContext } from './cli-actor';
import { parseEUI64, parseNetID } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { PeerRegistration } from '../peers/register-peer';
import { parseVendor, VENDORS } from '../peers/vendor';
import { openBackends } from '../server/open-backends';
import { serverHosts } from '../server/server-hosts';
import { backendSettings, configuredPublicURL, SERVER_ADDRESS_SETTINGS, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say } from './output';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { describePeerSettings, peerSettingsFrom, withPeerSettingsOptions, type PeerSettingsFlags } from './peer-settings-options';
import type { Peer } from '../peers/peer';
import { writeAdapterAPIKey } from '../adapters/adapter-api-key-store';
import { apiKeyFromFlags } from './adapter-api-key';
import { ADAPTER_OPTION_KEYS, managementFrom, nsVendorSetupFrom, withNsAdapterOptions, writeVendorSetup, type NsAdapterFlags, type SetupConnection } from './ns-adapter-options';
import { ASYNC_LISTENER_FILES } from '../adapters/adapter-setup';
import { writeFileAtomic } from '../pki/atomic-file';
import type { CAMaterial, IssuedCertificate } from '../pki/certificate-authority';
import type { PeerSettings } from '../peers/peer-settings';
import type { Vendor } from '../peers/vendor';
import { addNsSyncCommand } from './ns-sync-command';
import { addNsWatchCommand } from './ns-watch-command';
import { checkVendorPeerSettings, dialectOf } from '../peers/vendor-dialect';
import { addPeerLifecycleCommands, biURLFor } from './peer-lifecycle-commands';

interface PeerFlags extends BackendFlags, PeerSettingsFlags {
  readonly name: string;
  readonly kekLabel?: string;
  readonly out: string;
  readonly publicUrl?: string;
  readonly publicHost?: string[];
  readonly biListen: string;
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
        new Option(
          '--public-url <url>',
          'base URL where peers reach the BI listener (default: https://, the first of bi.public_hosts or localhost, and the port of bi.listen, as serve takes them from the configuration)',
        ).env('JOINERY_PUBLIC_URL'),
      ),
    SERVER_ADDRESS_SETTINGS,
  );
}

/** After the peer and its bundle exist: more files for the bundle (the vendor setup). */
type AfterRegister = (peer: Peer, outDir: string, biURL: string, dataDir: string) => Promise<string[]>;

/** The registration, given Joinery's CA (a setting may name it: the CA that verifies an answer listener it issued). */
type RegistrationWithCA = (ca: CAMaterial) => Promise<{ readonly registration: PeerRegistration; readonly after?: AfterRegister }>;

async function register(flags: PeerFlags, prepare: RegistrationWithCA): Promise<void> {
  const backends = await openBackends(backendSettings(flags));
  try {
    for (const c of backends.created) note(`joinery: created ${c}`);
    // Loaded here, not at start-up: the X.509 code is slow to load and only these commands use it.
    const [{ loadOrCreatePKI }, { registerPeer }] = await Promise.all([import('../pki/pki-files.js'), import('../peers/register-peer.js')]);
    const publicUrl = flags.publicUrl ?? configuredPublicURL(flags);
    const pki = await loadOrCreatePKI(backends.settings.dataDir, serverHosts([new URL(publicUrl).hostname]));
    if (pki.created.ca) note(`joinery: created certificate authority ${backends.settings.dataDir}/ca.crt`);
    const { registration, after } = await prepare(pki.ca);
    const outDir = path.resolve(flags.out);
    const biURL = biURLFor(publicUrl, registration.name);
    const { peer, files: bundleFiles } = await registerPeer({ store: backends.store, vault: backends.vault, ca: pki.ca }, registration, outDir, biURL, cliAuditContext());
    const files = [...bundleFiles, ...(after ? await after(peer, outDir, biURL, backends.settings.dataDir) : [])];
    say(
      `registered ${peer.kind === 'ns' ? 'network server' : 'application server'} ${peer.name}` +
        (peer.kind === 'ns' ? ` (NetID ${peer.netID}${peer.nsID ? `, NSID ${peer.nsID}` : ''}, vendor ${peer.vendor})` : ` (AS-ID ${peer.asID})`),
    );
    say(`KEK label: ${peer.kekLabel}`);
    for (const line of describePeerSettings(peer.settings)) say(line);
    say(`BI URL: ${biURL}`);
    say(`credential bundle in ${outDir}:`);
    for (const f of [...new Set(files)]) say(`  ${path.basename(f)}`);
    say(`read ${path.join(outDir, 'README.txt')} for what goes where; client.key, kek.json and the files marked secret there are secrets.`);
  } finally {
    await backends.close();
  }
}

/**
 * `ns set` with management API flags: `--api-url` (with its key and options) configures the
 * adapter, as `ns add --api-url` would have (a network server added without one becomes
 * syncable and migratable); a key flag alone replaces the stored key.
 */
async function managementUpdate(flags: NsAdapterFlags, vendor: Vendor, name: string, settings: PeerSettings, dataDir: string): Promise<PeerSettings> {
  if (flags.apiUrl !== undefined) {
    const management = await managementFrom(flags, vendor);
    const file = await writeAdapterAPIKey(dataDir, name, management.apiKey);
    note(`joinery: ${vendor} management API configured; API key stored in ${file} (mode 0600)`);
    return { ...settings, adapter: management.settings };
  }
  const stray = Object.keys(flags).find((k) => ADAPTER_OPTION_KEYS.has(k));
  if (stray !== undefined) throw new ParseError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, "needs --api-url (the network server's management API)");
  const apiKey = await apiKeyFromFlags(flags);
  if (apiKey !== undefined) {
    if (!settings.adapter) throw new ParseError('--api-key-file', `network server ${name} has no management API configured (ns set ${name} --api-url ...)`);
    const file = await writeAdapterAPIKey(dataDir, name, apiKey);
    note(`joinery: API key replaced in ${file} (mode 0600)`);
  }
  return settings;
}

/**
 * A network server's answer listener certificate, when its vendor's setup file names one
 * (ChirpStack's `[backend_interfaces]`) and the operator gave no CA of their own: issued by
 * Joinery's CA for the answer URL's host, and that CA is what Joinery verifies it with.
 */
async function asyncListenerCertificate(vendor: Vendor, settings: PeerSettings, ca: CAMaterial): Promise<{ settings: PeerSettings; issued: IssuedCertificate | null }> {
  const answers = settings.asyncAnswers;
  if (!answers || answers.caPem !== null || !dialectOf(vendor).asyncListenerInBundle) return { settings, issued: null };
  const { issueServerCertificate } = await import('../pki/certificate-authority.js');
  const issued = await issueServerCertificate(ca, [new URL(answers.url).hostname]);
  return { settings: { ...settings, asyncAnswers: { ...answers, caPem: ca.certPem } }, issued };
}

export function addPeerCommands(program: Command): void {
  const ns = program.command('ns').description('network servers allowed to join devices');
  withNsAdapterOptions(
    commonPeerOptions(
      ns
        .command('add')
        .description('register a network server and write its credential bundle (CA, client certificate and key, KEK, README)')
        .requiredOption('--net-id <netid>', "the network server's NetID (6 hex digits): its BI SenderID")
        .option('--ns-id <eui>', 'its NSID (16 hex digits), sent as SenderNSID in BI 1.1')
        .requiredOption('--vendor <vendor>', `network server vendor: ${VENDORS.join(', ')}`),
    ),
  ).action(async (flags: NsFlags) => {
    const vendor = parseVendor(flags.vendor, '--vendor');
    const vendorSetup = await nsVendorSetupFrom(flags, vendor, flags.name);
    const requested = await peerSettingsFrom(flags, DEFAULT_PEER_SETTINGS);
    await register(flags, async (ca) => {
      const { settings, issued } = await asyncListenerCertificate(vendor, requested, ca);
      const after: AfterRegister | undefined =
        vendorSetup &&
        (async (peer, outDir, biURL, dataDir) => {
          if (peer.kind !== 'ns') return [];
          const written: string[] = [];
          if (vendorSetup.management) {
            const keyFile = await writeAdapterAPIKey(dataDir, peer.name, vendorSetup.management.apiKey);
            note(`joinery: ${vendor} API key stored in ${keyFile} (mode 0600)`);
          }
          if (issued) {
            const cert = path.join(outDir, ASYNC_LISTENER_FILES.cert);
            const key = path.join(outDir, ASYNC_LISTENER_FILES.key);
            await writeFileAtomic(cert, issued.certPem, { mode: 0o644, replace: false });
            await writeFileAtomic(key, issued.keyPem, { mode: 0o600, replace: false });
            written.push(cert, key);
          }
          const connection: SetupConnection = {
            authorizationHeader: flags.authorizationHeader ?? null,
            asyncAnswers: settings.asyncAnswers ? { url: settings.asyncAnswers.url, listenerCertificate: issued ? 'bundle' : 'own' } : null,
          };
          return [...written, ...(await writeVendorSetup(vendorSetup, outDir, { name: peer.name, netID: peer.netID, nsID: peer.nsID, biURL }, connection))];
        });
      const registration: PeerRegistration = {
        settings: vendorSetup?.management ? { ...settings, adapter: vendorSetup.management.settings } : settings,
        kind: 'ns',
        name: flags.name,
        netID: parseNetID(flags.netId, '--net-id'),
        nsID: flags.nsId ? parseEUI64(flags.nsId, '--ns-id') : null,
        vendor,
        ...(flags.kekLabel !== undefined ? { kekLabel: flags.kekLabel } : {}),
      };
      return { registration, ...(after ? { after } : {}) };
    });
  });
  addNsSyncCommand(ns);
  addNsWatchCommand(ns);
  addPeerLifecycleCommands(ns, 'ns');

  const as = program.command('as').description('application servers that fetch AppSKeys (AppSKeyReq)');
  commonPeerOptions(as.command('add').description('register an application server and write its credential bundle').requiredOption('--as-id <id>', "the application server's AS-ID: its BI SenderID")).action(
    async (flags: AsFlags) => {
      if (flags.asId.trim() === '') throw new ParseError('--as-id', 'must not be empty');
      const settings = await peerSettingsFrom(flags, DEFAULT_PEER_SETTINGS);
      await register(flags, async () => ({
        registration: {
          settings,
          kind: 'as',
          name: flags.name,
          asID: flags.asId.trim(),
          ...(flags.kekLabel !== undefined ? { kekLabel: flags.kekLabel } : {}),
        },
      }));
    },
  );

  addPeerLifecycleCommands(as, 'as');

  for (const [group, kind] of [
    [ns, 'ns'],
    [as, 'as'],
  ] as const) {
    const set = withPeerSettingsOptions(
      group
        .command('set')
        .description(`change how a registered ${kind === 'ns' ? 'network' : 'application'} server is talked to (async answers, Authorization header); takes effect at once`)
        .argument('<name>', 'peer name'),
      true,
    );
    if (kind === 'ns') withNsAdapterOptions(set, true);
    withBackendOptions(set).action(async (name: string, flags: PeerSettingsFlags & BackendFlags & NsAdapterFlags) => {
      const backends = await openBackends(backendSettings(flags));
      try {
        const peer = await backends.store.getPeer(name);
        if (!peer || peer.kind !== kind) throw new ParseError('NAME', `no ${kind === 'ns' ? 'network' : 'application'} server named ${name}`);
        let settings = await peerSettingsFrom(flags, peer.settings);
        if (peer.kind === 'ns') {
          checkVendorPeerSettings(peer.vendor, { asyncAnswers: settings.asyncAnswers !== null });
          settings = await managementUpdate(flags, peer.vendor, name, settings, backends.settings.dataDir);
        }
        await backends.store.updatePeerSettings(name, settings);
        if (peer.kind === 'ns' && (flags.authorizationHeader !== undefined || flags.authorization === false || flags.asyncAnswerUrl !== undefined || flags.sync)) {
          note(`joinery: change ${peer.vendor}'s own configuration to match (its Authorization header, its answer mode): Joinery applies the change at once`);
        }
        say(`${name}:`);
        for (const line of describePeerSettings(settings)) say(`  ${line}`);
      } finally {
        await backends.close();
      }
    });
  }
}

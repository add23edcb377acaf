import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { authorizationDigest } from '../backend-interfaces/caller';
import { ParseError } from '../lorawan/parse-error';
import { parseDeadline } from '../fleet-migration/migration-request';
import type { Peer } from '../peers/peer';
import { deletePeer, existingPeer, issuePeerBundle, nextKEKLabel, retirePeerCertificates, setPeerState, type BundleIssue } from '../peers/peer-lifecycle';
import { fullPeerSummary, peerSummary, type PeerSummary } from '../peers/peer-summary';
import type { Backends } from '../server/open-backends';
import { serverHosts } from '../server/server-hosts';
import { configuredPublicURL, openExistingBackends, SERVER_ADDRESS_SETTINGS, withBackendOptions, type BackendFlags, type ServerAddressFlags } from './backend-options';
import { cliAuditContext } from './cli-actor';
import { nsVendorSetupFrom, writeVendorSetup } from './ns-adapter-options';
import { note, say, table } from './output';
import { describePeerSettings } from './peer-settings-options';

interface BundleFlags extends BackendFlags, ServerAddressFlags {
  readonly out: string;
  readonly publicUrl?: string;
  readonly joinEuiPrefix?: string[];
  readonly nsConfigDir?: string;
  readonly authorizationHeader?: string;
}

export function biURLFor(publicUrl: string, name: string): string {
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    throw new ParseError('--public-url', `not a URL: "${publicUrl}"`);
  }
  if (u.protocol !== 'https:') throw new ParseError('--public-url', 'the BI listener is HTTPS: expected an https:// URL');
  return new URL(`bi/${name}`, u.href.endsWith('/') ? u.href : `${u.href}/`).href;
}

/** Every lifecycle command works on peers that exist: where there is no Joinery data, it is refused and creates nothing. */
async function withBackends<T>(flags: BackendFlags, run: (backends: Backends) => Promise<T>): Promise<T> {
  const backends = await openExistingBackends(flags);
  try {
    return await run(backends);
  } finally {
    await backends.close();
  }
}

function noun(kind: Peer['kind']): string {
  return kind === 'ns' ? 'network server' : 'application server';
}

function listRow(s: PeerSummary): string[] {
  const id = s.kind === 'ns' ? `${s.netID ?? ''}${s.nsID ? `/${s.nsID}` : ''}` : (s.asID ?? '');
  return [s.name, ...(s.kind === 'ns' ? [s.vendor ?? ''] : []), id, s.state, s.certificateExpiry?.slice(0, 10) ?? 'unknown', String(s.boundDevices), s.lastJoinAt ?? 'never'];
}

function showLines(s: PeerSummary, peer: Peer): string[] {
  return [
    `${noun(s.kind)} ${s.name} (tenant ${s.tenant})`,
    ...(s.kind === 'ns' ? [`vendor: ${s.vendor}`, `NetID: ${s.netID}`, `NSID: ${s.nsID ?? 'none'}`] : [`AS-ID: ${s.asID}`]),
    `state: ${s.state}`,
    `KEK label: ${s.kekLabel}`,
    ...describePeerSettings(peer.settings),
    `devices bound: ${s.boundDevices}`,
    `last join: ${s.lastJoinAt ?? 'never'}`,
    `joins over the last day: ${
      Object.entries(s.recentJoinResults ?? {})
        .map(([result, n]) => `${result} ${n}`)
        .join(', ') || 'none'
    }`,
    `certificates:`,
    ...s.certificates.map((c) => `  ${c.fingerprint}  ${c.status}  issued ${c.issuedAt}  expires ${c.notAfter ?? 'unknown'}${c.retiresAt ? `  ${c.status === 'retired' ? 'retired' : 'retires'} ${c.retiresAt}` : ''}`),
    `registered: ${s.createdAt}`,
  ];
}

/** The bundle-writing commands' flags: where, the BI URL, and what the vendor files need again. */
function bundleOptions(cmd: Command, kind: Peer['kind']): Command {
  cmd
    .requiredOption('--out <dir>', 'directory to write the new credential bundle into (must not hold one already)')
    .addOption(
      new Option(
        '--public-url <url>',
        'base URL where peers reach the BI listener (default: https://, the first of bi.public_hosts or localhost, and the port of bi.listen, as serve takes them from the configuration)',
      ).env('JOINERY_PUBLIC_URL'),
    );
  if (kind === 'ns') {
    cmd
      .option('--join-eui-prefix <prefix...>', 'JoinEUI range(s) the network server sends to Joinery, for the vendor files (default all)')
      .option('--ns-config-dir <dir>', "where the bundle's files will sit on the network server host (absolute; used in the vendor files)")
      .option('--authorization-header <value>', 'the Authorization header the network server sends (when it has one: Joinery keeps only its digest, the vendor files need it)');
  }
  return withBackendOptions(cmd, SERVER_ADDRESS_SETTINGS);
}

async function writeBundle(backends: Backends, kind: Peer['kind'], name: string, issue: BundleIssue, flags: BundleFlags): Promise<void> {
  const peer = await existingPeer(backends.store, kind, name);
  const publicUrl = flags.publicUrl ?? configuredPublicURL(flags);
  const biURL = biURLFor(publicUrl, name);
  const vendorSetup =
    peer.kind === 'ns'
      ? await nsVendorSetupFrom({ ...(flags.joinEuiPrefix ? { joinEuiPrefix: flags.joinEuiPrefix } : {}), ...(flags.nsConfigDir ? { nsConfigDir: flags.nsConfigDir } : {}) }, peer.vendor, name)
      : undefined;
  const header = flags.authorizationHeader ?? null;
  if (vendorSetup && peer.settings.authorizationSHA256 !== null && (header === null || authorizationDigest(header) !== peer.settings.authorizationSHA256)) {
    throw new ParseError(
      '--authorization-header',
      `${name} sends an Authorization header: give the one it is configured with (Joinery keeps only its digest; this one ${header === null ? 'is missing' : 'does not match'})`,
    );
  }
  const { loadOrCreatePKI } = await import('../pki/pki-files.js');
  const pki = await loadOrCreatePKI(backends.settings.dataDir, serverHosts([new URL(publicUrl).hostname]));
  const outDir = path.resolve(flags.out);
  const issued = await issuePeerBundle({ store: backends.store, vault: backends.vault, ca: pki.ca }, peer, issue, outDir, biURL, cliAuditContext());
  const files = [...issued.files];
  if (vendorSetup && issued.peer.kind === 'ns') {
    const answers = issued.peer.settings.asyncAnswers;
    files.push(
      ...(await writeVendorSetup(
        vendorSetup,
        outDir,
        { name, netID: issued.peer.netID, nsID: issued.peer.nsID, biURL },
        { authorizationHeader: header, asyncAnswers: answers ? { url: answers.url, listenerCertificate: 'own' } : null },
      )),
    );
  }
  if (issue.kind === 'rotate-kek') say(`${name}: new KEK labelled ${issued.peer.kekLabel} (was ${peer.kekLabel}); answers are wrapped with it from now on`);
  say(`${name}: new client certificate ${issued.certificate.fingerprint} (expires ${issued.certificate.notAfter?.toISOString() ?? 'unknown'})`);
  if (issue.kind === 'renew' && issue.retireOthersAt !== null) say(`the certificates before are refused from ${issue.retireOthersAt.toISOString()}`);
  else say(`the certificates before keep working until retired (joinery ${kind} retire-certificate ${name})`);
  say(`credential bundle in ${outDir}:`);
  for (const f of [...new Set(files)]) say(`  ${path.basename(f)}`);
}

/** `list`, `show`, `enable`, `disable`, `delete`, `bundle`, `renew-certificate`, `retire-certificate`, `rotate-kek` of `ns` and `as`. */
export function addPeerLifecycleCommands(group: Command, kind: Peer['kind']): void {
  withBackendOptions(
    group
      .command('list')
      .description(`list the ${noun(kind)}s: state, certificate expiry, devices bound, last join`)
      .option('--json', 'JSON, one array'),
  ).action(async (flags: BackendFlags & { json?: boolean }) =>
    withBackends(flags, async (backends) => {
      const usage = await backends.store.peerUsage();
      const summaries = (await backends.store.listPeers()).filter((p) => p.kind === kind).map((p) => peerSummary(p, usage.get(p.name)));
      if (flags.json) return say(JSON.stringify(summaries, null, 2));
      const header = ['NAME', ...(kind === 'ns' ? ['VENDOR', 'NETID/NSID'] : ['AS-ID']), 'STATE', 'CERT EXPIRES', 'DEVICES', 'LAST JOIN'];
      say(table(header, summaries.map(listRow)));
    }),
  );

  withBackendOptions(
    group
      .command('show')
      .description(`one ${noun(kind)}: everything list shows, its KEK label, certificates and settings`)
      .argument('<name>')
      .option('--json', 'JSON'),
  ).action(async (name: string, flags: BackendFlags & { json?: boolean }) =>
    withBackends(flags, async (backends) => {
      const peer = await existingPeer(backends.store, kind, name);
      const summary = await fullPeerSummary(backends.store, peer);
      if (flags.json) return say(JSON.stringify(summary, null, 2));
      for (const line of showLines(summary, peer)) say(line);
    }),
  );

  for (const state of ['enabled', 'disabled'] as const) {
    const verb = state === 'enabled' ? 'enable' : 'disable';
    withBackendOptions(
      group
        .command(verb)
        .description(state === 'enabled' ? `serve a disabled ${noun(kind)} again` : `refuse a ${noun(kind)} at once (UnknownSender, on every instance); its devices keep their binding`)
        .argument('<name>'),
    ).action(async (name: string, flags: BackendFlags) =>
      withBackends(flags, async (backends) => {
        await setPeerState(backends.store, await existingPeer(backends.store, kind, name), state, cliAuditContext());
        say(`${name}: ${state}`);
      }),
    );
  }

  withBackendOptions(
    group
      .command('delete')
      .description(`remove a ${noun(kind)}: its certificates are refused from then on; refused while devices are bound to it`)
      .argument('<name>')
      .option('--unbind-devices', 'remove the bindings of its devices to it (they stay, unbound or on their other network server)'),
  ).action(async (name: string, flags: BackendFlags & { unbindDevices?: boolean }) =>
    withBackends(flags, async (backends) => {
      const { unbound } = await deletePeer(backends.store, await existingPeer(backends.store, kind, name), flags.unbindDevices === true, cliAuditContext());
      say(`deleted ${noun(kind)} ${name}${unbound > 0 ? ` (${unbound} device(s) unbound)` : ''}`);
    }),
  );

  bundleOptions(
    group.command('bundle').description('write its credential bundle (and vendor files) again: with a new client certificate, as Joinery keeps no private key; the ones before keep working').argument('<name>'),
    kind,
  ).action(async (name: string, flags: BundleFlags) => withBackends(flags, (backends) => writeBundle(backends, kind, name, { kind: 'bundle' }, flags)));

  bundleOptions(
    group
      .command('renew-certificate')
      .description('issue a new client certificate in a new bundle; the one before keeps working until retired (--retire-old, --overlap, or retire-certificate)')
      .argument('<name>')
      .option('--retire-old', 'refuse the certificates before at once (a leaked bundle)')
      .option('--overlap <duration>', 'keep the certificates before working this long (90s, 30m, 12h, 7d) or until an ISO 8601 time'),
    kind,
  ).action(async (name: string, flags: BundleFlags & { retireOld?: boolean; overlap?: string }) => {
    if (flags.retireOld && flags.overlap !== undefined) throw new ParseError('--overlap', 'cannot be combined with --retire-old');
    const retireOthersAt = flags.retireOld ? new Date() : flags.overlap !== undefined ? parseDeadline(flags.overlap, new Date(), '--overlap') : null;
    await withBackends(flags, (backends) => writeBundle(backends, kind, name, { kind: 'renew', retireOthersAt }, flags));
  });

  withBackendOptions(
    group
      .command('retire-certificate')
      .description('refuse its earlier client certificates at once (all but the current one, or the one given)')
      .argument('<name>')
      .option('--fingerprint <sha256>', 'only this certificate (as show lists them)'),
  ).action(async (name: string, flags: BackendFlags & { fingerprint?: string }) =>
    withBackends(flags, async (backends) => {
      const retired = await retirePeerCertificates(backends.store, await existingPeer(backends.store, kind, name), flags.fingerprint?.toLowerCase(), cliAuditContext());
      if (retired.length === 0) note(`joinery: ${name} had no other certificate still accepted`);
      for (const c of retired) say(`${name}: certificate ${c.fingerprint} retired`);
    }),
  );

  bundleOptions(
    group
      .command('rotate-kek')
      .description('a new KEK under a new label, used for answers at once; writes a new bundle (and vendor files) with it')
      .argument('<name>')
      .option('--kek-label <label>', "the new KEK's label (default: the current one with a -2, -3 ... suffix)"),
    kind,
  ).action(async (name: string, flags: BundleFlags & { kekLabel?: string }) =>
    withBackends(flags, async (backends) => {
      const peer = await existingPeer(backends.store, kind, name);
      await writeBundle(backends, kind, name, { kind: 'rotate-kek', kekLabel: flags.kekLabel ?? nextKEKLabel(peer.kekLabel) }, flags);
    }),
  );
}

/**
 * README.txt of a credential bundle: what each file is and where it goes, with a ready config
 * excerpt for the peer's network server. It never contains the KEK (that stays in kek.json),
 * so the README can be pasted into a ticket or a chat safely.
 */

import { ttsInteropDirectory, type RenderedSetup } from '../adapters/adapter-setup';
import { setupInstallDir } from '../adapters/configure-adapter';

/** What Joinery tells a peer about itself; written as `peer.json` in its credential bundle. */
export type PeerDescriptor = { kind: 'ns'; name: string; netID: string; nsID?: string; vendor: string; biURL: string } | { kind: 'as'; name: string; asID: string; biURL: string };

/**
 * `setup`: the vendor setup rendered into the bundle (the files and steps SETUP.txt has); the
 * README then gives those same steps. Without it, a vendor section with placeholders, naming the
 * paths the rendered files would name.
 */
export function bundleReadme(descriptor: PeerDescriptor, kekLabel: string, setup?: RenderedSetup): string {
  const sections = descriptor.kind === 'as' ? applicationServerSections(descriptor, kekLabel) : networkServerSections(descriptor, kekLabel, setup);
  return [...sections, FILES].map((s) => s.trim()).join('\n\n\n') + '\n';
}

type NetworkServerDescriptor = Extract<PeerDescriptor, { kind: 'ns' }>;
type ApplicationServerDescriptor = Extract<PeerDescriptor, { kind: 'as' }>;

const FILES = `
FILES IN THIS DIRECTORY

  ca.crt      Joinery's certificate authority (PEM). It issued client.crt, and it also issued
              the Join Server's own TLS server certificate: configure it as the trusted CA
              (root CA) that verifies the Join Server when you connect to it.
  client.crt  Your client certificate (PEM, ECDSA P-256). The Join Server identifies you by it
              (its SHA-256 fingerprint). Check its expiry with
              openssl x509 -in client.crt -noout -enddate
  client.key  The private key of client.crt (PEM, unencrypted PKCS#8). SECRET.
  kek.json    {"label": ..., "kek": ...}: your key encryption key (KEK). Session keys that the
              Join Server sends you are wrapped with it (RFC 3394 AES key wrap) and tagged with
              the label. "kek" is 32 hex digits (AES-128). SECRET.
  peer.json   What the Join Server knows about you (name, identifiers, Backend Interfaces URL),
              for tools that connect on your behalf.
  README.txt  This file. It does not contain the KEK and may be shared.

Keep client.key and kek.json readable by the server that uses them only (mode 0600). If they
leak, ask the Join Server operator for a new bundle with the old certificate revoked
(joinery ns|as renew-certificate <name> --retire-old) and, for kek.json, a new KEK
(joinery ns|as rotate-kek <name>). A certificate expires after two years: renew it before.
`;

function networkServerSections(d: NetworkServerDescriptor, kekLabel: string, setup: RenderedSetup | undefined): string[] {
  const head = `
JOINERY CREDENTIALS FOR NETWORK SERVER "${d.name}"

These files connect your network server to the Joinery Join Server over the LoRaWAN Backend
Interfaces (TS002) with mutual TLS.

${table([
  ['Join Server URL', d.biURL],
  ['Protocol', 'Backend Interfaces 1.0 or 1.1, HTTPS with client.crt and client.key'],
  ['Your NetID', `${d.netID} (the SenderID of your JoinReq must be this NetID)`],
  ...(d.nsID !== undefined ? [['Your NSID', `${d.nsID} (SenderNSID, with Backend Interfaces 1.1)`] as const] : []),
  ['KEK label', `${kekLabel} (the KEK itself is the "kek" value in kek.json)`],
  ['Vendor', d.vendor],
])}

Your network server sends JoinReq for the devices whose JoinEUI it routes to this Join
Server: configure the JoinEUI range(s) of the devices you will join through Joinery.`;
  if (setup) return [head, renderedSetupSection(d, setup)];
  switch (d.vendor) {
    case 'chirpstack':
      return [head, chirpStackSection(d, kekLabel)];
    case 'the-things-stack':
      return [head, theThingsStackSection(d, kekLabel)];
    default:
      return [head, setupSheetSection(d, kekLabel)];
  }
}

/** The rendered setup's steps and files: the same as SETUP.txt's, from the same rendering. */
function renderedSetupSection(d: NetworkServerDescriptor, setup: RenderedSetup): string {
  return `
SETTING UP ${d.vendor.toUpperCase()} (the same steps are in SETUP.txt)

${setup.instructions.map((s, i) => `${i + 1}. ${s}`).join('\n')}

Files rendered for it in this directory:
${setup.files.map((f) => `  ${f.name}${f.secret ? '  SECRET' : ''}`).join('\n')}`;
}

function chirpStackSection(d: NetworkServerDescriptor, kekLabel: string): string {
  const dir = setupInstallDir('chirpstack', d.name, undefined, 'installDir');
  return `
CHIRPSTACK v4

Copy ca.crt, client.crt and client.key to ${dir}/ on the ChirpStack host
(readable by the chirpstack user), then add to chirpstack.toml:

  # [network] net_id=${q(d.netID)} must already be set in your file.

  [[join_server.servers]]
${commented([
  ['join_eui_prefix="<JoinEUI>/<bits>"', "REPLACE with your devices' JoinEUI range,"],
  ['', 'e.g. "70b3d57ed0000000/40"; a bare 16-hex JoinEUI = /64.'],
  ['', 'The first matching entry wins: put this one'],
  ['', 'before any catch-all entry.'],
  [`server=${q(d.biURL)}`, ''],
  ['async_timeout="0s"', 'synchronous answers'],
  [`ca_cert=${q(`${dir}/ca.crt`)}`, 'verifies the Join Server'],
  [`tls_cert=${q(`${dir}/client.crt`)}`, ''],
  [`tls_key=${q(`${dir}/client.key`)}`, 'PKCS#8, as ChirpStack requires'],
])}

  [[keks]]
${commented([
  [`label=${q(kekLabel)}`, ''],
  ['kek="<32 hex digits>"', 'REPLACE with the "kek" value from kek.json'],
])}

ChirpStack unwraps the network session keys with this KEK. With async_timeout="0s" no
[backend_interfaces] listener is needed. Restart ChirpStack after editing the file.`;
}

function theThingsStackSection(d: NetworkServerDescriptor, kekLabel: string): string {
  const url = new URL(d.biURL);
  const port = url.port !== '' ? url.port : url.protocol === 'http:' ? '80' : '443';
  const biPath = url.pathname.replace(/^\/+/, '');
  const interop = ttsInteropDirectory(d.name);
  const jsLines = [
    `fqdn: ${q(url.hostname.replace(/^\[(.*)\]$/, '$1'))}`,
    `port: ${port}`,
    d.nsID !== undefined ? 'protocol: BI1.1' : 'protocol: BI1.0',
    biPath !== '' ? `paths: {join: ${q(biPath)}, rejoin: ${q(biPath)}, app-s-key: ${q(biPath)}, home-ns: ${q(biPath)}}` : '# no paths: Joinery answers at the URL root',
    ...(d.nsID !== undefined ? [`sender-ns-id: ${q(d.nsID)}     # your NSID (required with BI1.1)`] : []),
    'tls: {source: file, root-ca: ca.crt, certificate: client.crt, key: client.key}',
  ];
  return `
THE THINGS STACK

1. In the interoperability configuration directory (the Network Server setting
   ns.interop.config-source / directory), add to the root config.yml:

  join-servers:
    - file: ./${interop}/js.yml
      components: [ns, as]
      join-euis: ["<JoinEUI>/<bits>"]       # REPLACE with your devices' JoinEUI range,
                                            # e.g. "70B3D57ED0000000/40"

2. Create ${interop}/js.yml there:

${jsLines.map((l) => `  ${l}`).join('\n')}

3. Copy ca.crt, client.crt and client.key into that ${interop}/ directory (paths in js.yml are
   relative to js.yml).

4. Add the KEK to the stack's key vault, so session keys tagged with the label can be
   unwrapped:

  key-vault:
    provider: static
    static:
      ${q(kekLabel)}: "<32 hex digits>"  # REPLACE with the "kek" value from kek.json

${d.nsID !== undefined ? 'BI1.1 is used because Joinery knows your NSID; with BI1.1, sender-ns-id is required.' : 'BI1.0 is used because Joinery knows no NSID for you (BI1.1 needs sender-ns-id, an NSID,\nand it is an error with BI1.0).'}`;
}

function setupSheetSection(d: NetworkServerDescriptor, kekLabel: string): string {
  const how: Record<string, string> = {
    actility:
      'ThingPark offers "OTAA with external Join Server"; the external Join Server is declared by\n' +
      'the ThingPark operator. Give them this sheet, ca.crt and client.crt (never client.key or\n' +
      'kek.json through an insecure channel).',
    loriot: 'LORIOT registers external Join Servers (URL and certificates) on request; the application\n' + 'property joinServerId selects the Join Server for JoinReqs. Give LORIOT this sheet.',
    orbiwise: 'Orbiwise speaks Backend Interfaces 1.0; give your Orbiwise contact this sheet.',
  };
  return `
SETUP SHEET

Configure an external Join Server with:

${table([
  ['URL (JoinReq, RejoinReq, HomeNSReq)', d.biURL],
  ['Protocol', `LoRaWAN Backend Interfaces ${d.nsID !== undefined ? '1.1 (or 1.0)' : '1.0'}, JSON over HTTPS POST`],
  ['SenderID', `${d.netID} (your NetID)`],
  ...(d.nsID !== undefined ? [['SenderNSID (BI 1.1)', d.nsID] as const] : []),
  ['Server CA (trust anchor)', 'ca.crt'],
  ['Client certificate / key', 'client.crt / client.key (PEM, PKCS#8 key)'],
  ['KEK label', kekLabel],
  ['KEK', 'the "kek" value in kek.json (AES-128, 32 hex digits)'],
  ['JoinEUI range', 'the JoinEUIs of the devices you join through Joinery'],
])}

${how[d.vendor] ?? 'Any network server that speaks the LoRaWAN Backend Interfaces can use these values.'}`;
}

function applicationServerSections(d: ApplicationServerDescriptor, kekLabel: string): string[] {
  return [
    `
JOINERY CREDENTIALS FOR APPLICATION SERVER "${d.name}"

These files let your application server fetch application session keys (AppSKey) from the
Joinery Join Server over the LoRaWAN Backend Interfaces (TS002) with mutual TLS.

${table([
  ['AS-ID', `${d.asID} (the SenderID of your AppSKeyReq must be this AS-ID)`],
  ['AppSKeyReq URL', `${d.biURL} (HTTPS POST, with client.crt and client.key)`],
  ['KEK label', kekLabel],
  ['KEK', 'the "kek" value in kek.json'],
])}

An AppSKeyReq carries ProtocolVersion, SenderID (your AS-ID), ReceiverID (the device's
JoinEUI), TransactionID, MessageType "AppSKeyReq", DevEUI and the SessionKeyID the network
server received with the join. The AppSKeyAns returns the AppSKey wrapped with your KEK
(RFC 3394 AES key wrap) and tagged with the label above:
  "AppSKey": {"KEKLabel": ${q(kekLabel)}, "AESKey": "<wrapped key, hex>"}
Unwrap it with the KEK from kek.json.`,
  ];
}

/** Two aligned columns, indented by two spaces. */
function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 3;
  return rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`).join('\n');
}

/** Config lines indented by four spaces, with their `#` comments aligned. */
function commented(lines: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...lines.map(([setting]) => setting.length)) + 2;
  return lines.map(([setting, comment]) => (comment === '' ? `    ${setting}` : `    ${setting.padEnd(width)}# ${comment}`)).join('\n');
}

/** A double-quoted string, valid in both TOML and YAML. */
function q(s: string): string {
  return JSON.stringify(s);
}

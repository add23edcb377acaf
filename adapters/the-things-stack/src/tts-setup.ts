import { ttsInteropDirectory, type AdapterSetupInput, type RenderedSetup } from '@joinery/core';
import { stringify } from 'yaml';

/**
 * The Things Stack's interop configuration for this Join Server: the root `config.yml` entry
 * (JoinEUI ranges → the per-JS file), the per-JS `js.yml`, and the `key-vault.static` entry for
 * our KEK label. What its loader requires (both files are read strictly: an unknown key stops
 * the Network Server from starting):
 * - `join-euis` entries are always `PREFIX/N`, a single JoinEUI `/64` (a bare EUI is refused);
 * - BI 1.1 when the network server has an NSID: TTS requires `sender-ns-id` with BI1.1 and
 *   refuses it with BI1.0;
 * - TLS file paths in js.yml are relative to js.yml's directory;
 * - a header secret goes into js.yml's `headers` (sent on every request), which makes js.yml
 *   secret.
 * Every BI path (join, rejoin, app-s-key, home-ns) is the network server's own endpoint.
 *
 * And its Device Claiming Server's, which claims devices on Joinery's TTJS v2 claim API (see
 * renderDCSSetup).
 */
export function renderTTSSetup(input: AdapterSetupInput): RenderedSetup {
  if (input.joinEUIPrefixes.length === 0) throw new Error('the-things-stack setup: at least one JoinEUI prefix is needed');
  if (input.asyncAnswers) throw new Error('the-things-stack setup: its interop client reads answers synchronously');
  const u = new URL(input.biURL);
  if (u.protocol !== 'https:') throw new Error('the-things-stack setup: the Join Server URL must be https');
  const path = u.pathname.replace(/^\/+/, '');
  const dir = ttsInteropDirectory(input.name);
  const config = {
    'join-servers': [
      {
        file: `./${dir}/js.yml`,
        components: ['ns', 'as'],
        'join-euis': input.joinEUIPrefixes.map((p) => p.text.toUpperCase()),
      },
    ],
  };
  const js: Record<string, unknown> = {
    fqdn: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(u.port || 443),
    protocol: input.nsID ? 'BI1.1' : 'BI1.0',
    ...(path !== '' ? { paths: { join: path, rejoin: path, 'app-s-key': path, 'home-ns': path } } : {}),
    ...(input.nsID ? { 'sender-ns-id': input.nsID.toUpperCase() } : {}),
    ...(input.authorizationHeader !== null ? { headers: { Authorization: input.authorizationHeader } } : {}),
    tls: { source: 'file', 'root-ca': 'ca.crt', certificate: 'client.crt', key: 'client.key' },
  };
  const keyVault = { 'key-vault': { provider: 'static', static: { [input.kek.label]: input.kek.kekHex.toUpperCase() } } };
  const header = (what: string): string => `# Joinery Join Server "${input.name}": ${what}\n`;
  const jsSecret = input.authorizationHeader !== null;
  const dcs = renderDCSSetup(input);
  return {
    files: [
      { name: 'config.yml', content: header("entry for the interop directory's config.yml (join-servers)") + stringify(config), secret: false },
      { name: 'js.yml', content: header(`goes to <interop directory>/${dir}/js.yml${jsSecret ? '; holds the Authorization header secret' : ''}`) + stringify(js), secret: jsSecret },
      { name: 'key-vault.yml', content: header('merge into the TTS configuration (key-vault.static); holds the KEK: secret') + stringify(keyVault), secret: true },
      ...dcs.files,
    ],
    instructions: [
      `In the interop directory (ns.interop.config-source: directory, ns.interop.directory), create ${dir}/ and put js.yml, ca.crt, client.crt and client.key in it${jsSecret ? ' (js.yml holds the header secret: readable by TTS only)' : ''}.`,
      "Add the join-servers entry of config.yml to the interop directory's config.yml (create it if missing).",
      `Merge key-vault.yml into the Network Server's and Application Server's configuration (key-vault.static label ${input.kek.label}), then restart The Things Stack.`,
      input.nsID ? `TTS sends BI 1.1 with SenderNSID ${input.nsID.toUpperCase()}: its NetID must be ${input.netID}.` : `TTS sends BI 1.0: its NetID must be ${input.netID}.`,
      'TTS asks its own cluster Join Server first: devices joined through Joinery must have no keys in it (joinery ns sync registers them without).',
      ...dcs.instructions,
    ],
  };
}

/** The Device Claiming Server's per-Join-Server file, in the bundle and in its directory. */
export function dcsJoinServerFile(peerName: string): string {
  return `joinery-${peerName}.yml`;
}

/**
 * The Device Claiming Server's configuration for claiming on this Join Server (Joinery's TTJS
 * v2 claim API, on the BI listener). Facts from The Things Stack's source:
 * - its directory (`dcs.edcs.source: directory`, `dcs.edcs.directory`) holds `config.yml`,
 *   whose `join-servers` entries take exactly `file`, `join-euis` and `type` (read with
 *   `yaml.UnmarshalStrict`: the interop entry's `components` stops the server), `type: ttjsv2`
 *   (TTS pkg/deviceclaimingserver/enddevices/config.go, enddevices.go);
 * - the entry's file takes `url`, `tls` (`root-ca`, `source`, `certificate`, `key`) and the
 *   unused `basic-auth`, strictly; `tls.source` must be `file` once a certificate is named
 *   (TTS pkg/deviceclaimingserver/enddevices/ttjsv2/ttjs.go, tls.go, pkg/config/tlsconfig/config.go);
 * - every path is fetched from the directory: relative ones from the entry file's directory,
 *   absolute ones under the directory's root (TTS pkg/fetch/basepath.go, fetch.go);
 * - requests go to `<url>/api/v2/devices/...`: the url is the listener's root, without a
 *   trailing slash (TTS ttjs.go);
 * - each claim sends `dcs.edcs.net-id`, `ns-id` and `as-id` as homeNetID, homeNSID and asID;
 *   a net-id left at its default 000000 names no network server (TTS enddevices/config.go).
 * The entry file is named after the peer: TTS keys its claimers by the file's base name.
 */
export function renderDCSSetup(input: AdapterSetupInput): RenderedSetup {
  const u = new URL(input.biURL);
  const file = dcsJoinServerFile(input.name);
  const config = { 'join-servers': [{ file: `./${file}`, 'join-euis': input.joinEUIPrefixes.map((p) => p.text.toUpperCase()), type: 'ttjsv2' }] };
  const joinServer = { url: u.origin, tls: { source: 'file', 'root-ca': 'ca.crt', certificate: 'client.crt', key: 'client.key' } };
  const edcs = { 'net-id': input.netID.toUpperCase(), ...(input.nsID ? { 'ns-id': input.nsID.toUpperCase() } : {}), source: 'directory', directory: input.installDir };
  const header = (what: string): string => `# Joinery Join Server "${input.name}", device claiming: ${what}\n`;
  return {
    files: [
      { name: 'dcs-config.yml', content: header(`goes to ${input.installDir}/config.yml (the Device Claiming Server's join-servers)`) + stringify(config), secret: false },
      { name: file, content: header(`goes to ${input.installDir}/${file}`) + stringify(joinServer), secret: false },
      { name: 'dcs.yml', content: header('merge into the TTS configuration (dcs.edcs)') + stringify({ dcs: { edcs } }), secret: false },
    ],
    instructions: [
      `Device claiming: on the host of The Things Stack's Device Claiming Server, put dcs-config.yml as config.yml, ${file}, ca.crt, client.crt and client.key in ${input.installDir} (TLS paths in ${file} are relative to it). If the Device Claiming Server already reads a directory, add the join-servers entry to its config.yml and put the files beside it instead, and set dcs.edcs.directory to it.`,
      `Merge dcs.yml into The Things Stack's configuration: claims then name this network server (NetID ${input.netID.toUpperCase()}${input.nsID ? `, NSID ${input.nsID.toUpperCase()}` : ''}). dcs.edcs.as-id stays unset (the AppSKey then goes to the network server under its KEK), or names the AS-ID of an application server registered in Joinery; restart The Things Stack.`,
    ],
  };
}

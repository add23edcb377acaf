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
  return {
    files: [
      { name: 'config.yml', content: header('entry for the interop directory\'s config.yml (join-servers)') + stringify(config), secret: false },
      { name: 'js.yml', content: header(`goes to <interop directory>/${dir}/js.yml${jsSecret ? '; holds the Authorization header secret' : ''}`) + stringify(js), secret: jsSecret },
      { name: 'key-vault.yml', content: header('merge into the TTS configuration (key-vault.static); holds the KEK: secret') + stringify(keyVault), secret: true },
    ],
    instructions: [
      `In the interop directory (ns.interop.config-source: directory, ns.interop.directory), create ${dir}/ and put js.yml, ca.crt, client.crt and client.key in it${jsSecret ? ' (js.yml holds the header secret: readable by TTS only)' : ''}.`,
      'Add the join-servers entry of config.yml to the interop directory\'s config.yml (create it if missing).',
      `Merge key-vault.yml into the Network Server's and Application Server's configuration (key-vault.static label ${input.kek.label}), then restart The Things Stack.`,
      input.nsID
        ? `TTS sends BI 1.1 with SenderNSID ${input.nsID.toUpperCase()}: its NetID must be ${input.netID}.`
        : `TTS sends BI 1.0: its NetID must be ${input.netID}.`,
      'TTS asks its own cluster Join Server first: devices joined through Joinery must have no keys in it (joinery ns sync registers them without).',
    ],
  };
}

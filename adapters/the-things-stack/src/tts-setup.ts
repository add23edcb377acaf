import type { AdapterSetupInput, RenderedSetup } from '@joinery/core';
import { stringify } from 'yaml';

/**
 * The Things Stack's interop configuration for this Join Server: the root `config.yml` entry
 * (JoinEUI ranges → the per-JS file), the per-JS `js.yml`, and the `key-vault.static` entry for
 * our KEK label. BI 1.1 when the network server has an NSID (TTS requires `sender-ns-id` with
 * BI1.1 and refuses it with BI1.0). TLS file paths in js.yml are relative to js.yml's directory.
 */
export function renderTTSSetup(input: AdapterSetupInput): RenderedSetup {
  if (input.joinEUIPrefixes.length === 0) throw new Error('the-things-stack setup: at least one JoinEUI prefix is needed');
  const u = new URL(input.biURL);
  if (u.protocol !== 'https:') throw new Error('the-things-stack setup: the Join Server URL must be https');
  const path = u.pathname.replace(/^\/+/, '');
  const dir = `joinery-${input.name}`;
  const config = {
    'join-servers': [
      {
        file: `./${dir}/js.yml`,
        components: ['ns', 'as'],
        'join-euis': input.joinEUIPrefixes.map((p) => (p.bits === 64 ? p.text.slice(0, 16) : p.text).toUpperCase()),
      },
    ],
  };
  const js: Record<string, unknown> = {
    fqdn: u.hostname,
    port: Number(u.port || 443),
    protocol: input.nsID ? 'BI1.1' : 'BI1.0',
    paths: { join: path, 'app-s-key': path },
    ...(input.nsID ? { 'sender-ns-id': input.nsID.toUpperCase() } : {}),
    tls: { source: 'file', 'root-ca': 'ca.crt', certificate: 'client.crt', key: 'client.key' },
  };
  const keyVault = { 'key-vault': { provider: 'static', static: { [input.kek.label]: input.kek.kekHex.toUpperCase() } } };
  const header = (what: string): string => `# Joinery Join Server "${input.name}": ${what}\n`;
  return {
    files: [
      { name: 'config.yml', content: header('entry for the interop directory\'s config.yml (join-servers)') + stringify(config), secret: false },
      { name: 'js.yml', content: header(`goes to <interop directory>/${dir}/js.yml`) + stringify(js), secret: false },
      { name: 'key-vault.yml', content: header('merge into the TTS configuration (key-vault.static); holds the KEK: secret') + stringify(keyVault), secret: true },
    ],
    instructions: [
      `In the interop directory (ns.interop.config-source: directory, ns.interop.directory), create ${dir}/ and put js.yml, ca.crt, client.crt and client.key in it.`,
      'Add the join-servers entry of config.yml to the interop directory\'s config.yml (create it if missing).',
      `Merge key-vault.yml into the Network Server's and Application Server's configuration (key-vault.static label ${input.kek.label}), then restart The Things Stack.`,
      input.nsID
        ? `TTS sends BI 1.1 with SenderNSID ${input.nsID.toUpperCase()}: its NetID must be ${input.netID}.`
        : `TTS sends BI 1.0: its NetID must be ${input.netID}.`,
    ],
  };
}

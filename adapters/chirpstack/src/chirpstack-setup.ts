import * as path from 'node:path';
import type { AdapterSetupInput, RenderedSetup } from '@joinery/core';

/** TOML basic string: quotes and backslashes escaped, control characters refused. */
function q(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`chirpstack.toml: control character in ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The `chirpstack.toml` fragment that points ChirpStack v4 at this Join Server: one
 * `[[join_server.servers]]` per JoinEUI range (first match in file order wins, so the fragment
 * goes before any catch-all entry), and the `[[keks]]` entry that unwraps the session keys.
 * Never the obsolete `async_interface` keys (v4 ignores them silently). Synchronous answers
 * (`async_timeout = "0s"`).
 */
export function renderChirpStackSetup(input: AdapterSetupInput): RenderedSetup {
  if (input.joinEUIPrefixes.length === 0) throw new Error('chirpstack setup: at least one JoinEUI prefix is needed');
  if (!path.posix.isAbsolute(input.installDir)) throw new Error('chirpstack setup: the install directory must be an absolute path');
  const file = (f: string): string => path.posix.join(input.installDir, f);
  const lines: string[] = [
    `# Joinery Join Server "${input.name}": paste into chirpstack.toml (ChirpStack v4).`,
    '# [[join_server.servers]] entries are tried in file order: keep these before any catch-all entry.',
    `# Your [network] net_id must be ${input.netID}.`,
    '',
  ];
  for (const p of input.joinEUIPrefixes) {
    lines.push(
      '[[join_server.servers]]',
      `  join_eui_prefix = ${q(p.bits === 64 ? p.text.slice(0, 16) : p.text)}`,
      `  server = ${q(input.biURL)}`,
      '  async_timeout = "0s"',
      `  ca_cert = ${q(file('ca.crt'))}`,
      `  tls_cert = ${q(file('client.crt'))}`,
      `  tls_key = ${q(file('client.key'))}`,
      '',
    );
  }
  lines.push('[[keks]]', `  label = ${q(input.kek.label)}`, `  kek = ${q(input.kek.kekHex)}`, '');
  return {
    files: [{ name: 'chirpstack.toml', content: lines.join('\n'), secret: true }],
    instructions: [
      `Copy ca.crt, client.crt and client.key to ${input.installDir} on the ChirpStack host (client.key readable by ChirpStack only).`,
      'Merge chirpstack.toml into your chirpstack.toml (it holds the KEK: keep it secret), then restart ChirpStack.',
      `Check that [network] net_id is ${input.netID}: Joinery identifies ChirpStack by its NetID and client certificate.`,
      'Devices joined through Joinery must have no keys in ChirpStack (joinery ns sync creates them without keys).',
    ],
  };
}

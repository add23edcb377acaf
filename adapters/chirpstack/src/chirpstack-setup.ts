import * as path from 'node:path';
import { ASYNC_LISTENER_FILES, type AdapterSetupInput, type RenderedSetup } from '@joinery/core';

/** TOML basic string: quotes and backslashes escaped, control characters refused. */
function q(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`chirpstack.toml: control character in ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * How long ChirpStack waits for an asynchronous JoinAns before it gives the join up. Joinery
 * POSTs the answer as soon as it is computed (milliseconds); a second leaves ChirpStack the rest
 * of the 5 s JOIN_ACCEPT_DELAY1 for the downlink.
 */
export const CHIRPSTACK_ASYNC_TIMEOUT = '1s';

/**
 * The `chirpstack.toml` fragment that points ChirpStack v4 at this Join Server: one
 * `[[join_server.servers]]` per JoinEUI range (first match in file order wins, so the fragment
 * goes before any catch-all entry), and the `[[keks]]` entry that unwraps the session keys.
 * Never the obsolete `async_interface` keys (v4 ignores them silently).
 *
 * With asynchronous answers, `async_timeout` is above zero (ChirpStack then takes an empty
 * 200 and waits for the answer on its `[backend_interfaces]` listener) and that listener is
 * rendered: `bind` on the answer URL's port, `ca_cert` = Joinery's CA (ChirpStack accepts a
 * client certificate only from it: Joinery's `js-client` certificate), `tls_cert`/`tls_key`
 * its server certificate. Synchronous: `async_timeout = "0s"`, ChirpStack reads the answer
 * from the HTTP response. A header secret goes into `authorization_header`, which ChirpStack
 * sends verbatim as the `Authorization` header.
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
      `  join_eui_prefix = ${q(p.text)}`,
      `  server = ${q(input.biURL)}`,
      `  async_timeout = ${q(input.asyncAnswers ? CHIRPSTACK_ASYNC_TIMEOUT : '0s')}`,
      `  ca_cert = ${q(file('ca.crt'))}`,
      `  tls_cert = ${q(file('client.crt'))}`,
      `  tls_key = ${q(file('client.key'))}`,
      ...(input.authorizationHeader !== null ? [`  authorization_header = ${q(input.authorizationHeader)}`] : []),
      '',
    );
  }
  lines.push('[[keks]]', `  label = ${q(input.kek.label)}`, `  kek = ${q(input.kek.kekHex)}`, '');
  const listener = input.asyncAnswers ? asyncListener(input.asyncAnswers.url) : null;
  if (listener) {
    lines.push(
      '# Joinery POSTs its answers here (mutual TLS: only a client certificate issued by ca.crt is accepted).',
      '# ChirpStack has one [backend_interfaces] section: merge with yours if you have one already.',
      '[backend_interfaces]',
      `  bind = ${q(listener.bind)}`,
      `  ca_cert = ${q(file('ca.crt'))}`,
      `  tls_cert = ${q(file(ASYNC_LISTENER_FILES.cert))}`,
      `  tls_key = ${q(file(ASYNC_LISTENER_FILES.key))}`,
      '',
    );
  }
  const copied = ['ca.crt', 'client.crt', 'client.key', ...(listener ? [ASYNC_LISTENER_FILES.cert, ASYNC_LISTENER_FILES.key] : [])];
  return {
    files: [{ name: 'chirpstack.toml', content: lines.join('\n'), secret: true }],
    instructions: [
      `Copy ${copied.slice(0, -1).join(', ')} and ${copied[copied.length - 1]} to ${input.installDir} on the ChirpStack host (the .key files readable by ChirpStack only).`,
      `Merge chirpstack.toml into your chirpstack.toml (it holds the KEK${input.authorizationHeader !== null ? ' and the Authorization header secret' : ''}: keep it secret), then restart ChirpStack.`,
      `Check that [network] net_id is ${input.netID}: Joinery identifies ChirpStack by its NetID and client certificate.`,
      ...(listener
        ? [
            input.asyncAnswers?.listenerCertificate === 'own'
              ? `Asynchronous answers: put your listener's certificate and key (the CA you gave with --async-answer-ca issued it, for ${listener.host}) at ${file(ASYNC_LISTENER_FILES.cert)} and ${file(ASYNC_LISTENER_FILES.key)} (PKCS#8).`
              : `Asynchronous answers: ChirpStack listens on ${listener.bind} with ${ASYNC_LISTENER_FILES.cert} (issued by Joinery's CA for ${listener.host}); Joinery POSTs every answer to ${input.asyncAnswers?.url}, so that port must be reachable from Joinery.`,
          ]
        : []),
      'Devices joined through Joinery must have no keys in ChirpStack (joinery ns sync creates them without keys).',
    ],
  };
}

/** ChirpStack's listener for an answer URL: it binds every interface on the URL's port. */
function asyncListener(url: string): { readonly bind: string; readonly host: string } {
  const u = new URL(url);
  const port = u.port !== '' ? u.port : '443';
  return { bind: `0.0.0.0:${port}`, host: u.hostname.replace(/^\[(.*)\]$/, '$1') };
}

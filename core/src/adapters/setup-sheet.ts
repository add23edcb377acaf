import type { JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import type { AdapterSetupInput, RenderedSetup } from './adapter-setup';

/** What a vendor adds to the common setup sheet. */
export interface SetupSheetVendor {
  /** The vendor id (`actility`, ...), written into the JSON. */
  readonly vendor: string;
  /** The product's name, for the title (`Actility ThingPark`). */
  readonly title: string;
  /** Who applies the sheet on the vendor's side and how: Markdown paragraphs. */
  readonly how: readonly string[];
  /** Vendor values beyond the common ones (LORIOT's joinServerId, ...), in the JSON's `vendorSettings`. */
  readonly settings?: ReadonlyArray<{ readonly key: string; readonly label: string; readonly value: string }>;
  /** The operator's steps (after the common first one: send the sheet over a secure channel). */
  readonly instructions: readonly string[];
}

/** The JSON form of a setup sheet (`setup-sheet.json`): every value the network server's operator enters. */
export interface SetupSheet {
  readonly sheet: 'joinery-external-join-server';
  readonly version: 1;
  readonly vendor: string;
  readonly peer: string;
  readonly joinServer: {
    readonly url: string;
    readonly protocol: 'BI1.0' | 'BI1.1';
    readonly transport: 'HTTPS POST, JSON, mutual TLS';
    readonly messages: readonly string[];
    /** The `Authorization` header every request must carry (a secret), or null. */
    readonly authorizationHeader: string | null;
    /** Where Joinery POSTs answers (the network server's own listener), or null: answers in the HTTP response. */
    readonly asyncAnswerURL: string | null;
  };
  readonly networkServer: { readonly netID: string; readonly nsID: string | null };
  readonly joinEUIRanges: ReadonlyArray<{ readonly prefix: string; readonly first: string; readonly last: string }>;
  readonly tls: {
    readonly caCertificate: { readonly file: 'ca.crt'; readonly pem: string | null };
    readonly clientCertificate: { readonly file: 'client.crt'; readonly pem: string | null };
    readonly clientKey: { readonly file: 'client.key' };
  };
  readonly kek: { readonly label: string; readonly kek: string; readonly algorithm: 'AES-128 key wrap (RFC 3394)' };
  readonly vendorSettings: Readonly<Record<string, string>>;
}

/**
 * A setup sheet for a network server whose operator declares external Join Servers by hand
 * (Actility, LORIOT, Orbiwise publish no configuration file format for it): the same values as
 * Markdown (`setup-sheet.md`) and JSON (`setup-sheet.json`). Both carry the KEK, the peer's
 * transport key as in the bundle's kek.json (and the header secret, if any), so both are secret (0600); neither carries a
 * device root key nor the client's private key (client.key stays a file).
 */
export function renderSetupSheet(input: AdapterSetupInput, vendor: SetupSheetVendor): RenderedSetup {
  if (input.joinEUIPrefixes.length === 0) throw new Error(`${vendor.vendor} setup: at least one JoinEUI prefix is needed`);
  const url = new URL(input.biURL);
  if (url.protocol !== 'https:') throw new Error(`${vendor.vendor} setup: the Join Server URL must be https`);
  if (!/^[0-9a-fA-F]{32}$/.test(input.kek.kekHex)) throw new Error(`${vendor.vendor} setup: the KEK must be 32 hex digits`);
  const sheet: SetupSheet = {
    sheet: 'joinery-external-join-server',
    version: 1,
    vendor: vendor.vendor,
    peer: input.name,
    joinServer: {
      url: input.biURL,
      protocol: input.nsID ? 'BI1.1' : 'BI1.0',
      transport: 'HTTPS POST, JSON, mutual TLS',
      messages: ['JoinReq', 'RejoinReq', 'HomeNSReq', 'AppSKeyReq'],
      authorizationHeader: input.authorizationHeader,
      asyncAnswerURL: input.asyncAnswers?.url ?? null,
    },
    networkServer: { netID: input.netID.toUpperCase(), nsID: input.nsID ? input.nsID.toUpperCase() : null },
    joinEUIRanges: input.joinEUIPrefixes.map(joinEUIRange),
    tls: {
      caCertificate: { file: 'ca.crt', pem: input.caCertificatePEM ?? null },
      clientCertificate: { file: 'client.crt', pem: input.clientCertificatePEM ?? null },
      clientKey: { file: 'client.key' },
    },
    kek: { label: input.kek.label, kek: input.kek.kekHex.toUpperCase(), algorithm: 'AES-128 key wrap (RFC 3394)' },
    vendorSettings: Object.fromEntries((vendor.settings ?? []).map((s) => [s.key, s.value])),
  };
  return {
    files: [
      { name: 'setup-sheet.md', content: markdown(sheet, vendor), secret: true },
      { name: 'setup-sheet.json', content: `${JSON.stringify(sheet, null, 2)}\n`, secret: true },
    ],
    instructions: [
      `Send setup-sheet.md (or setup-sheet.json), ca.crt, client.crt and client.key to the ${vendor.title} operator over a secure channel: the sheets and client.key are secret (the KEK, the TLS key).`,
      ...vendor.instructions,
    ],
  };
}

function joinEUIRange(p: JoinEUIPrefix): { prefix: string; first: string; last: string } {
  const span = p.bits === 64 ? 0n : (1n << BigInt(64 - p.bits)) - 1n;
  const hex = (v: bigint): string => v.toString(16).padStart(16, '0').toUpperCase();
  return { prefix: `${hex(p.prefix)}/${p.bits}`, first: hex(p.prefix), last: hex(p.prefix | span) };
}

function markdown(s: SetupSheet, vendor: SetupSheetVendor): string {
  const row = (label: string, value: string): string => `| ${label} | ${value.replace(/\|/g, '\\|')} |`;
  const pem = (title: string, file: string, value: string | null): string[] =>
    value === null ? [`**${title}**: the file \`${file}\` of the bundle.`, ''] : [`**${title}** (\`${file}\`):`, '', '```', value.trim(), '```', ''];
  return [
    `# ${vendor.title}: external Join Server "${s.peer}" (Joinery)`,
    '',
    '> SECRET: this sheet holds the KEK. Send it over a secure channel only; keep it 0600.',
    '',
    ...vendor.how.flatMap((p) => [p, '']),
    '## Join Server',
    '',
    '| Setting | Value |',
    '|---|---|',
    row('Join Server URL', s.joinServer.url),
    row('Protocol', `LoRaWAN Backend Interfaces ${s.joinServer.protocol === 'BI1.1' ? '1.1' : '1.0'}, ${s.joinServer.transport}`),
    row('Messages', s.joinServer.messages.join(', ')),
    row('Authorization header', s.joinServer.authorizationHeader === null ? 'none' : `\`${s.joinServer.authorizationHeader}\` (secret: sent on every request)`),
    row('Answers', s.joinServer.asyncAnswerURL === null ? 'synchronous (in the HTTP response)' : `asynchronous: an empty HTTP 200 at once, the answer POSTed to ${s.joinServer.asyncAnswerURL}`),
    row('SenderID (your NetID)', s.networkServer.netID),
    ...(s.networkServer.nsID ? [row('SenderNSID (your NSID)', s.networkServer.nsID)] : []),
    row('KEK label', s.kek.label),
    row('KEK', `${s.kek.kek} (${s.kek.algorithm})`),
    ...(vendor.settings ?? []).map((v) => row(v.label, v.value)),
    '',
    '## JoinEUI ranges routed to this Join Server',
    '',
    '| Prefix | First JoinEUI | Last JoinEUI |',
    '|---|---|---|',
    ...s.joinEUIRanges.map((r) => `| ${r.prefix} | ${r.first} | ${r.last} |`),
    '',
    '## TLS',
    '',
    ...pem('CA certificate (trust anchor of the Join Server)', s.tls.caCertificate.file, s.tls.caCertificate.pem),
    ...pem('Client certificate (identifies your network server)', s.tls.clientCertificate.file, s.tls.clientCertificate.pem),
    '**Client key**: the file `client.key` of the bundle (PEM, PKCS#8; secret, not copied into this sheet).',
    '',
  ].join('\n');
}

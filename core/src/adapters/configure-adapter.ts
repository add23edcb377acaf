import * as path from 'node:path';
import { parseJoinEUIPrefix, type JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import type { PeerAdapterSettings } from '../peers/peer-settings';
import type { AdapterSetupInput, RenderedSetup } from './adapter-setup';
import { loadAdapter } from './load-adapter';
import type { AdapterModule } from './network-server-adapter';

/** A network server's management API, as `ns add` flags or the admin API give it. */
export interface AdapterConfiguration {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface ConfiguredAdapter {
  readonly module: AdapterModule;
  /** What the peer's settings keep (never the API key). */
  readonly settings: PeerAdapterSettings;
  /** The configured adapter's renderSetup (it may add what its options know, e.g. LORIOT's joinServerId). */
  readonly render: (input: AdapterSetupInput) => RenderedSetup;
}

/**
 * Loads the vendor's adapter package and checks a configuration before anything is registered:
 * an option the adapter does not read, or a value it refuses, throws ParseError (`where` names
 * the option as the caller's user knows it: a flag, a JSON field).
 */
export async function configureAdapter(vendor: string, config: AdapterConfiguration, where: (option: string) => string = (o) => o): Promise<ConfiguredAdapter> {
  const module = loadAdapter(vendor);
  for (const option of Object.keys(config.options)) {
    if (!(option in module.optionHelp)) throw new ParseError(where(option), `is not an option of the ${vendor} adapter`);
  }
  const settings: PeerAdapterSettings = { apiUrl: config.apiUrl, options: { ...config.options } };
  const adapter = module.createAdapter({ apiUrl: settings.apiUrl, apiKey: config.apiKey, options: settings.options }); // validates, throws ParseError
  await adapter.close(); // renderSetup needs no connection
  return { module, settings, render: (input) => adapter.renderSetup(input) };
}

/** The JoinEUI ranges a network server sends to Joinery (default: all). */
export function joinEUIPrefixesFrom(prefixes: readonly string[] | undefined, where: string): JoinEUIPrefix[] {
  return (prefixes ?? ['0000000000000000/0']).map((p) => parseJoinEUIPrefix(p, where));
}

/** Where the bundle's files sit on the network server's host (absolute): given, or the vendor's usual place. */
export function setupInstallDir(vendor: string, peerName: string, given: string | undefined, where: string): string {
  const dir = given ?? (vendor === 'chirpstack' ? `/etc/chirpstack/joinery-${peerName}` : `/etc/joinery-${peerName}`);
  if (!path.isAbsolute(dir)) throw new ParseError(where, 'must be an absolute path');
  return dir;
}

/** The setup input from a credential bundle's files (kek.json, ca.crt, client.crt). */
export function setupInputFromBundle(
  bundle: { readonly kekJSON: string; readonly caCertificatePEM: string; readonly clientCertificatePEM: string },
  peer: { readonly name: string; readonly netID: string; readonly nsID: string | null; readonly biURL: string },
  connection: Pick<AdapterSetupInput, 'authorizationHeader' | 'asyncAnswers'>,
  joinEUIPrefixes: readonly JoinEUIPrefix[],
  installDir: string,
): AdapterSetupInput {
  const kek = JSON.parse(bundle.kekJSON) as { label: string; kek: string };
  return {
    ...peer,
    ...connection,
    joinEUIPrefixes,
    kek: { label: kek.label, kekHex: kek.kek },
    installDir,
    caCertificatePEM: bundle.caCertificatePEM,
    clientCertificatePEM: bundle.clientCertificatePEM,
  };
}

/** SETUP.txt: the adapter's steps, numbered, and which files carry a secret. */
export function setupSheet(vendor: string, peerName: string, rendered: RenderedSetup): string {
  const steps = rendered.instructions.map((s, i) => `${i + 1}. ${s}`).join('\n');
  return `Setting up ${vendor} for Joinery (${peerName})\n\n${steps}\n\nFiles: ${rendered.files.map((f) => `${f.name}${f.secret ? ' (secret: holds the KEK)' : ''}`).join(', ')}\n`;
}

import type { Command } from 'commander';
import { SETTINGS, settingsFor, type SettingDefinition } from '../config/config-schema';
import { parseBackendSettings, type BackendSettings } from '../server/backend-settings';
import { openBackends, type Backends } from '../server/open-backends';
import { parseListenAddress } from '../server/listen-address';
import { defaultPublicURL } from '../server/public-url';
import { withSettings } from './setting-options';

export interface BackendFlags {
  readonly dataDir: string;
  readonly store?: string;
  readonly vault?: string;
  readonly pkcs11Lib?: string;
  readonly pkcs11Token?: string;
  readonly pkcs11PinFile?: string;
}

/**
 * The backend flags every command takes (design.md, "Selecting backends"), each with its
 * JOINERY_* variable, and `--config` (the configuration file's backend settings apply too).
 * Generated from the configuration schema (config/config-schema.ts).
 */
export function withBackendOptions(cmd: Command, serverSettings: readonly SettingDefinition[] = []): Command {
  withSettings(cmd, serverSettings, { hidden: true });
  return withSettings(cmd, settingsFor('backend'));
}

/**
 * Where the server listens and the names it is reached by (`bi.listen`, `bi.public_hosts`):
 * what `ns add` and `as add` derive a bundle's BI URL from when `--public-url` is not given,
 * read from the same file, environment or (hidden) flags as `serve` reads them.
 */
export const SERVER_ADDRESS_SETTINGS: readonly SettingDefinition[] = SETTINGS.filter((s) => s.key === 'bi.listen' || s.key === 'bi.public_hosts');

/** The flags SERVER_ADDRESS_SETTINGS give a command. */
export interface ServerAddressFlags {
  readonly publicHost?: string[];
  readonly biListen: string;
}

/** The BI URL's base when none is given: what the server of the same configuration is reached at (defaultPublicURL). */
export function configuredPublicURL(flags: ServerAddressFlags): string {
  return defaultPublicURL(flags.publicHost ?? [], parseListenAddress(flags.biListen, '--bi-listen').port);
}

export function backendSettings(flags: BackendFlags): BackendSettings {
  return parseBackendSettings(flags);
}

/** The backends of a read-only command: refused, creating nothing, where there is no Joinery data. */
export function openExistingBackends(flags: BackendFlags): Promise<Backends> {
  return openBackends(backendSettings(flags), process.env, { existing: true });
}

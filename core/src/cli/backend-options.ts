import type { Command } from 'commander';
import { settingsFor } from '../config/config-schema';
import { parseBackendSettings, type BackendSettings } from '../server/backend-settings';
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
export function withBackendOptions(cmd: Command): Command {
  return withSettings(cmd, settingsFor('backend'));
}

export function backendSettings(flags: BackendFlags): BackendSettings {
  return parseBackendSettings(flags);
}

import { Option, type Command } from 'commander';
import { DEFAULT_DATA_DIR, parseBackendSettings, type BackendSettings } from '../server/backend-settings';

export interface BackendFlags {
  readonly dataDir: string;
  readonly store?: string;
  readonly vault?: string;
  readonly pkcs11Lib?: string;
  readonly pkcs11Token?: string;
  readonly pkcs11PinFile?: string;
}

/** The backend flags every command takes (design.md, "Selecting backends"), each with its JOINERY_* variable. */
export function withBackendOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory: database, master key, CA').env('JOINERY_DATA_DIR').default(DEFAULT_DATA_DIR))
    .addOption(new Option('--store <url>', 'store: sqlite:<path> (default <data-dir>/joinery.db) or postgres://...').env('JOINERY_STORE'))
    .addOption(new Option('--vault <kind>', 'key vault: software (default) or pkcs11').env('JOINERY_VAULT'))
    .addOption(new Option('--pkcs11-lib <path>', 'PKCS#11 module (with --vault pkcs11)').env('JOINERY_PKCS11_LIB'))
    .addOption(new Option('--pkcs11-token <label>', 'PKCS#11 token label (with --vault pkcs11)').env('JOINERY_PKCS11_TOKEN'))
    .addOption(new Option('--pkcs11-pin-file <path>', 'file holding the PKCS#11 user PIN (or JOINERY_PKCS11_PIN)').env('JOINERY_PKCS11_PIN_FILE'));
}

export function backendSettings(flags: BackendFlags): BackendSettings {
  return parseBackendSettings(flags);
}

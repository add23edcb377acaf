import { promises as fs, constants as fsConstants } from 'node:fs';
import { ParseError } from '../lorawan/parse-error';
import { Pkcs11VaultError } from './pkcs11-error';
import { Pkcs11KeyVault } from './pkcs11-vault';

/** The environment variable that may carry the PKCS#11 user PIN (instead of a PIN file). */
export const PKCS11_PIN_ENV = 'JOINERY_PKCS11_PIN';
/** Sessions of the vault's pool (default 8): how many HSM operations run at once. */
export const PKCS11_SESSIONS_ENV = 'JOINERY_PKCS11_SESSIONS';

export interface Pkcs11VaultSettings {
  readonly library: string | undefined;
  readonly tokenLabel: string | undefined;
  readonly pinFile: string | undefined;
}

/**
 * Opens the PKCS#11 vault from the backend settings (`--pkcs11-lib`, `--pkcs11-token`,
 * `--pkcs11-pin-file` or `JOINERY_PKCS11_PIN`). What is missing or wrong is said plainly; the
 * PIN itself never appears in a message.
 */
export async function openPkcs11Vault(settings: Pkcs11VaultSettings, env: NodeJS.ProcessEnv = process.env, options: { readonly cacheSize?: number } = {}): Promise<Pkcs11KeyVault> {
  const library = settings.library?.trim();
  if (!library) {
    throw new ParseError('--pkcs11-lib', "the PKCS#11 vault needs the HSM's PKCS#11 module (or JOINERY_PKCS11_LIB), e.g. /usr/lib/softhsm/libsofthsm2.so");
  }
  const tokenLabel = settings.tokenLabel;
  if (tokenLabel === undefined || tokenLabel.trim() === '') {
    throw new ParseError('--pkcs11-token', "the PKCS#11 vault needs the label of the token holding Joinery's keys (or JOINERY_PKCS11_TOKEN)");
  }
  const pin = await readPin(settings.pinFile, env);
  const sessions = parseSessions(env[PKCS11_SESSIONS_ENV]);
  return Pkcs11KeyVault.open({ library, tokenLabel, pin, ...(sessions !== undefined ? { sessions } : {}), ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}) });
}

async function readPin(pinFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env[PKCS11_PIN_ENV];
  if (pinFile !== undefined && pinFile !== '') {
    if (fromEnv !== undefined && fromEnv !== '') {
      throw new ParseError('--pkcs11-pin-file', `give the PKCS#11 PIN once: either a PIN file or ${PKCS11_PIN_ENV}, not both`);
    }
    return readPinFile(pinFile);
  }
  if (fromEnv === undefined || fromEnv === '') {
    throw new ParseError('--pkcs11-pin-file', `the PKCS#11 vault needs the token's user PIN: a file (--pkcs11-pin-file, JOINERY_PKCS11_PIN_FILE) or ${PKCS11_PIN_ENV}`);
  }
  return fromEnv;
}

/** The PIN file's content without its final line break. Like the master key, it must be private (mode 0600). */
async function readPinFile(file: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Pkcs11VaultError(`${file}: cannot open the PKCS#11 PIN file (${code})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Pkcs11VaultError(`${file}: the PKCS#11 PIN file is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new Pkcs11VaultError(`${file}: the PKCS#11 PIN file has mode ${mode}, so group or others can access it; refusing to use it. Restrict it with: chmod 600 ${file}`);
    }
    const pin = (await handle.readFile({ encoding: 'utf8' })).replace(/\r?\n$/, '');
    if (pin === '') throw new Pkcs11VaultError(`${file}: the PKCS#11 PIN file is empty`);
    return pin;
  } finally {
    await handle.close();
  }
}

function parseSessions(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new ParseError(PKCS11_SESSIONS_ENV, `expected a whole number of sessions from 1 to 1024, got "${value}"`);
  return n;
}

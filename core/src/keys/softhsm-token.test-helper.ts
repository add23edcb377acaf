import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

/**
 * Test support: temporary SoftHSM2 tokens for the PKCS#11 key vault, usable in-process (jest)
 * and from the `joinery` processes a test spawns (pass `env` and `cliArgs`).
 *
 * SoftHSM2 finds its tokens through SOFTHSM2_CONF, read from the real process environment when
 * the module is initialised; jest's global setup (test/jest/softhsm-global-setup.js) points it at
 * a temporary directory before the workers start. Each call here initialises a new token there
 * (`softhsm2-util --init-token --free`) with its own label and PINs. Tokens must exist before
 * the first vault of a test file opens: a module lists its slots when it is initialised.
 */
export const SOFTHSM_LIBRARY = process.env['JOINERY_TEST_PKCS11_LIB'] ?? '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  readonly library: string;
  readonly label: string;
  readonly pin: string;
  readonly soPin: string;
  /** The SoftHSM2 configuration (SOFTHSM2_CONF) the token lives under. */
  readonly conf: string;
  /** Environment for a `joinery` process using this token. */
  readonly env: Readonly<Record<string, string>>;
  /** Backend flags for a `joinery` command using this token. */
  readonly cliArgs: readonly string[];
}

/** Why SoftHSM2 tests cannot run here, or null when they can. */
export function softHsmUnavailable(): string | null {
  if (!existsSync(SOFTHSM_LIBRARY)) return `${SOFTHSM_LIBRARY} is missing: install SoftHSM2 (apt-get install softhsm2)`;
  const conf = process.env['SOFTHSM2_CONF'];
  if (!conf || !existsSync(conf)) {
    return 'SOFTHSM2_CONF is not set to a temporary configuration: run the tests through jest (its global setup, test/jest/softhsm-global-setup.js, creates one) with softhsm2 installed';
  }
  return null;
}

/** Initialises a new token labelled `<prefix>-<random>` (at most 32 characters). */
export function createSoftHsmToken(prefix = 'joinery-test'): SoftHsmToken {
  const unavailable = softHsmUnavailable();
  if (unavailable) throw new Error(unavailable);
  const conf = process.env['SOFTHSM2_CONF']!;
  const label = `${prefix.slice(0, 20)}-${randomBytes(5).toString('hex')}`;
  const pin = randomBytes(8).toString('hex');
  const soPin = randomBytes(8).toString('hex');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return {
    library: SOFTHSM_LIBRARY,
    label,
    pin,
    soPin,
    conf,
    env: { SOFTHSM2_CONF: conf, JOINERY_PKCS11_PIN: pin },
    cliArgs: ['--vault', 'pkcs11', '--pkcs11-lib', SOFTHSM_LIBRARY, '--pkcs11-token', label],
  };
}

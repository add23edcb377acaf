/**
 * Jest global setup (runs once, in jest's own process, before the workers start): a temporary
 * SoftHSM2 configuration whose token directory lives under the OS temp dir, exported as
 * SOFTHSM2_CONF so every worker, and every `joinery` process a test spawns, inherits it.
 * SoftHSM2 reads SOFTHSM2_CONF from the real process environment when the module is
 * initialised, and a test cannot set that itself (jest gives each test file a copy of
 * process.env), hence this step. Tests then create their own tokens in it
 * (core/src/keys/softhsm-token.test-helper.ts). Without softhsm2 installed this does nothing,
 * and the PKCS#11 tests say what to install.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async function softhsmGlobalSetup() {
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'joinery-softhsm-'));
  const tokens = path.join(dir, 'tokens');
  fs.mkdirSync(tokens, { mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  process.env.JOINERY_TEST_SOFTHSM_DIR = dir;
};

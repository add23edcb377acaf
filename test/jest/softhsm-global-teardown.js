/** Jest global teardown: removes the temporary SoftHSM2 token directory of softhsm-global-setup.js. */
const fs = require('node:fs');

module.exports = async function softhsmGlobalTeardown() {
  const dir = process.env.JOINERY_TEST_SOFTHSM_DIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};

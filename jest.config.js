/** Jest runs the TypeScript sources directly (ts-jest, transpile only); `npm test` type-checks first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/core/src', '<rootDir>/test/src', '<rootDir>/adapters'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.typecheck.json' }] },
  moduleNameMapper: {
    '^@joinery/core$': '<rootDir>/core/src/index.ts',
    '^@joinery/adapter-([a-z0-9-]+)$': '<rootDir>/adapters/$1/src/index.ts',
  },
  testTimeout: 60000,
  // After the last suite, the in-band jest process was seen spinning in node's exit-time handle
  // cleanup (Environment::CleanupHandles) instead of exiting: a request some suite leaves
  // pending. Until that suite is found, jest ends the process itself once every result is in.
  forceExit: true,
  // A temporary SoftHSM2 token directory (SOFTHSM2_CONF) for the PKCS#11 key vault's tests.
  globalSetup: '<rootDir>/test/jest/softhsm-global-setup.js',
  globalTeardown: '<rootDir>/test/jest/softhsm-global-teardown.js',
};

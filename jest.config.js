/**
 * Jest runs the TypeScript sources directly (ts-jest, transpile only); `npm test` type-checks,
 * lints and checks the architecture first, then runs both projects.
 *
 * Two projects:
 * - `unit` (`npm run test:unit`, well under a minute): every test that runs inside the jest
 *   process: pure units, worker threads, SoftHSM through PKCS#11 (a library loaded in-process),
 *   SQLite files, and fake network servers listening on loopback inside the test itself.
 *   Rule: a suite is a unit suite when it starts no `joinery` (or other) child process, no
 *   browser, needs no PostgreSQL server, and takes seconds, not minutes. Every test beside its
 *   source (core/src, each adapter's src and its test folder, where its fake lives too) must be
 *   such a suite; under test/src, the in-process suites are listed in IN_PROCESS_TESTS below.
 * - `integration` (`npm run test:integration`): the rest of test/src: the CLI and server spawned
 *   as a user runs them, PostgreSQL, the console in Chromium, the end-to-end joins and
 *   migrations against fake network servers.
 */

/** Suites under test/src that run in-process and quickly (measured on the loaded 2-core machine: most under 5 s, none over 12 s). */
const IN_PROCESS_TESTS = [
  '<rootDir>/test/src/adapters/',
  '<rootDir>/test/src/bench/join-trace.test.ts',
  '<rootDir>/test/src/bench/open-loop.test.ts',
  '<rootDir>/test/src/bench/pg-query-counter.test.ts',
  '<rootDir>/test/src/console/claim-input.test.ts',
  '<rootDir>/test/src/fuzz/fuzz-tools.test.ts',
  '<rootDir>/test/src/ops/docs-metrics.test.ts',
  '<rootDir>/test/src/ops/grafana-dashboard.test.ts',
  '<rootDir>/test/src/ops/prometheus-alerts.test.ts',
  '<rootDir>/test/src/support/',
];

/** What both projects share: how TypeScript and the workspace packages resolve. */
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.typecheck.json' }] },
  moduleNameMapper: {
    '^@joinery/core$': '<rootDir>/core/src/index.ts',
    '^@joinery/adapter-([a-z0-9-]+)$': '<rootDir>/adapters/$1/src/index.ts',
  },
};

/** A path as a regular expression for testPathIgnorePatterns (`<rootDir>` is replaced by jest). */
const pattern = (p) => p.replace(/[.]/g, '\\.');

module.exports = {
  projects: [
    {
      ...base,
      displayName: 'unit',
      roots: ['<rootDir>/core/src', '<rootDir>/adapters', '<rootDir>/test/src'],
      testMatch: ['<rootDir>/core/src/**/*.test.ts', '<rootDir>/adapters/*/src/**/*.test.ts', '<rootDir>/adapters/*/test/**/*.test.ts', ...IN_PROCESS_TESTS.map((p) => (p.endsWith('/') ? `${p}**/*.test.ts` : p))],
    },
    {
      ...base,
      displayName: 'integration',
      roots: ['<rootDir>/test/src'],
      testMatch: ['<rootDir>/test/src/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...IN_PROCESS_TESTS.map(pattern)],
    },
  ],
  testTimeout: 60000,
  // No forceExit: jest waits for the process to exit by itself, so a suite that leaves a handle
  // open shows. (The in-band process once spun in node's exit-time handle cleanup: the outage
  // tests' TCP proxy reset a socket whose shutdown was pending, test/src/support/tcp-proxy.ts.)
  // A temporary SoftHSM2 token directory (SOFTHSM2_CONF) for the PKCS#11 key vault's tests, in
  // both projects (set once, before any worker starts).
  globalSetup: '<rootDir>/test/jest/softhsm-global-setup.js',
  globalTeardown: '<rootDir>/test/jest/softhsm-global-teardown.js',
};

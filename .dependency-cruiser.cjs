/**
 * Architecture rules (`npm run depcruise`, part of `npm test`), checked by dependency-cruiser on
 * the TypeScript sources, type-only imports included (a type is a dependency of the design even
 * when the compiler erases it). docs/architecture.md draws the layers these rules hold.
 *
 * The layer rules speak of source files: a test beside its source (`*.test.ts`, and the
 * `*.test-helper.ts` files tests share) may also use the test libraries and helpers it needs.
 */
const TESTS = '[.]test(-helper)?[.]ts$';

/** What every file may use besides its own layer: node's builtins. */
const BUILTINS = { dependencyTypes: ['core'] };

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form no import cycle: each layer uses only the ones below it, and one concept per file leaves no two files needing each other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lorawan-is-the-bottom',
      severity: 'error',
      comment: 'core/src/lorawan (frames, identifiers, key derivations) uses nothing but its own files and node builtins.',
      from: { path: '^core/src/lorawan/', pathNot: TESTS },
      to: { pathNot: ['^core/src/lorawan/'], dependencyTypesNot: BUILTINS.dependencyTypes },
    },
    {
      name: 'join-engine-uses-ports-only',
      severity: 'error',
      comment:
        "core/src/join uses its own files, core/src/lorawan, the key vault's port (core/src/keys/key-vault.ts), the store's ports " +
        '(core/src/store/ports/) and the entity types they speak of (the type files directly in core/src/store/), and the peer it answers ' +
        "(core/src/peers/peer.ts, vendor.ts, vendor-dialect.ts: plain data, the dialect deciding the answer's shape): never a store, a vault or a service behind them.",
      from: { path: '^core/src/join/', pathNot: TESTS },
      to: {
        pathNot: ['^core/src/join/', '^core/src/lorawan/', '^core/src/keys/key-vault[.]ts$', '^core/src/store/ports/', '^core/src/store/[^/]+[.]ts$', '^core/src/peers/(peer|vendor|vendor-dialect)[.]ts$'],
        dependencyTypesNot: BUILTINS.dependencyTypes,
      },
    },
    {
      name: 'join-engine-store-ports-are-types',
      severity: 'error',
      comment:
        "What core/src/join takes from core/src/store directly (until the store split gives it core/src/store/ports/) is the store's types and port, " +
        'not a store or its machinery: no SQLite or PostgreSQL store, no group commit, change watch, peer cache or row mapping.',
      from: { path: '^core/src/join/', pathNot: TESTS },
      to: { path: '^core/src/store/(sqlite|postgres)/|^core/src/store/(group-commit|change-watch|peer-cache|row-mapping)[.]ts$' },
    },
    {
      name: 'adapters-use-the-public-core',
      severity: 'error',
      comment: "An adapter uses @joinery/core's public index (core/src/index.ts) and its own files: never core's internals, never another adapter.",
      from: { path: '^adapters/([^/]+)/src/', pathNot: TESTS },
      to: {
        path: '^(core|adapters|console|test|bench|examples)/',
        pathNot: ['^core/src/index[.]ts$', '^adapters/$1/'],
      },
    },
    {
      name: 'core-never-imports-an-adapter',
      severity: 'error',
      comment: 'Core loads adapters at run time by package name (core/src/adapters/load-adapter.ts); it never imports one.',
      from: { path: '^core/src/', pathNot: TESTS },
      to: { path: '^adapters/' },
    },
    {
      name: 'console-uses-no-core-internals',
      severity: 'error',
      comment: "The console is a browser app on the admin API: it imports no file of core's (at most the public index's types), no adapter, no test code.",
      from: { path: '^console/src/' },
      to: { path: '^(core|adapters|test|bench)/', pathNot: ['^core/src/index[.]ts$'] },
    },
    {
      name: 'sources-use-no-test-code',
      severity: 'error',
      comment: 'Shipped code never imports a test, a test helper or test/src.',
      from: { path: '^(core|adapters|console|bench)/src/', pathNot: TESTS },
      to: { path: ['^test/', TESTS] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a missing package or a mistyped path).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.typecheck.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

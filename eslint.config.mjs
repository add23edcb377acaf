/**
 * Lint (`npm run lint`, part of `npm test`): ESLint's and typescript-eslint's recommended rules
 * (the syntactic set: the type-checked set would type-check the whole workspace a second time,
 * and `npm run typecheck` already does), React's rules of hooks for the console (Preact hooks
 * follow the same rules; an effect that runs on fewer dependencies than it reads says why).
 * Formatting is prettier's (`.prettierrc`), not ESLint's.
 *
 * Tuned, and why:
 * - no-explicit-any: off in tests and their support code, which read JSON answers and fake
 *   servers' bodies freely; on in every source file.
 * - no-unused-vars: a leading underscore marks a parameter or binding kept on purpose (an
 *   interface's argument, a property dropped by destructuring); a catch may ignore its error.
 * - no-require-imports: `import x = require(…)` is TypeScript's own CommonJS import; smol-toml
 *   ships CommonJS but declares ESM types only, so it is required. The plain `.js` files are
 *   CommonJS and require freely.
 * - prefer-const: a destructuring `let` whose bindings are not all reassigned stays one `let`.
 * - no-this-alias: `const self = this` is how a nested function reaches a `#private` field.
 * - preserve-caught-error: off. Our errors are rewritten into the sentence a user reads, with
 *   what matters of the original in it; a `cause` would carry the whole original along (a key
 *   parser's error, a driver's error with its connection string) into every log that prints it.
 * - no-useless-assignment: off. It flags `let x: T | null = null; try { x = … }`, the form
 *   TypeScript's definite-assignment analysis wants when the try may throw.
 * - no-control-regex: off. The control characters in our patterns are the point (refusing them
 *   in names and config values, matching terminal escapes in the progress bar's test).
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'test/artifacts/**', '.tmp/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true, allow: ['^smol-toml$'] }],
      'prefer-const': ['error', { destructuring: 'all' }],
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      'preserve-caught-error': 'off',
      'no-useless-assignment': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**', 'adapters/*/test/**', '**/*.test.ts', '**/*.test-helper.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['console/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
);

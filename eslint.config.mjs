// ESLint with typescript-eslint's type-aware rules over the TypeScript sources (extension, language
// front ends, webview, tests). `npm run lint`; CI runs it as its own step.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.e2e/**', 'samples/**', 'test/fixtures/models/**', 'scripts/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // tsc reports unused locals and parameters (noUnusedLocals, noUnusedParameters).
      '@typescript-eslint/no-unused-vars': 'off',
      // An async function without await still turns a throw into a rejection, which callers of
      // VS Code's provider APIs and of the engine bundle rely on.
      '@typescript-eslint/require-await': 'off',
      // Rejections and throws forward what they caught as it is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `import x = require('m')` is TypeScript's typed form of a CommonJS import.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // node:test runs the promise test() and describe() return; nothing awaits them by design.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
    },
  },
  // Small functions in the product code: one job each, readable in one screen.
  {
    files: ['extension/**/*.ts', 'language/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, IIFEs: true }] },
  },
);

// ESLint (flat config) with typescript-eslint's type-aware rules, run by
// `npm run lint` inside `npm test` (issue 10, "Code health"). Formatting is
// Prettier's job (.prettierrc.json), so eslint-config-prettier turns off
// every rule that would argue with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'build/',
      'out/',
      'dist/',
      'test-results/',
      'playwright-report/',
      'test/fixtures/',
      'test/fuzz/corpus/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        // One program per layer, as the compiler sees them.
        project: [
          './src/tsconfig.node.json',
          './src/main/tsconfig.json',
          './src/preload/tsconfig.json',
          './src/renderer/tsconfig.json',
          './test/tsconfig.json',
          './tsconfig.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A new case in a closed union must be handled where it is switched on.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // An unawaited promise loses its error: a card operation or a write could fail unseen.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Names, key names and record fields are checked for control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Outside every layer's program: the build config and the layer guards
    // (stand-ins the compiler maps `electron` and `react` to; they must not compile).
    files: ['electron.vite.config.ts', '**/layer-guards/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);

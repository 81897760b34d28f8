// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.entrasync/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use a union of string literals instead of an enum.',
        },
      ],
    },
  },
  {
    // The engine is the pure core: plain data in, plain data out. It declares the ports that
    // connectors implement and never reaches into connectors, config, the CLI or the simulator.
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/connectors/**', '**/config/**', '**/cli/**', '**/simulator/**'],
              message: 'engine/ must not import connectors/, config/, cli/ or simulator/.',
            },
            {
              group: [
                'node:fs',
                'node:fs/*',
                'node:net',
                'node:http',
                'node:https',
                'node:child_process',
                'fs',
                'http',
                'https',
                'net',
                'child_process',
              ],
              message: 'engine/ does no I/O; connectors and the CLI do.',
            },
          ],
        },
      ],
    },
  },
  {
    // Layers point one way: engine and simulator < config < connectors < cli. config/ owns the
    // config language, the connectors' option schemas included (config/sources/), so it never
    // imports a connector or the CLI.
    files: ['config/**/*.ts'],
    ignores: ['config/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/connectors/**', '**/cli/**'],
              message:
                'config/ must not import connectors/ or cli/ (layers: config < connectors < cli).',
            },
          ],
        },
      ],
    },
  },
);

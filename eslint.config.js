import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**', '**/.site-deploy/**', '.bench/**', '.fuzz/**', '.test-dist/**', '**/*.bundle-tmp/**', '.bundle-tmp/**'] },
  { languageOptions: { globals: { ...globals.node } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules where a mistake costs most: a promise nobody awaits can lose a failure, or
    // let a run end before its lock is released.
    files: ['src/**/*.ts', '__tests__/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The core is pure: no GitHub, AWS, process or file-system access.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@actions/*', '@aws-sdk/*', 'node:child_process', 'node:fs', 'node:fs/*', '**/adapters/**'], message: 'src/core stays pure: do I/O in src/adapters.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/core never reads process state.' }],
    },
  },
);

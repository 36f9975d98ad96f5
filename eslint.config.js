import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.fleet/', 'cdktf.out/', 'dist/', 'coverage/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The library never prints or exits: only scripts/ talks to the terminal.
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'src/ is a library: return results, let scripts/ exit.' },
        { object: 'process', property: 'argv', message: 'src/ is a library: scripts/ parses argv.' },
      ],
    },
  },
  // The layers (docs/notes/h9.md): src/ is the library and knows neither the CLI nor the stacks;
  // the stacks read only the fleet description and its errors; the CLI uses what the package exports.
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(scripts|stacks)/',
              message: 'src/ is the library: it never imports the CLI (scripts/) or the stacks (stacks/).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['stacks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!config/|errors\\.ts$)',
              message: 'stacks/ uses only the fleet description (src/config) and src/errors.ts from the library.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/fleet.ts', 'scripts/cli/**/*.ts', 'scripts/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!index\\.ts$|[a-z-]+/index\\.ts$)',
              message: 'the CLI uses the library through its public entry points: src/index.ts or src/<area>/index.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

import { defineConfig } from 'vitest/config';

// Three projects: `unit` and `stacks` need no database; `integration` shares one PostgreSQL for the
// run (embedded, or FLEET_TEST_DATABASE_URL) and gives each test file a database of its own;
// `package` checks the built and packed package. The last two build dist/ first (the CLI runs it).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/stacks/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/package/build.ts', 'test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/package/build.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});

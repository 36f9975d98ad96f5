import { defineConfig } from 'vitest/config';

// Two projects: `unit` and `stacks` need no database; `integration` shares one PostgreSQL for the
// run (embedded, or FLEET_TEST_DATABASE_URL) and gives each test file a database of its own.
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
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

// Tests run against real servers that test/support/global-setup.ts finds or starts
// (env URLs, a local mariadbd/mysqld, or Docker). Files run in parallel, each in its
// own forked process, each on databases of its own (test/support/databases.ts).
// test/cli/build-cli.ts builds dist/cli.js when it is missing or stale (the CLI tests run the built command).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts', 'test/cli/build-cli.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});

import { defineConfig } from 'tsup';

// The library: one config builds both module formats with their own declaration files
// (.d.ts for ESM, .d.cts for CommonJS), which is what the exports map points at.
// The `dualwrite` command (package.json "bin"): one ESM file; tsup keeps the entry's
// `#!/usr/bin/env node` line and makes the file executable.
// Both configs build at the same time into dist/, so the library's clean spares the CLI's files.
export default defineConfig([
  {
    // ORM adapters are entries of their own (`dualwrite/knex`, `dualwrite/drizzle`); the ORMs are optional peer
    // dependencies, so tsup leaves them external.
    entry: {
      index: 'src/index.ts',
      promise: 'src/promise.ts',
      migrate: 'src/migrate/index.ts',
      knex: 'src/adapters/knex.ts',
      drizzle: 'src/adapters/drizzle.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
  },
]);

import { defineConfig } from 'tsup';

// One config builds both module formats with their own declaration files
// (.d.ts for ESM, .d.cts for CommonJS), which is what the exports map points at.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
});

/**
 * vitest globalSetup: makes sure `dist/cli.js` (the built `dualwrite` command the CLI tests run as a
 * child process) exists and is newer than every source file, building it once per test run when it
 * is not — e.g. on a fresh clone, where `npm ci && npm test` runs before any `npm run build`.
 *
 * It builds with the CLI entry of tsup.config.ts itself (same options as `npm run build`), only that
 * entry (about a second), in this single setup process, so parallel test files never race on dist/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Options } from 'tsup';
import tsupConfig from '../../tsup.config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The built command. */
export const CLI_PATH = join(root, 'dist', 'cli.js');

/** Newest modification time of the inputs of the build. */
function newestInput(): number {
  let newest = Math.max(statSync(join(root, 'tsup.config.ts')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'src'));
  return newest;
}

/** vitest globalSetup entry. */
export default async function setup(): Promise<void> {
  if (existsSync(CLI_PATH) && statSync(CLI_PATH).mtimeMs >= newestInput()) return;
  const configs = (Array.isArray(tsupConfig) ? tsupConfig : [tsupConfig]) as Options[];
  const cli = configs.find((config) => typeof config.entry === 'object' && config.entry !== null && 'cli' in config.entry);
  if (cli === undefined) throw new Error('tsup.config.ts has no `cli` entry: the CLI tests need dist/cli.js');
  const started = Date.now();
  await build({ ...cli, config: false, clean: false, silent: true });
  console.log(`[dualwrite tests] built dist/cli.js in ${Date.now() - started} ms (it was missing or older than src/)`);
}

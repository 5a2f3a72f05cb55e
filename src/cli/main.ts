#!/usr/bin/env node
/**
 * Entry point of the `dualwrite` command (package.json `bin`, built to `dist/cli.js`).
 *
 * @module
 */
import { runCli } from './run.js';

const debug = process.argv.includes('--debug');

/** Anything that escaped the command: one line (a stack only with --debug), exit code 2. */
function fatal(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`dualwrite: unexpected error: ${message.replace(/\s*\n\s*/g, ' ')}${debug ? '' : ' (run again with --debug for the stack trace)'}\n`);
  if (debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  process.exit(2);
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
  // Everything the command opened is closed by now; should a stray handle keep the process alive, leave anyway.
  setTimeout(() => process.exit(code), 3000).unref();
}, fatal);

/**
 * Help texts of the `dualwrite` command, built from the command table and the option specs.
 *
 * @module
 */
import { GLOBAL_OPTIONS, type OptionSpec } from './args.js';
import type { Command } from './commands/command.js';
import { URL_ENV } from './connection.js';

/** `dualwrite --help`. */
export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'Usage: dualwrite <command> [options]',
    '',
    'Zero-downtime MySQL/MariaDB migration: copy the existing rows, compare both sides, repair what differs, and see where a migration stands.',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options of every command:',
    ...optionLines([...GLOBAL_OPTIONS, { name: 'version', short: 'V', type: 'boolean', description: 'print the version' }]),
    '',
    `Connections: --source/--target, else "source"/"target" in the --config file, else ${URL_ENV.source} / ${URL_ENV.target}.`,
    'Exit codes: 0 done (verify: identical), 1 verify found differences, 2 error, 130 interrupted (Ctrl-C).',
    '',
    'Examples:',
    '  dualwrite backfill --source mysql://app:secret@old-db/shop --target mysql://app:secret@new-db/shop',
    '  dualwrite verify --config migrate.json --json',
    '  dualwrite verify --config migrate.json --job nightly',
    '  dualwrite status --config migrate.json',
    '',
    'Run `dualwrite <command> --help` for a command\'s options and more examples.',
    '',
  ].join('\n');
}

/** `dualwrite <command> --help`. */
export function commandHelp(command: Command): string {
  return [
    `Usage: dualwrite ${command.name}${command.positionals === undefined ? '' : ` ${command.positionals.usage}`} [options]`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    '',
    ...command.description.flatMap((paragraph) => [...wrap(paragraph, 100), '']),
    `Options of ${command.name}:`,
    ...optionLines(command.options),
    '',
    'Connection and output:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `The --config file is JSON; its keys: ${[...GLOBAL_OPTIONS, ...command.options]
      .filter((spec) => spec.configKey !== undefined)
      .map((spec) => spec.configKey)
      .join(', ')}.`,
    '',
    'Examples:',
    ...command.examples.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

function optionLines(specs: readonly OptionSpec[]): string[] {
  const heads = specs.map((spec) => `--${spec.name}${spec.placeholder === undefined ? '' : ` ${spec.placeholder}`}${spec.short === undefined ? '' : `, -${spec.short}`}`);
  const width = Math.max(18, ...heads.map((head) => head.length));
  return specs.map((spec, i) => `  ${(heads[i] ?? '').padEnd(width)}  ${spec.description}`);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  if (current !== '') lines.push(current);
  return lines;
}

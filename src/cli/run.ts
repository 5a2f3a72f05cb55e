/**
 * The `dualwrite` command line: picks the command, parses its options (command line over config
 * file over environment), opens the pools it asks for, handles Ctrl-C, and turns any error into
 * one line on stderr (what, why, what to do) with exit code 2 — stack traces only with `--debug`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { DualWriteError } from '../errors.js';
import { closest, GLOBAL_OPTIONS, parseOptions, UsageError, type ParsedOptions } from './args.js';
import { COMMANDS, EXIT, type Command, type CommandContext } from './commands/index.js';
import { applyConfigFile, CliError, connect, replicaUrl, sideUrl, URL_ENV, type Connected, type Side } from './connection.js';
import { commandHelp, generalHelp } from './help.js';
import { Output, type OutputStream } from './output.js';

/** Where the command line writes. */
export interface CliStreams {
  /** Results and `--json` lines. */
  readonly stdout: OutputStream;
  /** Progress, notices and errors. */
  readonly stderr: OutputStream;
}

/**
 * Runs `dualwrite` with `argv` (the arguments after the program name) and resolves to its exit code.
 * Installs SIGINT/SIGTERM handlers for the duration of the command.
 */
export async function runCli(argv: readonly string[], streams: CliStreams, commands: readonly Command[] = COMMANDS): Promise<number> {
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  const output = new Output(json, streams.stdout, streams.stderr);
  const first = argv[0];
  if (first === undefined) {
    streams.stderr.write(generalHelp(commands));
    return EXIT.error;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const named = commands.find((command) => command.name === argv[1]);
    streams.stdout.write(named === undefined ? generalHelp(commands) : commandHelp(named));
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    streams.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((candidate) => candidate.name === first);
  try {
    if (command === undefined) {
      if (first.startsWith('-')) throw new UsageError(`the command comes first: dualwrite <${commands.map((c) => c.name).join('|')}> [options] (got ${first} instead)`);
      const hint = closest(first, commands.map((c) => c.name));
      throw new UsageError(`unknown command ${JSON.stringify(first)}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; the commands are ${commands.map((c) => c.name).join(', ')}`);
    }
    const rest = argv.slice(1);
    const optionsEnd = rest.indexOf('--') === -1 ? rest.length : rest.indexOf('--');
    const flags = rest.slice(0, optionsEnd);
    if (flags.includes('--help') || flags.includes('-h')) {
      streams.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    if (flags.includes('--version') || flags.includes('-V')) {
      streams.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    const specs = [...command.options, ...GLOBAL_OPTIONS];
    const options = parseOptions(command.name, specs, rest, command.positionals?.max ?? 0);
    const configKeys = new Set([...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)].flatMap((spec) => (spec.configKey === undefined ? [] : [spec.configKey])));
    applyConfigFile(options, specs, configKeys, command.name);
    return await runCommand(command, options, output);
  } catch (error) {
    reportError(error, command?.name, output, debug);
    return EXIT.error;
  }
}

/** Runs a parsed command with its pools and signal handlers. */
async function runCommand(command: Command, options: ParsedOptions, output: Output): Promise<number> {
  const opened: Connected[] = [];
  const controller = new AbortController();
  let signalName: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGTERM' ? 143 : EXIT.interrupted;
    if (signalName !== null || !command.interruptible) {
      output.error(`dualwrite ${command.name}: ${signal === 'SIGTERM' ? 'terminated' : 'interrupted'}; quitting at once`);
      process.exit(code);
    }
    signalName = signal;
    output.error(`dualwrite ${command.name}: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after the current step (press Ctrl-C again to quit at once)`);
    controller.abort(new CliError('ER_DUALWRITE_CLI_INTERRUPTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const connectSide = async (side: Side, connectionLimit: number, required = true): Promise<Connected | undefined> => {
    const url = sideUrl(options, side, command.name);
    if (url === undefined) {
      if (!required) return undefined;
      throw new UsageError(`no ${side} database given: pass --${side} mysql://user:password@host:3306/database, put "${side}" in the --config file, or set ${URL_ENV[side]}`, command.name);
    }
    const connected = await connect(side, url, connectionLimit);
    opened.push(connected);
    return connected;
  };
  const connectReplica = async (side: Side, connectionLimit: number): Promise<Connected | undefined> => {
    const url = replicaUrl(options, side, command.name);
    if (url === undefined) return undefined;
    const connected = await connect(side, url, connectionLimit, true);
    opened.push(connected);
    return connected;
  };
  const context: CommandContext = {
    options,
    output,
    signal: controller.signal,
    connect: connectSide as CommandContext['connect'],
    connectReplica,
  };
  try {
    const code = await command.run(context);
    return code === EXIT.interrupted && signalName === 'SIGTERM' ? 143 : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.allSettled(opened.map((side) => side.pool.end()));
  }
}

/** Prints an error as one line on stderr (and a JSON line with `--json`); the stack only with `--debug`. */
export function reportError(error: unknown, command: string | undefined, output: Output, debug: boolean): void {
  const { code, message } = describeError(error, command, debug);
  const prefix = command === undefined ? 'dualwrite' : `dualwrite ${command}`;
  output.error(`${prefix}: ${message}`);
  output.event('error', { command: command ?? null, code, message });
  if (debug) {
    for (let cause: unknown = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
      output.error(cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : describeValue(cause));
    }
  }
}

/** What to print for an error: a stable code and a message on one line. */
function describeError(error: unknown, command: string | undefined, debug: boolean): { code: string; message: string } {
  if (error instanceof UsageError) {
    const about = error.command ?? command;
    return { code: 'ER_DUALWRITE_CLI_USAGE', message: oneLine(`${error.message} (see \`dualwrite${about === undefined ? '' : ` ${about}`} --help\`)`) };
  }
  if (error instanceof CliError || error instanceof DualWriteError) return { code: error.code, message: oneLine(error.message) };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const more = debug ? '' : ' (run again with --debug for the stack trace)';
  if (typeof code === 'string' && ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return {
      code,
      message: oneLine(`lost the connection to a server (${code}: ${message}): check that both servers are up and reachable, then run the command again (backfill resumes from its checkpoints)`),
    };
  }
  if (typeof code === 'string' && typeof (error as { errno?: unknown }).errno === 'number') {
    return { code, message: oneLine(`the server answered ${code}: ${message}; fix what it names (privileges, schema) and run the command again${more}`) };
  }
  return { code: typeof code === 'string' ? code : 'ER_DUALWRITE_CLI_UNEXPECTED', message: oneLine(`${message}${more}`) };
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The package's version, from the package.json beside `dist/` (or the source tree). */
function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'dualwrite' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

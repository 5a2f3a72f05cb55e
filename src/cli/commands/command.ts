/**
 * The shape of a `dualwrite` command. Each command is one file exporting a {@link Command}; the
 * table in `./index.ts` lists them, and the help, the parser and the config file read its specs.
 *
 * @module
 */
import type { OptionSpec, ParsedOptions } from '../args.js';
import type { Connected, Side } from '../connection.js';
import type { Output } from '../output.js';

/** Exit codes of the `dualwrite` command. */
export const EXIT = Object.freeze({
  /** Success (verify: the sides are identical). */
  ok: 0,
  /** verify: differences were found. */
  differences: 1,
  /** Bad arguments, an unreachable server, a refused table, or any other error. */
  error: 2,
  /** Stopped by Ctrl-C (SIGINT); 128 + 2 as shells report it. */
  interrupted: 130,
});

/** What a command gets to run. */
export interface CommandContext {
  /** The parsed options (command line over config file). */
  readonly options: ParsedOptions;
  /** The printer (human or `--json`). */
  readonly output: Output;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM; only commands with `interruptible` see it. */
  readonly signal: AbortSignal;
  /**
   * Opens a side's pool (closed by the caller when the command ends) and checks that it answers.
   *
   * @param side - which side
   * @param connectionLimit - connections the command may hold there at once
   * @param required - false: resolves to undefined when no URL is given for the side
   */
  connect(side: Side, connectionLimit: number, required?: true): Promise<Connected>;
  connect(side: Side, connectionLimit: number, required: false): Promise<Connected | undefined>;
  /**
   * Opens the pool of a side's replica when `--<side>-replica` is given (closed by the caller when the command
   * ends) and checks that it answers; resolves to undefined when it is not given.
   *
   * @param side - whose replica
   * @param connectionLimit - connections the command may hold there at once
   */
  connectReplica(side: Side, connectionLimit: number): Promise<Connected | undefined>;
}

/** One command of `dualwrite`. */
export interface Command {
  /** The name typed after `dualwrite`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Paragraphs for `dualwrite <name> --help`. */
  readonly description: readonly string[];
  /** Words it takes that are not options, e.g. `mode set target_first` (default: none). */
  readonly positionals?: {
    /** How many at most. */
    readonly max: number;
    /** How the help shows them, e.g. `get|set <mode>|audit`. */
    readonly usage: string;
  };
  /** Its own options (the connection and output options of every command are added). */
  readonly options: readonly OptionSpec[];
  /** Example command lines, each with a comment line before it (`# …`). */
  readonly examples: readonly string[];
  /**
   * True when the command stops cleanly on `signal` (finishing its current step) and exits 130 itself;
   * otherwise the first Ctrl-C exits at once.
   */
  readonly interruptible: boolean;
  /** Runs the command; resolves to its exit code. Errors it throws are reported in one line (exit 2). */
  run(context: CommandContext): Promise<number>;
}

/**
 * Where the `dualwrite` command connects: `--source`/`--target` URLs, a `--config` file, or the
 * `DUALWRITE_SOURCE_URL`/`DUALWRITE_TARGET_URL` environment variables; pools opened and checked
 * once before a command starts, so an unreachable server fails with one clear line.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type * as Mysql2Promise from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import { closest, convert, UsageError, type OptionSpec, type ParsedOptions } from './args.js';

/** A side of the migration. */
export type Side = 'source' | 'target';

/** Environment variables read when a URL is given neither on the command line nor in the config file. */
export const URL_ENV: Readonly<Record<Side, string>> = { source: 'DUALWRITE_SOURCE_URL', target: 'DUALWRITE_TARGET_URL' };

/** A side's pool and where it points. */
export interface Connected {
  /** The mysql2/promise pool. */
  readonly pool: Pool;
  /** The database named in the URL's path. */
  readonly database: string;
  /** The URL without its password, for messages. */
  readonly display: string;
}

/** A failure the command reports in one line (what, why, what to do), exit code 2. */
export class CliError extends Error {
  /** A stable code for `--json` consumers, e.g. `ER_DUALWRITE_CLI_CONNECT`. */
  readonly code: string;

  /**
   * @param code - stable code
   * @param message - what happened, why, and what to do
   * @param options - `cause`: the underlying error
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

/**
 * Reads `--config` (when given) into the parsed options, below the command line's own values.
 * Keys are the `configKey`s of every command's options (so one file serves every command); a key
 * no command knows is refused, since it is most likely a typo.
 *
 * @param options - the parsed command line
 * @param specs - the options of the running command
 * @param allConfigKeys - the config keys of every command
 * @param command - the command's name (for messages)
 */
export function applyConfigFile(options: ParsedOptions, specs: readonly OptionSpec[], allConfigKeys: ReadonlySet<string>, command: string): void {
  const file = options.string('config');
  if (file === undefined) return;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the config file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the path given to --config`, command);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the config file ${file} is not valid JSON (${(error as Error).message}): fix it, e.g. { "source": "mysql://…/db", "target": "mysql://…/db", "tables": ["orders"] }`, command);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`the config file ${file} must hold a JSON object, e.g. { "source": "mysql://…/db", "target": "mysql://…/db" }`, command);
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allConfigKeys.has(key)) {
      const hint = closest(key, [...allConfigKeys]);
      throw new UsageError(`unknown key ${JSON.stringify(key)} in the config file ${file}${hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`}; known keys: ${[...allConfigKeys].sort().join(', ')}`, command);
    }
    const spec = specs.find((candidate) => candidate.configKey === key);
    if (spec === undefined) continue; // a key of another command
    const inverted = spec.type === 'boolean' && spec.name.startsWith('no-');
    const converted = convert(spec, inverted && typeof value === 'boolean' ? !value : value, command, `${JSON.stringify(key)} in ${file}`);
    if (spec.type === 'boolean' && converted === false) continue; // false is the default of every flag
    options.setDefault(spec.name, converted);
  }
}

/**
 * The URL of a side: the option (command line, then config file), then the environment variable.
 *
 * @throws {@link UsageError} when the URL is not a mysql:// URL naming a database
 */
export function sideUrl(options: ParsedOptions, side: Side, command: string): string | undefined {
  const given = options.string(side) ?? process.env[URL_ENV[side]];
  if (given === undefined || given === '') return undefined;
  return checkedUrl(given, `--${side}`, command);
}

/**
 * The URL of a side's replica (`--source-replica` / `--target-replica`, command line or config file), or undefined.
 *
 * @throws {@link UsageError} when the URL is not a mysql:// URL naming a database
 */
export function replicaUrl(options: ParsedOptions, side: Side, command: string): string | undefined {
  const given = options.string(`${side}-replica`);
  return given === undefined ? undefined : checkedUrl(given, `--${side}-replica`, command);
}

/** The database named in the path of a URL checked by {@link sideUrl} or {@link replicaUrl}. */
export function urlDatabase(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** `given` when it is a mysql:// URL naming a database; `flag` names it in the messages. */
function checkedUrl(given: string, flag: string, command: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`${flag} is not a URL (${JSON.stringify(redact(given))}): write it as mysql://user:password@host:3306/database`, command);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new UsageError(`${flag} must be a mysql:// URL, got ${url.protocol}//…: write it as mysql://user:password@host:3306/database`, command);
  }
  const database = urlDatabase(given);
  if (database === '' || database.includes('/')) {
    throw new UsageError(`${flag} ${redact(given)} names no database: put it in the path, e.g. mysql://user@host:3306/shop`, command);
  }
  return given;
}

/** A URL with its password replaced by `***`. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparsable (often a password with an unencoded `/` or `@`): hide everything between `//` and the last `@`.
    return url.replace(/\/\/.*@/s, '//***@');
  }
}

/** The mysql2/promise module (a peer dependency), loaded on first use with a clear message when it is missing. */
async function loadMysql2(): Promise<typeof Mysql2Promise> {
  try {
    return await import('mysql2/promise');
  } catch (error) {
    throw new CliError(
      'ER_DUALWRITE_CLI_MYSQL2_MISSING',
      `the dualwrite command needs the mysql2 package (a peer dependency) and could not load it (${(error as Error).message}): install it next to dualwrite with \`npm install mysql2\``,
      { cause: error },
    );
  }
}

/**
 * Opens a pool on a side (or a side's replica) and checks that it answers, so a wrong URL fails before any work starts.
 *
 * @param side - which side (for messages)
 * @param url - its URL (checked by {@link sideUrl} or {@link replicaUrl})
 * @param connectionLimit - connections the command may hold at once on this server
 * @param replica - true for the side's replica: messages name `--<side>-replica`
 * @throws {@link CliError} when the server cannot be reached, refuses the login, or lacks the database
 */
export async function connect(side: Side, url: string, connectionLimit: number, replica = false): Promise<Connected> {
  const mysql = await loadMysql2();
  const database = urlDatabase(url);
  const display = redact(url);
  const pool = mysql.createPool({ uri: url, connectionLimit, connectTimeout: 10_000, enableKeepAlive: true });
  // An idle pool connection that dies (server restart) emits 'error' on the pool; the next query reconnects.
  pool.on('connection', (connection) => connection.on('error', () => undefined));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectError(replica ? `${side} replica` : side, replica ? `--${side}-replica` : `--${side}`, display, database, error);
  }
  return { pool, database, display };
}

/** One line saying why a server (`what`: `source`, `source replica`, …) could not be used; `flag` gave its URL. */
function connectError(what: string, flag: string, display: string, database: string, error: unknown): CliError {
  const code = (error as { code?: unknown }).code;
  // Node reports a refused connection to a name with several addresses as an AggregateError with an empty message.
  const message = (error instanceof Error && error.message !== '' ? error.message : undefined) ?? (typeof code === 'string' ? code : String(error));
  switch (code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new CliError('ER_DUALWRITE_CLI_LOGIN', `the ${what} server refused the login for ${display} (${message}): check the user and password in ${flag} and the user's grants`, { cause: error });
    case 'ER_BAD_DB_ERROR':
      return new CliError('ER_DUALWRITE_CLI_NO_DATABASE', `the ${what} database \`${database}\` does not exist on ${display}: create it, or fix the database in the path of ${flag}`, { cause: error });
    default:
      return new CliError(
        'ER_DUALWRITE_CLI_CONNECT',
        `cannot connect to the ${what} server ${display} (${typeof code === 'string' && !message.includes(code) ? `${code}: ` : ''}${message}): check the host and port in ${flag} and that the server is running and reachable`,
        { cause: error },
      );
  }
}

/**
 * Command-line parsing for the `dualwrite` command: option specs (shared by the help text, the parser and the
 * config file), `--name value` / `--name=value` tokens, typed values, and usage errors that say what to do.
 *
 * @module
 */

/**
 * What an option's value is. `list` takes comma-separated items (repeating the option adds items). `rules` takes
 * comma-separated `name` or `name=value` items (repeating the option adds items; in the config file also a JSON
 * object of name → value).
 */
export type OptionType = 'string' | 'integer' | 'boolean' | 'list' | 'rules';

/** One `--option` of the command line. */
export interface OptionSpec {
  /** The long name without dashes, e.g. `chunk-rows`. */
  readonly name: string;
  /** A one-letter alias without the dash, e.g. `h`. */
  readonly short?: string;
  /** The value's type. */
  readonly type: OptionType;
  /** The value's name in the help text, e.g. `N` or `URL`. */
  readonly placeholder?: string;
  /** One line for the help text. */
  readonly description: string;
  /** Smallest accepted value of an `integer` option. @defaultValue 1 */
  readonly min?: number;
  /**
   * The key of this option in a `--config` file, e.g. `chunkRows` (omitted: the option cannot be set there).
   * A boolean option whose name starts with `no-` reads the key's value inverted (`createTables: false` is `--no-create-tables`).
   */
  readonly configKey?: string;
}

/** One item of a `rules` option: its name, and its value (`true` for a bare name). */
export type RuleItem = readonly [name: string, value: string | number | boolean];

/** A value given for an option. */
export type OptionValue = string | number | boolean | readonly string[] | readonly RuleItem[];

/** A command-line mistake: reported on one line, with a pointer to the help, exit code 2. */
export class UsageError extends Error {
  /** The command whose help to point at (undefined: the general help). */
  readonly command: string | undefined;

  /**
   * @param message - what is wrong and what to do
   * @param command - the command whose `--help` to suggest
   */
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Options of every command. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'source', type: 'string', placeholder: 'URL', configKey: 'source', description: 'source database, mysql://user:password@host:port/database (env DUALWRITE_SOURCE_URL)' },
  { name: 'target', type: 'string', placeholder: 'URL', configKey: 'target', description: 'target database, mysql://user:password@host:port/database (env DUALWRITE_TARGET_URL)' },
  { name: 'config', type: 'string', placeholder: 'FILE', description: 'JSON file with { "source", "target", "tables", ... }; options on the command line win' },
  { name: 'tables', type: 'list', placeholder: 'A,B,C*', configKey: 'tables', description: 'table names or * patterns (default: every base table except dualwrite_* tables)' },
  { name: 'json', type: 'boolean', description: 'machine output: one JSON object per line, and a final {"type":"summary"} object' },
  { name: 'debug', type: 'boolean', description: 'print stack traces of errors' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show this help' },
];

/** The parsed command line of one command. */
export class ParsedOptions {
  readonly #values: Map<string, OptionValue>;
  readonly #fromConfig = new Set<string>();
  readonly #specs: ReadonlyMap<string, OptionSpec>;
  readonly #command: string;
  /** The words given that are not options (sub-command and its arguments), for commands that take them. */
  readonly positionals: readonly string[];

  /**
   * @param command - the command's name (for messages)
   * @param specs - every option the command accepts
   * @param values - the values given, by option name
   * @param positionals - the words that are not options
   */
  constructor(command: string, specs: readonly OptionSpec[], values: Map<string, OptionValue>, positionals: readonly string[] = []) {
    this.#command = command;
    this.positionals = positionals;
    this.#specs = new Map(specs.map((spec) => [spec.name, spec]));
    this.#values = values;
  }

  /** True when the option was given (on the command line or in the config file). */
  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** A string option's value. */
  string(name: string): string | undefined {
    const value = this.#get(name, 'string');
    return value === undefined ? undefined : (value as string);
  }

  /** An integer option's value. */
  integer(name: string): number | undefined {
    const value = this.#get(name, 'integer');
    return value === undefined ? undefined : (value as number);
  }

  /** A boolean option: true when given. */
  flag(name: string): boolean {
    return this.#get(name, 'boolean') === true;
  }

  /** A list option's items. */
  list(name: string): readonly string[] | undefined {
    const value = this.#get(name, 'list');
    return value === undefined ? undefined : (value as readonly string[]);
  }

  /** A rules option's items, in the order given. */
  rules(name: string): readonly RuleItem[] | undefined {
    const value = this.#get(name, 'rules');
    return value === undefined ? undefined : (value as readonly RuleItem[]);
  }

  /** True when the option's value came from the config file (not from the command line). */
  fromConfig(name: string): boolean {
    return this.#fromConfig.has(name);
  }

  /** Sets a value that came from elsewhere (the config file); the command line's value, when given, stays. */
  setDefault(name: string, value: OptionValue): void {
    if (this.#values.has(name)) return;
    this.#values.set(name, value);
    this.#fromConfig.add(name);
  }

  #get(name: string, type: OptionType): OptionValue | undefined {
    const spec = this.#specs.get(name);
    if (spec === undefined || spec.type !== type) throw new Error(`dualwrite ${this.#command}: option --${name} is not a ${type} option of this command`);
    return this.#values.get(name);
  }
}

/**
 * Parses the tokens after the command name.
 *
 * @param command - the command's name (for messages)
 * @param specs - the options it accepts
 * @param argv - the tokens
 * @param maxPositionals - words that are not options the command takes (e.g. `mode set target_first`) @defaultValue 0
 * @throws {@link UsageError} for an unknown option, a missing or malformed value, or a stray argument
 */
export function parseOptions(command: string, specs: readonly OptionSpec[], argv: readonly string[], maxPositionals = 0): ParsedOptions {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.filter((spec) => spec.short !== undefined).map((spec) => [spec.short as string, spec]));
  const values = new Map<string, OptionValue>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument ${JSON.stringify(argv[i + 1])}: ${command} takes options only`, command);
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
      inline = eq === -1 ? undefined : token.slice(eq + 1);
      spec = byName.get(name);
      if (spec === undefined) {
        const hint = closest(name, [...byName.keys()]);
        throw new UsageError(`unknown option --${name} for ${command}${hint === undefined ? '' : ` (did you mean --${hint}?)`}`, command);
      }
    } else if (/^-[A-Za-z]$/.test(token)) {
      spec = byShort.get(token.slice(1));
      if (spec === undefined) throw new UsageError(`unknown option ${token} for ${command}`, command);
    } else if (positionals.length < maxPositionals) {
      positionals.push(token);
      continue;
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(token)}: ${command} takes options only (a value needs its option, e.g. --tables ${token})`, command);
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value (got --${spec.name}=${inline})`, command);
      values.set(spec.name, true);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next.length > 1 && !/^-\d/.test(next))) {
        throw new UsageError(`--${spec.name} needs a value (${spec.placeholder ?? spec.type}): ${spec.description}`, command);
      }
      raw = next;
      i++;
    }
    const value = convert(spec, raw, command, `--${spec.name}`);
    const previous = values.get(spec.name);
    const appends = (spec.type === 'list' || spec.type === 'rules') && Array.isArray(previous);
    values.set(spec.name, appends ? ([...(previous as readonly unknown[]), ...(value as readonly unknown[])] as OptionValue) : value);
  }
  return new ParsedOptions(command, specs, values, positionals);
}

/**
 * Checks and converts one value (from the command line as text, or from the config file as JSON).
 *
 * @throws {@link UsageError} when the value does not fit the option
 */
export function convert(spec: OptionSpec, raw: unknown, command: string, where: string): OptionValue {
  switch (spec.type) {
    case 'boolean':
      if (typeof raw !== 'boolean') throw new UsageError(`${where} must be true or false, got ${JSON.stringify(raw)}`, command);
      return raw;
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new UsageError(`${where} needs a non-empty ${spec.placeholder ?? 'value'}, got ${JSON.stringify(raw)}`, command);
      return raw;
    case 'integer': {
      const min = spec.min ?? 1;
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${where} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`, command);
      return value;
    }
    case 'list': {
      const items = Array.isArray(raw) ? (raw as unknown[]) : typeof raw === 'string' ? raw.split(',') : null;
      if (items === null || items.some((item) => typeof item !== 'string')) throw new UsageError(`${where} must be a comma-separated list (or a JSON array of strings), got ${JSON.stringify(raw)}`, command);
      const cleaned = (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
      if (cleaned.length === 0) throw new UsageError(`${where} names no table: give names or * patterns, e.g. --tables orders,order_*`, command);
      return cleaned;
    }
    case 'rules':
      return ruleItems(raw, command, where);
  }
}

/** The items of a `rules` value: `a,b=1` text, or (config file) a JSON object `{ "a": true, "b": 1 }`. */
function ruleItems(raw: unknown, command: string, where: string): readonly RuleItem[] {
  let items: RuleItem[];
  if (typeof raw === 'string') {
    items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item): RuleItem => {
        const eq = item.indexOf('=');
        return eq === -1 ? [item, true] : [item.slice(0, eq).trim(), item.slice(eq + 1).trim()];
      });
  } else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    items = Object.entries(raw as Record<string, unknown>).map(([name, value]): RuleItem => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new UsageError(`${where}: the value of ${JSON.stringify(name)} must be a string, a number or true/false, got ${JSON.stringify(value)}`, command);
      }
      return [name, value];
    });
  } else {
    throw new UsageError(`${where} must be a comma-separated list of rules, name or name=value (or, in the config file, a JSON object), got ${JSON.stringify(raw)}`, command);
  }
  if (items.length === 0) throw new UsageError(`${where} names no rule: give at least one, as name or name=value`, command);
  return items;
}

/** The candidate nearest to `word` by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

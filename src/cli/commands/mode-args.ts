/**
 * The options of `dualwrite mode set`, read and checked: the mode, the actor, the preconditions, the
 * fall-back thresholds, durations and rates, and the tables a whole-pool cut-over must have verified.
 *
 * @module
 */
import { userInfo } from 'node:os';
import { sourceTables } from '../../control/cutover-checks.js';
import type { GuardedSwitchOptions } from '../../control/cutover-guard.js';
import type { FallbackOptions } from '../../control/fallback-watch.js';
import { tablePatternRegExp } from '../../migrate/table-selection.js';
import type { ReadRoutingSettings } from '../../mode/flag-provider.js';
import { MODES, parseMode, type Mode } from '../../mode/modes.js';
import { checkTableKey } from '../../mode/table-modes.js';
import { UsageError, type ParsedOptions } from '../args.js';
import type { Connected } from '../connection.js';

const NAME = 'mode';

/**
 * The tables a whole-pool cut-over must have verified, as `schema.table` of the source: those `--tables` names or
 * matches (`*` patterns), else every base table except the `dualwrite_*` tables. A name that matches nothing stays,
 * so the check names it.
 */
export async function concernedTables(options: ParsedOptions, source: Connected): Promise<string[]> {
  const all = await sourceTables(source.pool);
  const wanted = options.list('tables');
  if (wanted === undefined) return all;
  const tables = new Set<string>();
  for (const pattern of wanted) {
    const qualified = pattern.includes('.') ? pattern : `${source.database}.${pattern}`;
    const regExp = tablePatternRegExp(qualified);
    const matches = all.filter((table) => regExp.test(table));
    for (const table of matches.length === 0 ? [qualified] : matches) tables.add(table);
  }
  return [...tables];
}

/** The `<mode>` of `mode set`, checked. @throws {@link UsageError} when missing or not a mode */
export function modeArgument(argument: string | undefined): Mode {
  if (argument === undefined) throw new UsageError(`mode set needs the mode: dualwrite mode set <${MODES.join('|')}>`, NAME);
  try {
    return parseMode(argument, 'the mode of `dualwrite mode set`');
  } catch {
    throw new UsageError(`unknown mode ${JSON.stringify(argument)}: use one of ${MODES.join(', ')}`, NAME);
  }
}

/** Who switches: `--actor`, else `cli:<user>`. */
export function actor(options: ParsedOptions): string {
  const given = options.string('actor');
  if (given !== undefined) return given;
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no user entry (a container): the environment's name stays
  }
  return `cli:${user}`;
}

/** The switch options of `mode set` (actor, table, wait, timeout, force). @throws InvalidOptionError for a `--table` that is not `schema.table` */
export function switchOptions(options: ParsedOptions): GuardedSwitchOptions {
  const table = options.string('table');
  if (table !== undefined) checkTableKey(table, 'the --table option');
  const timeoutMs = options.integer('timeout-ms');
  return {
    source: actor(options),
    wait: options.flag('wait'),
    force: options.flag('force'),
    ...(table === undefined ? {} : { table }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/** The preconditions asked for (`--require-verify-within`, `--max-backlog`). @throws {@link UsageError} for a bad duration */
export function preconditions(options: ParsedOptions): { requireVerifyWithinMs?: number; maxBacklog?: number } {
  const within = options.string('require-verify-within');
  const maxBacklog = options.integer('max-backlog');
  return { ...(within === undefined ? {} : { requireVerifyWithinMs: parseDuration(within) }), ...(maxBacklog === undefined ? {} : { maxBacklog }) };
}

/** The fall-back thresholds (`--watch-ms` and the rest), or undefined without `--watch-ms`. @throws {@link UsageError} for a threshold without a window or the reverse */
export function fallbackOptions(options: ParsedOptions): FallbackOptions | undefined {
  const watchMs = options.integer('watch-ms');
  const rate = options.string('max-error-rate');
  const maxP99Ms = options.integer('max-p99-ms');
  const minStatements = options.integer('min-statements');
  if (watchMs === undefined) {
    for (const flag of ['max-error-rate', 'max-p99-ms', 'min-statements']) if (options.has(flag)) throw new UsageError(`--${flag} needs --watch-ms (how long to watch after the switch)`, NAME);
    return undefined;
  }
  if (rate === undefined && maxP99Ms === undefined) throw new UsageError('--watch-ms needs a threshold: --max-error-rate, --max-p99-ms or both', NAME);
  return {
    watchMs,
    pollMs: 500,
    ...(rate === undefined ? {} : { maxErrorRate: parseRate(rate) }),
    ...(maxP99Ms === undefined ? {} : { maxP99Ms }),
    ...(minStatements === undefined ? {} : { minStatements }),
  };
}

/** `90s`, `30m`, `2h`, `1d`, `500ms` (a bare number is milliseconds) in milliseconds. @throws {@link UsageError} otherwise */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[match?.[2] ?? 'ms'] ?? 1;
  const ms = match === null ? Number.NaN : Number(match[1]) * unit;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UsageError(`--require-verify-within must be a duration such as 30m, 2h or 1d (a bare number is milliseconds), got ${JSON.stringify(text)}`, NAME);
  return Math.round(ms);
}

/** `0.05` or `5%` as a fraction below 1. @throws {@link UsageError} otherwise */
export function parseRate(text: string): number {
  const trimmed = text.trim();
  const percent = trimmed.endsWith('%');
  const value = Number(percent ? trimmed.slice(0, -1) : trimmed) / (percent ? 100 : 1);
  if (!/^\d+(\.\d+)?%?$/.test(trimmed) || !(value >= 0 && value < 1)) throw new UsageError(`--max-error-rate must be a fraction below 1 or a percentage below 100%, e.g. 0.01 or 1%, got ${JSON.stringify(text)}`, NAME);
  return value;
}

/** The shares of `mode routing` (`--gray-read-percent`, `--shadow-read-percent`; `5` or `5%`). @throws {@link UsageError} when neither is given or one is not 0-100 */
export function routingArguments(options: ParsedOptions): ReadRoutingSettings {
  const routing: { grayReadPercent?: number; shadowReadPercent?: number } = {};
  for (const [flag, field] of [['gray-read-percent', 'grayReadPercent'], ['shadow-read-percent', 'shadowReadPercent']] as const) {
    const text = options.string(flag);
    if (text === undefined) continue;
    const trimmed = text.trim().replace(/%$/, '');
    const value = Number(trimmed);
    if (!/^\d+(\.\d+)?$/.test(trimmed) || !(value >= 0 && value <= 100)) throw new UsageError(`--${flag} must be a percentage from 0 to 100, e.g. 5 or 0.5, got ${JSON.stringify(text)}`, NAME);
    routing[field] = value;
  }
  if (Object.keys(routing).length === 0) throw new UsageError('mode routing needs --gray-read-percent, --shadow-read-percent or both', NAME);
  return routing;
}

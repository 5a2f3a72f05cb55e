/**
 * Which tables a migration tool works on: names or `*` patterns matched against the base tables
 * of a schema, with information_schema's size estimates so the largest can go first.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { queryExact, type ExactQueryable, type ExactValue } from './codec.js';

/** A base table of a schema, with information_schema's estimates of its size. */
export interface SelectedTable {
  /** The table name as the server stores it. */
  readonly name: string;
  /** `TABLE_ROWS`: an estimate for InnoDB (exact for MyISAM), 0 when unknown. */
  readonly rowsEstimate: number;
  /** `DATA_LENGTH` in bytes (an estimate for InnoDB). */
  readonly dataLength: number;
}

/** True when `pattern` has a `*` wildcard. */
export function isTablePattern(pattern: string): boolean {
  return pattern.includes('*');
}

/** A pattern as a whole-name regular expression: `*` matches any run of characters, everything else itself. */
export function tablePatternRegExp(pattern: string, caseInsensitive = false): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

/**
 * The base tables of `schema` that `patterns` name, largest first (by `DATA_LENGTH`, then `TABLE_ROWS`, then name).
 * Without `patterns`, every base table of the schema, except those `exclude` names.
 *
 * @param runner - a pool or connection of the server
 * @param schema - the database
 * @param patterns - table names or `*` patterns; each must match at least one base table
 * @param exclude - names never selected by a pattern (e.g. the tool's own state table)
 * @throws {@link InvalidOptionError} when a name or pattern matches no base table of the schema
 */
export async function selectTables(
  runner: ExactQueryable,
  schema: string,
  patterns?: readonly string[],
  exclude: readonly string[] = [],
): Promise<SelectedTable[]> {
  const rows = await queryExact(
    runner,
    "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0), @@lower_case_table_names FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
    [schema],
  );
  const all: SelectedTable[] = rows.map((row) => ({ name: text(row[0]), rowsEstimate: Number(text(row[1])), dataLength: Number(text(row[2])) }));
  const caseInsensitive = rows.length > 0 && text(rows[0]?.[3]) !== '0';
  let chosen: SelectedTable[];
  if (patterns === undefined) {
    chosen = all.filter((table) => !exclude.includes(table.name));
  } else {
    const given: unknown = patterns;
    if (!Array.isArray(given) || given.some((p) => typeof p !== 'string' || p === '')) {
      throw new InvalidOptionError('tables', given, 'a list of table names or `*` patterns');
    }
    const names = new Set<string>();
    for (const pattern of patterns) {
      const regexp = tablePatternRegExp(pattern, caseInsensitive);
      const matched = all.filter((table) => regexp.test(table.name) && (!isTablePattern(pattern) || !exclude.includes(table.name)));
      if (matched.length === 0) {
        throw new InvalidOptionError(
          'tables',
          pattern,
          `a name or pattern matching at least one base table of \`${schema}\` (${isTablePattern(pattern) ? 'the pattern matches none' : 'no such base table'})`,
        );
      }
      for (const table of matched) names.add(table.name);
    }
    chosen = all.filter((table) => names.has(table.name));
  }
  return chosen.sort((a, b) => b.dataLength - a.dataLength || b.rowsEstimate - a.rowsEstimate || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function text(value: ExactValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.toString('utf8');
}

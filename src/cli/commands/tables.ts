/**
 * Which tables a command works on: `--tables` names and patterns resolved against the source's
 * base tables, dualwrite's own tables left out unless named, and the primary-key check every
 * keyset tool needs, with messages for the command line.
 *
 * @module
 */
import { TableNotFoundError } from '../../errors.js';
import { loadServerSettings } from '../../schema/server-settings.js';
import { loadTable } from '../../schema/load-table.js';
import type { MetadataQueryable, TableMetadata } from '../../schema/types.js';
import { selectTables, type SelectedTable } from '../../migrate/table-selection.js';
import type { ExactQueryable } from '../../migrate/codec.js';
import { CliError } from '../connection.js';

/** A pool both the schema loaders and the codec can read through (a mysql2/promise pool fits). */
export type TablePool = MetadataQueryable & ExactQueryable;

/** dualwrite's own tables (state, logs): never data to copy or compare unless named explicitly. */
export const INTERNAL_TABLE_PREFIX = 'dualwrite_';

/** A table chosen for a command, with its source metadata. */
export interface ResolvedTable extends SelectedTable {
  /** Its structure on the source. */
  readonly metadata: TableMetadata;
}

/**
 * Resolves `patterns` (or every base table) on the source, largest first, and refuses a table without a primary key.
 *
 * @param pool - the source pool
 * @param schema - the source database
 * @param patterns - `--tables`, or undefined for every base table
 * @param command - the command's name (for messages)
 * @throws {@link CliError} when a name or pattern matches nothing, nothing is left, or a table has no primary key
 */
export async function resolveTables(pool: TablePool, schema: string, patterns: readonly string[] | undefined, command: string): Promise<ResolvedTable[]> {
  let selected: SelectedTable[];
  try {
    selected = await selectTables(pool, schema, patterns);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ER_DUALWRITE_INVALID_OPTION' || patterns === undefined) throw error;
    const missing = await firstUnmatched(pool, schema, patterns);
    throw new CliError(
      'ER_DUALWRITE_CLI_TABLE_NOT_FOUND',
      `${missing.includes('*') ? `the pattern ${missing} matches no` : `table ${missing} is not a`} base table of the source database \`${schema}\`: check the spelling in --tables (names are case-sensitive on most servers) and the database in --source`,
      { cause: error },
    );
  }
  const named = new Set(patterns?.filter((pattern) => !pattern.includes('*')) ?? []);
  selected = selected.filter((table) => !table.name.startsWith(INTERNAL_TABLE_PREFIX) || named.has(table.name));
  if (selected.length === 0) {
    throw new CliError('ER_DUALWRITE_CLI_NO_TABLES', `no table to ${command}: the source database \`${schema}\` has no base table${patterns === undefined ? '' : ' matching --tables'} besides dualwrite's own; check --source and --tables`);
  }
  const settings = await loadServerSettings(pool);
  const resolved: ResolvedTable[] = [];
  for (const table of selected) {
    let metadata: TableMetadata;
    try {
      metadata = await loadTable(pool, schema, table.name, settings);
    } catch (error) {
      if (error instanceof TableNotFoundError) throw new CliError('ER_DUALWRITE_CLI_TABLE_NOT_FOUND', `table \`${schema}\`.\`${table.name}\` disappeared from the source while it was being read; run again`, { cause: error });
      throw error;
    }
    if (metadata.primaryKey.length === 0) {
      throw new CliError(
        'ER_DUALWRITE_CLI_NO_PRIMARY_KEY',
        `table \`${schema}\`.\`${table.name}\` has no primary key, so ${command} refuses it: rows are copied and compared by primary-key ranges and a key is never guessed from other columns; ` +
          `add a primary key (e.g. promote a NOT NULL unique key), or leave the table out of --tables`,
      );
    }
    resolved.push({ ...table, metadata });
  }
  return resolved;
}

/** The first of `patterns` that matches no base table. */
async function firstUnmatched(pool: TablePool, schema: string, patterns: readonly string[]): Promise<string> {
  for (const pattern of patterns) {
    try {
      await selectTables(pool, schema, [pattern]);
    } catch {
      return pattern;
    }
  }
  return patterns[0] ?? '';
}

/**
 * What every verify mode needs before and around its comparison: each side's database, each table
 * loaded and checked on both sides (with the hash options of a normalisation profile), connections
 * checked out with `time_zone = '+00:00'`, and the streaming of confirmed differences into counts.
 * Shared by `verify()` and the keyed modes (`verifyIncremental`, `verifyKeys`).
 *
 * @module
 */
import { InvalidOptionError, TableNotFoundError } from '../errors.js';
import { loadTable } from '../schema/index.js';
import type { ServerSettings, TableMetadata } from '../schema/types.js';
import { hashedColumns, type HashOptions } from './checksum.js';
import { queryExact } from './codec.js';
import { databaseOrDefault } from './default-database.js';
import { primaryKeyColumns, type KeyTuple } from './keyset.js';
import { checkProfile, hasRules, normalizedColumn, type NormalizationProfile, type NormalizationRule } from './normalize.js';
import type { KeyComparison } from './verify-drill.js';
import type { Difference, TableVerifyReport, VerifyConnection, VerifyOptions, VerifyPool } from './verify.js';

/** The pool's default database, or the schema given. */
export async function schemaOf(pool: VerifyPool, given: string | undefined, side: string): Promise<string> {
  return databaseOrDefault(pool, given, `verify ${side}Schema`);
}

/** A table ready to compare (with each side's hash options), or the reason it cannot be. */
export type Prepared =
  | { source: TableMetadata; target: TableMetadata; hash: { source: HashOptions; target: HashOptions; covered: readonly NormalisedColumn[] } }
  | { source: TableMetadata; status: 'missing_on_target' | 'schema_mismatch'; detail: string };

/** A column a normalisation rule covers on at least one side. */
export interface NormalisedColumn {
  /** The column's name (as on the source). */
  readonly name: string;
  /** The rules applied on either side. */
  readonly rules: readonly NormalizationRule[];
}

/** Each side's hash options under `profile`, and the columns it covers (none without a profile). */
function hashPlan(source: TableMetadata, target: TableMetadata, settings: { source: ServerSettings; target: ServerSettings }, profile: NormalizationProfile | undefined): Extract<Prepared, { hash: unknown }>['hash'] {
  if (!hasRules(profile)) return { source: {}, target: {}, covered: [] };
  const covered: NormalisedColumn[] = [];
  for (const column of hashedColumns(source)) {
    const other = target.columnsByName.get(column.name.toLowerCase());
    const rules = new Set([
      ...normalizedColumn(column, profile, settings.source.flavor).rules,
      ...(other === undefined ? [] : normalizedColumn(other, profile, settings.target.flavor).rules),
    ]);
    if (rules.size > 0 && !source.primaryKey.some((key) => key.toLowerCase() === column.name.toLowerCase())) covered.push({ name: column.name, rules: [...rules] });
  }
  const digestColumns = covered.map((column) => column.name);
  return { source: { profile, flavor: settings.source.flavor, digestColumns }, target: { profile, flavor: settings.target.flavor, digestColumns }, covered };
}

export async function prepareTable(name: string, schemas: { source: string; target: string }, settings: { source: ServerSettings; target: ServerSettings }, options: VerifyOptions): Promise<Prepared> {
  const [source, target] = await Promise.all([
    loadTable(options.source, schemas.source, name, settings.source),
    loadTable(options.target, schemas.target, name, settings.target).catch((error: unknown) => {
      if (error instanceof TableNotFoundError) return null;
      throw error;
    }),
  ]);
  if (source.primaryKey.length === 0) {
    throw new InvalidOptionError(
      'verify tables',
      name,
      `tables with a primary key: \`${schemas.source}\`.\`${name}\` has none on the source. Verify compares rows by primary key ` +
        'and does not guess one from other columns; add a primary key or leave the table out',
    );
  }
  primaryKeyColumns(source); // refuses ENUM/SET key columns
  if (target === null) {
    return { source, status: 'missing_on_target', detail: `table \`${schemas.target}\`.\`${name}\` does not exist on the target: create it (and backfill) before verifying` };
  }
  const columnsOf = (table: TableMetadata): string => hashedColumns(table).map((column) => column.name.toLowerCase()).join(', ');
  const keyOf = (table: TableMetadata): string => table.primaryKey.map((column) => column.toLowerCase()).join(', ');
  if (columnsOf(source) !== columnsOf(target) || keyOf(source) !== keyOf(target)) {
    return {
      source,
      status: 'schema_mismatch',
      detail:
        `the sides differ in columns or primary key: source columns (${columnsOf(source)}) key (${keyOf(source)}), ` +
        `target columns (${columnsOf(target)}) key (${keyOf(target)}); make the target's table definition match the source's`,
    };
  }
  return { source, target, hash: hashPlan(source, target, settings, options.normalize === undefined ? undefined : checkProfile(options.normalize, 'verify normalize')) };
}

/** Checks out `count` connections of `pool` with `time_zone = '+00:00'`; `release` restores and returns them. */
export async function checkOut(pool: VerifyPool, count: number): Promise<{ connections: VerifyConnection[]; release: () => Promise<void> }> {
  const held: { connection: VerifyConnection; zone: string | null }[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(
      held.map(async ({ connection, zone }) => {
        try {
          if (zone !== null && zone !== '+00:00') await connection.query({ sql: 'SET time_zone = ?', values: [zone] });
        } finally {
          connection.release();
        }
      }),
    );
  };
  try {
    for (let i = 0; i < count; i++) {
      const connection = await pool.getConnection();
      const entry: { connection: VerifyConnection; zone: string | null } = { connection, zone: null };
      held.push(entry);
      const [row] = await queryExact(connection, 'SELECT @@session.time_zone');
      entry.zone = typeof row?.[0] === 'string' ? row[0] : null;
      if (entry.zone !== '+00:00') await connection.query({ sql: "SET time_zone = '+00:00'" });
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  return { connections: held.map((entry) => entry.connection), release };
}

/** The report of a table compared to the end. */
export function verifiedReport(run: {
  table: string;
  started: number;
  rowsChecked: number;
  chunks: number;
  chunksDiffered: number;
  rechecker: { readonly candidates: number; readonly resolved: number };
  counts: Record<Difference['kind'], number>;
  differences: Difference[];
  collect: boolean;
}): TableVerifyReport {
  return {
    table: run.table,
    status: 'verified',
    rowsChecked: run.rowsChecked,
    chunks: run.chunks,
    chunksDiffered: run.chunksDiffered,
    candidates: run.rechecker.candidates,
    resolvedOnRecheck: run.rechecker.resolved,
    ...run.counts,
    durationMs: Date.now() - run.started,
    ...(run.collect ? { differences: run.differences } : {}),
  };
}

/** Counts reported differences per kind, keeps them when `collect` is set, and streams them to `onDifference`. */
export function differenceCollector(
  table: string,
  keyNames: readonly string[],
  settings: { readonly collect: boolean; readonly onDifference: ((difference: Difference) => unknown) | undefined },
): { counts: Record<Difference['kind'], number>; differences: Difference[]; report: (key: KeyTuple, comparison: KeyComparison) => void | Promise<void> } {
  const counts = { missing: 0, extra: 0, different: 0 };
  const differences: Difference[] = [];
  const report = (key: KeyTuple, comparison: KeyComparison): void | Promise<void> => {
    const difference: Difference = {
      table,
      kind: comparison.kind,
      key: Object.fromEntries(keyNames.map((column, i) => [column, key[i] ?? null])),
      ...(comparison.columns === undefined ? {} : { columns: comparison.columns }),
    };
    counts[comparison.kind]++;
    if (settings.collect) differences.push(difference);
    const consumed = settings.onDifference?.(difference);
    return consumed instanceof Promise ? consumed.then(() => undefined) : undefined;
  };
  return { counts, differences, report };
}

/** Checks out `sourceCount` connections of the source and `targetCount` of the target (the source's given back if the target's fail). */
export async function checkOutBoth(
  source: VerifyPool,
  sourceCount: number,
  target: VerifyPool,
  targetCount: number,
): Promise<[Awaited<ReturnType<typeof checkOut>>, Awaited<ReturnType<typeof checkOut>>]> {
  const sourceSession = await checkOut(source, sourceCount);
  try {
    return [sourceSession, await checkOut(target, targetCount)];
  } catch (error) {
    await sourceSession.release();
    throw error;
  }
}

/**
 * What every mode of `dualwrite verify` prints: a line (or JSON line) per confirmed difference, a line per
 * table, and the verdict.
 *
 * @module
 */
import type { Difference, TableVerifyReport } from '../../migrate/verify.js';
import { count, duration, showKey, type Output } from '../output.js';

/** The `onDifference` callback that prints each confirmed difference as soon as it is confirmed. */
export function differencePrinter(output: Output): (difference: Difference) => void {
  return (difference) => {
    output.event('difference', { ...difference });
    output.print(`${difference.kind.padEnd(9)} ${difference.table}  ${showKey(difference.key)}${difference.columns === undefined ? '' : `  columns: ${difference.columns.join(', ')}`}`);
  };
}

/** Rows reported in `tables` (missing + extra + different). */
export function differenceTotal(tables: readonly TableVerifyReport[]): number {
  return tables.reduce((total, table) => total + table.missing + table.extra + table.different, 0);
}

/**
 * A table's result as one line: `name: identical` or its difference counts, then `what` (what was compared) and
 * the time; a table not compared says why.
 */
export function tableLine(table: TableVerifyReport, what: string, name: string = table.table): string {
  if (table.status !== 'verified') return `${name}: not compared (${table.status}): ${table.detail ?? ''}`;
  const found = table.missing + table.extra + table.different;
  return (
    `${name}: ${found === 0 ? 'identical' : `${count(found)} difference${found === 1 ? '' : 's'} (${count(table.missing)} missing, ${count(table.extra)} extra, ${count(table.different)} different)`}; ` +
    `${what}, ${duration(table.durationMs / 1000)}` +
    (table.resolvedOnRecheck > 0 ? `; ${count(table.resolvedOnRecheck)} in-flight differences resolved on re-read` : '')
  );
}

/**
 * The last line: `identical: …` or `NOT identical: …`.
 *
 * @param unchecked - why some of what was asked could not be compared (shown after the count), or null
 */
export function verdictLine(identical: boolean, tables: readonly TableVerifyReport[], unchecked: string | null): string {
  const differences = differenceTotal(tables);
  if (identical) return `identical: ${tables.length} table${tables.length === 1 ? '' : 's'} match`;
  const notCompared = tables.some((table) => table.status !== 'verified') ? ', and some tables could not be compared' : '';
  return `NOT identical: ${count(differences)} row${differences === 1 ? '' : 's'} differ${differences === 1 ? 's' : ''}${notCompared}${unchecked === null ? '' : `; ${unchecked}`}`;
}

/**
 * With a normalisation profile: a line per column whose exact values differed in some chunks whose rows all matched
 * after normalisation (`equal only after normalisation: price (floats rounded to 7 significant digits) in 12 chunks`).
 */
export function normalisedLines(table: TableVerifyReport): string[] {
  return (table.normalised ?? [])
    .filter((column) => column.chunksEqualOnlyAfterNormalisation > 0)
    .map((column) => {
      const chunks = column.chunksEqualOnlyAfterNormalisation;
      return `equal only after normalisation: ${column.column} (${column.rules}) in ${count(chunks)} chunk${chunks === 1 ? '' : 's'}`;
    });
}

/**
 * The end check of a fault scenario, run once the faults are lifted and the workload has stopped: drain the repair
 * log with the primary side authoritative, verify both sides, and hold the authoritative side to the ledger.
 *
 * Asserted: the drain repaired everything it read (nothing failed or skipped); every key the ledger tracks holds
 * one of the states the ledger allows on the authoritative side (acknowledged inserts present with their values,
 * the last acknowledged update's values, deletes absent; writes of unknown outcome either way); no row of a
 * rolled-back transaction exists on either side; no row the ledger cannot account for exists; and both the
 * library's `verify` and the independent row-by-row comparison of test/support find the two sides identical.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import { drainRepairLog, verify, type DrainRepairLogResult, type VerifyReport } from '../../src/migrate/index.js';
import { compareTables, formatComparison } from '../support/compare.js';
import { LEDGER_TABLES, type Ledger, type LedgerMismatch } from './ledger.js';
import { readSide } from './workload.js';

/** Repair and verify settings that do not wait: the workload has stopped, nothing is in flight. */
const NO_WAIT = { recheck: { delayMs: 0, attempts: 0 } } as const;

/** Statements that begin or end a transaction and change no row. */
const TRANSACTION_CONTROL = /^\s*(START\s+TRANSACTION|BEGIN|COMMIT|ROLLBACK)\b/i;

/** What {@link settle} found, for the scenario's report line. */
export interface Settlement {
  readonly drain: DrainRepairLogResult;
  /** Log rows left pending because they name no table (transaction control only). */
  readonly skipped: number;
  readonly verify: VerifyReport;
}

/**
 * Compares one side with the ledger (see {@link Ledger.check}) and returns the mismatches. `exact` for the
 * authoritative side.
 */
export async function ledgerMismatches(side: Pool, ledger: Ledger, exact: boolean): Promise<LedgerMismatch[]> {
  const mismatches: LedgerMismatch[] = [];
  for (const table of LEDGER_TABLES) mismatches.push(...ledger.check(table, await readSide(side, table), exact));
  return mismatches;
}

/**
 * Drains the repair log (authoritative: `primary`), verifies, and asserts what the module notes say.
 *
 * @param primary - direct pool on the side that was primary during the run (holds the repair log)
 * @param secondary - direct pool on the other side
 */
export async function settle(primary: Pool, secondary: Pool, ledger: Ledger): Promise<Settlement> {
  const drain = await drainRepairLog({ primary, secondary, verify: NO_WAIT, loopCheck: { delayMs: 0, attempts: 0 } });
  expect(drain.failed, 'repair-log rows whose repair failed').toEqual([]);
  // The pool logs a secondary transaction that failed to begin (START TRANSACTION) naming no table; the drain
  // cannot use such rows and leaves them pending. They carry no data change (the transaction's writes have rows of
  // their own, which the ledger and verify checks below hold to account): only those are accepted as skipped.
  const skippedIds = drain.skipped.flatMap((problem) => problem.ids);
  if (skippedIds.length > 0) {
    const [rows] = await primary.query<RowDataPacket[]>('SELECT id, statement FROM dualwrite_repair_log WHERE id IN (?)', [skippedIds]);
    const dataChanging = rows.filter((row) => !TRANSACTION_CONTROL.test(String(row.statement))).map((row) => `${String(row.id)}: ${String(row.statement).slice(0, 200)}`);
    expect(dataChanging, 'repair-log rows of data changes the drain could not use').toEqual([]);
  }

  expect(await ledgerMismatches(primary, ledger, true), 'the authoritative side against the ledger').toEqual([]);
  expect(await ledgerMismatches(secondary, ledger, false), 'rows on the secondary side the ledger cannot account for').toEqual([]);

  const report = await verify({ source: primary, target: secondary, tables: [...LEDGER_TABLES], ...NO_WAIT, collect: true, checkpointEveryMs: 0 });
  const differences = report.tables.flatMap((t) => t.differences ?? []).slice(0, 20);
  expect({ identical: report.identical, differences }, `verify after the drain: ${JSON.stringify(differences)}`).toEqual({ identical: true, differences: [] });
  const comparison = await compareTables(primary, secondary, [...LEDGER_TABLES]);
  expect(comparison.identical, `independent comparison after the drain:\n${formatComparison(comparison)}`).toBe(true);
  return { drain, skipped: skippedIds.length, verify: report };
}

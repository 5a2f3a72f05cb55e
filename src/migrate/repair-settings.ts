/**
 * The options and result types repair shares between `repairKeys`, `repair` and `drainRepairLog`, and the check
 * of the settings common to them.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { ExactValue } from './codec.js';
import { auditTableSql, DEFAULT_REPAIR_AUDIT_TABLE } from './repair-audit.js';
import type { DifferenceKind, VerifyPool } from './verify.js';

/** A pool as repair uses it (a mysql2/promise `Pool` fits): metadata reads, and connections to check out. */
export type RepairPool = VerifyPool;

/** A side's name, written in the audit. */
export type RepairSide = 'source' | 'target';

/** How {@link repairKeys} re-checks the keys it repaired. */
export interface RepairLoopCheckOptions {
  /**
   * Milliseconds before a key found still different is read again (the first read is the batch's own read-back,
   * inside its transaction).
   * @defaultValue 200
   */
  readonly delayMs?: number;
  /**
   * Delayed re-reads before a key still different is reported as a repair loop (0: report after the read-back).
   * @defaultValue 2
   */
  readonly attempts?: number;
}

/** Options shared by {@link repairKeys} and {@link repair}. */
export interface RepairSettingsOptions {
  /**
   * Read and plan only: nothing is written and no table is created; `onSql` receives every statement the repair
   * would run.
   * @defaultValue false
   */
  readonly dryRun?: boolean;
  /**
   * The audit table, created on first use on the repaired (non-authoritative) side, in the repaired table's
   * database unless qualified as `db.table`.
   * @defaultValue `'dualwrite_repair_audit'`
   */
  readonly auditTable?: string;
  /** Receives every statement that changes the repaired side (its text and values), run or — in a dry run — not. */
  readonly onSql?: (sql: string, values: readonly unknown[]) => void;
  /**
   * Keys per batch (one transaction on each side; the authoritative rows stay locked for the batch).
   * @defaultValue 100
   */
  readonly batchKeys?: number;
  /** How repaired keys are re-checked for repair loops (see repair's notes). */
  readonly loopCheck?: RepairLoopCheckOptions;
}


/** A key still different after its repair. */
export interface RepairLoop {
  /** The table. */
  readonly table: string;
  /** The primary key. */
  readonly key: Readonly<Record<string, ExactValue>>;
  /** Seen from the other side: `missing` there, `extra` there, or `different`. */
  readonly kind: DifferenceKind;
  /** For `different`: the columns that still differ. */
  readonly columns?: readonly string[];
}

/** What a repair did (or, in a dry run, would do). */
export interface RepairCounts {
  /** Distinct keys handled (colliding rows' keys repaired afterwards included). */
  readonly keys: number;
  /** Rows inserted on the other side. */
  readonly inserted: number;
  /** Rows updated. */
  readonly updated: number;
  /** Rows deleted (absent on the authoritative side). */
  readonly deleted: number;
  /** Rows written by delete + insert after a unique-key collision. */
  readonly replaced: number;
  /** Other rows deleted because they held a unique value a repaired row needed. */
  readonly collidingDeleted: number;
  /** Keys already equal (or absent on both sides) at repair time: nothing written. */
  readonly unchanged: number;
  /** Keys still different after their repair (see {@link RepairLoop}); not counted as failures. */
  readonly loops: number;
  /** Statements sent to `onSql` (writes and audit inserts). */
  readonly sqlStatements: number;
}

/** What {@link repairKeys} did. */
export interface RepairKeysResult extends RepairCounts {
  /** The table. */
  readonly table: string;
  /** True for a dry run. */
  readonly dryRun: boolean;
  /** The repair loops found (empty in a dry run, which checks nothing again). */
  readonly repairLoops: readonly RepairLoop[];
}

const DEFAULT_BATCH_KEYS = 100;
const DEFAULT_LOOP_DELAY_MS = 200;
const DEFAULT_LOOP_ATTEMPTS = 2;

/** The settings of {@link RepairSettingsOptions} with their defaults, checked: shared by every table of a run. */
export interface Settings {
  /** {@link RepairSettingsOptions.dryRun}. */
  readonly dryRun: boolean;
  /** {@link RepairSettingsOptions.auditTable}, checked. */
  readonly auditTable: string;
  /** {@link RepairSettingsOptions.onSql}. */
  readonly onSql: ((sql: string, values: readonly unknown[]) => void) | undefined;
  /** {@link RepairSettingsOptions.batchKeys}. */
  readonly batchKeys: number;
  /** {@link RepairLoopCheckOptions.delayMs}. */
  readonly loopDelayMs: number;
  /** {@link RepairLoopCheckOptions.attempts}. */
  readonly loopAttempts: number;
}

/**
 * Checks the settings shared by the repair functions and applies their defaults.
 *
 * @param options - the caller's options
 * @param owner - the function's name, for error messages
 * @throws {@link InvalidOptionError} for a bad batch size, loop check, audit table name or `onSql`
 */
export function checkSettings(options: RepairSettingsOptions, owner: string): Settings {
  const batchKeys = options.batchKeys ?? DEFAULT_BATCH_KEYS;
  if (!Number.isSafeInteger(batchKeys) || batchKeys < 1) throw new InvalidOptionError(`${owner} batchKeys`, batchKeys, 'a positive integer number of keys');
  const loopDelayMs = options.loopCheck?.delayMs ?? DEFAULT_LOOP_DELAY_MS;
  if (!Number.isFinite(loopDelayMs) || loopDelayMs < 0) throw new InvalidOptionError(`${owner} loopCheck.delayMs`, loopDelayMs, 'a number of milliseconds, 0 or more');
  const loopAttempts = options.loopCheck?.attempts ?? DEFAULT_LOOP_ATTEMPTS;
  if (!Number.isSafeInteger(loopAttempts) || loopAttempts < 0) throw new InvalidOptionError(`${owner} loopCheck.attempts`, loopAttempts, 'an integer, 0 or more');
  const auditTable = options.auditTable ?? DEFAULT_REPAIR_AUDIT_TABLE;
  auditTableSql(auditTable, 'x'); // checks the name
  if (options.onSql !== undefined && typeof options.onSql !== 'function') throw new InvalidOptionError(`${owner} onSql`, options.onSql, 'a function');
  return { dryRun: options.dryRun === true, auditTable, onSql: options.onSql, batchKeys, loopDelayMs, loopAttempts };
}

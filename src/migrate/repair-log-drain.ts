/**
 * Draining the dual-write pool's repair log: every pending row (`repaired_at IS NULL`) is repaired and marked
 * done. The log lives on the primary side of the mode the writes ran in, which is the authoritative side of their
 * repair; the log row's `secondary_side` says which side that is (written in the audit).
 *
 * Pending rows are read in `id` order, a page at a time, and grouped per table:
 * - rows with primary keys: exactly those keys are repaired ({@link repairKeys});
 * - rows without keys (`primary_keys` NULL: only the table is known): the whole table is verified and repaired
 *   ({@link repair}), which covers the page's keyed rows of that table too.
 * A table's rows are marked `repaired_at = UTC_TIMESTAMP(6)` once its repair succeeded; when it fails they stay
 * pending (reported in `failed`) and the drain goes on with the next table. A key found to be a repair loop is
 * reported and its row is marked anyway: repairing it again would not help (see repair's notes).
 * Rows naming no table cannot be repaired by key or table: they are reported in `skipped` and stay pending.
 * Intent rows (pool option `intents`) are repaired like the others once older than `intentGraceMs`; younger ones
 * are left pending and counted in `youngIntents`.
 *
 * A dry run marks nothing and writes nothing; it still reads every pending row once (paging by id).
 *
 * Limits: key values are taken as the pool logged them (text, numbers, `{"$hex": …}` bytes); a TIMESTAMP key is
 * expected as UTC text.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { poolDatabase } from './default-database.js';
import { groupRepairLogRows, pendingRepairLogPage, repairLogTableSql, youngIntentCount, type RepairLogRow } from './repair-log-read.js';
import { repair, repairKeys, type RepairCounts, type RepairLoop, type RepairPool, type RepairSettingsOptions, type RepairSide } from './repair.js';
import type { VerifyOptions } from './verify.js';

/** The repair log's default name (the dual-write pool's `repairLogTable` default). */
export const DEFAULT_REPAIR_LOG_TABLE = 'dualwrite_repair_log';

/** Options of {@link drainRepairLog}. */
export interface DrainRepairLogOptions extends RepairSettingsOptions {
  /** The pool of the side holding the repair log: the primary side of the logged writes, authoritative for their repair. */
  readonly primary: RepairPool;
  /** The pool of the side to repair (the secondary side of the logged writes). */
  readonly secondary: RepairPool;
  /**
   * The repair log table, in the primary pool's database unless qualified as `db.table`.
   * @defaultValue `'dualwrite_repair_log'`
   */
  readonly logTable?: string;
  /**
   * The secondary side's database for a table the log names in `primarySchema`.
   * @defaultValue the secondary pool's database for tables of the primary pool's database (or unnamed), the same name otherwise
   */
  readonly secondarySchema?: string | ((primarySchema: string) => string);
  /**
   * Log rows read per page.
   * @defaultValue 100
   */
  readonly batch?: number;
  /** Verify settings for log rows that name a whole table. */
  readonly verify?: Pick<VerifyOptions, 'chunkRows' | 'recheck'>;
  /**
   * Intent rows (pool option `intents`) younger than this are left for a later drain, in milliseconds: their write
   * may still be in flight in a live process, whose secondary COMMIT and delete of the row are about to follow.
   * Use 0 when no process writes any more (after a crash, with the pools stopped).
   * @defaultValue 30000
   */
  readonly intentGraceMs?: number;
}

/** The default of {@link DrainRepairLogOptions.intentGraceMs}. */
export const DEFAULT_INTENT_GRACE_MS = 30_000;

/** A log row that could not be repaired. */
export interface DrainProblem {
  /** The log rows' ids (decimal text). */
  readonly ids: readonly string[];
  /** The table, when the rows name one. */
  readonly table: string | null;
  /** Why. */
  readonly reason: string;
}

/** What {@link drainRepairLog} did. */
export interface DrainRepairLogResult extends Omit<RepairCounts, 'loops'> {
  /** True for a dry run (nothing written, nothing marked). */
  readonly dryRun: boolean;
  /** Pending log rows read. */
  readonly logRows: number;
  /** Log rows marked repaired. */
  readonly marked: number;
  /** Tables verified and repaired whole (log rows without keys). */
  readonly wholeTables: number;
  /** Rows naming no table, or whose keys cannot be read: left pending. */
  readonly skipped: readonly DrainProblem[];
  /** Rows whose repair failed: left pending. */
  readonly failed: readonly DrainProblem[];
  /** Repair loops found. */
  readonly loops: readonly RepairLoop[];
  /** Pending intent rows younger than `intentGraceMs`: not read, left for a later drain. */
  readonly youngIntents: number;
}

const DEFAULT_BATCH = 100;
const ER_NO_SUCH_TABLE = 1146;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether the log table exists (a pool that never logged anything has none). */
async function logExists(pool: RepairPool, logTable: string): Promise<boolean> {
  try {
    await pool.query(`SELECT 1 FROM ${logTable} LIMIT 0`);
    return true;
  } catch (error) {
    if ((error as { errno?: unknown }).errno === ER_NO_SUCH_TABLE) return false;
    throw error;
  }
}

/**
 * Repairs what the dual-write pool's repair log records as missing on the secondary side, and marks the log rows
 * repaired (see the module notes).
 *
 * @param options - see {@link DrainRepairLogOptions}
 * @returns counts of log rows and of repairs, loops, and the rows left pending with the reason
 * @throws {@link InvalidOptionError} for bad options
 * @throws the database error of reading or marking the log
 */
export async function drainRepairLog(options: DrainRepairLogOptions): Promise<DrainRepairLogResult> {
  const batch = options.batch ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new InvalidOptionError('drainRepairLog batch', batch, 'a positive integer number of log rows');
  const logTable = repairLogTableSql(options.logTable ?? DEFAULT_REPAIR_LOG_TABLE, 'drainRepairLog logTable');
  const graceMs = options.intentGraceMs ?? DEFAULT_INTENT_GRACE_MS;
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
    throw new InvalidOptionError('drainRepairLog intentGraceMs', graceMs, 'a number of milliseconds of at least 0');
  }
  const [primaryDb, secondaryDb] = await Promise.all([poolDatabase(options.primary), poolDatabase(options.secondary)]);
  const secondarySchemaOf = (schema: string): string => {
    if (typeof options.secondarySchema === 'function') return options.secondarySchema(schema);
    if (typeof options.secondarySchema === 'string') return options.secondarySchema;
    return schema === primaryDb && secondaryDb !== null ? secondaryDb : schema;
  };
  const dryRun = options.dryRun === true;
  const repairSettings: RepairSettingsOptions = {
    dryRun,
    ...(options.auditTable === undefined ? {} : { auditTable: options.auditTable }),
    ...(options.onSql === undefined ? {} : { onSql: options.onSql }),
    ...(options.batchKeys === undefined ? {} : { batchKeys: options.batchKeys }),
    ...(options.loopCheck === undefined ? {} : { loopCheck: options.loopCheck }),
  };

  const totals = { keys: 0, inserted: 0, updated: 0, deleted: 0, replaced: 0, collidingDeleted: 0, unchanged: 0, sqlStatements: 0 };
  const add = (counts: RepairCounts): void => {
    for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += counts[name];
  };
  const loops: RepairLoop[] = [];
  const skipped: DrainProblem[] = [];
  const failed: DrainProblem[] = [];
  let logRows = 0;
  let marked = 0;
  let wholeTables = 0;
  let lastId = '0';

  for (;;) {
    let rows: RepairLogRow[];
    try {
      rows = await pendingRepairLogPage(options.primary, logTable, lastId, batch, graceMs);
    } catch (error) {
      if ((error as { errno?: unknown }).errno === ER_NO_SUCH_TABLE && logRows === 0) break; // no failure was ever logged
      throw error;
    }
    if (rows.length === 0) break;
    logRows += rows.length;
    lastId = (rows[rows.length - 1] as RepairLogRow).id;

    const page = groupRepairLogRows(rows, primaryDb);
    skipped.push(...page.skipped);
    const groups = page.groups;

    for (const group of groups.values()) {
      const otherSchema = secondarySchemaOf(group.schema);
      try {
        if (group.whole) {
          const authoritative: RepairSide = group.side ?? 'source';
          // repair() names the sides source/target: the primary plays the authoritative one.
          const primaryIsSource = authoritative === 'source';
          const report = await repair({
            ...repairSettings,
            ...options.verify,
            source: primaryIsSource ? options.primary : options.secondary,
            target: primaryIsSource ? options.secondary : options.primary,
            sourceSchema: primaryIsSource ? group.schema : otherSchema,
            targetSchema: primaryIsSource ? otherSchema : group.schema,
            tables: [group.table],
            authoritative,
          });
          wholeTables++;
          for (const table of report.tables) {
            add(table);
            loops.push(...table.repairLoops);
          }
        } else {
          const result = await repairKeys({
            ...repairSettings,
            authoritative: options.primary,
            other: options.secondary,
            authoritativeSchema: group.schema,
            otherSchema,
            table: group.table,
            keys: group.keys,
            ...(group.side === null ? {} : { authoritativeSide: group.side }),
          });
          add(result);
          loops.push(...result.repairLoops);
        }
      } catch (error) {
        failed.push({ ids: group.ids, table: group.table, reason: message(error) });
        continue;
      }
      if (!dryRun) {
        await options.primary.query(`UPDATE ${logTable} SET repaired_at = UTC_TIMESTAMP(6) WHERE repaired_at IS NULL AND id IN (${group.ids.map(() => '?').join(', ')})`, [...group.ids]);
        marked += group.ids.length;
      }
    }
  }
  const youngIntents = logRows === 0 && !(await logExists(options.primary, logTable)) ? 0 : await youngIntentCount(options.primary, logTable, graceMs);
  return { dryRun, logRows, marked, wholeTables, skipped, failed, loops, youngIntents, ...totals };
}

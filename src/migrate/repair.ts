/**
 * Repair: makes rows of the **other** side equal to the **authoritative** side (the primary side of the current
 * mode, unless overridden), key by key, exactly, with an audit trail.
 *
 * - {@link repairKeys} repairs given primary keys of one table.
 * - {@link repair} runs {@link verify} and repairs every difference it confirms, in batches, while verify goes on.
 * - `drainRepairLog` (./repair-log-drain) repairs the keys the dual-write pool recorded in its repair log.
 *
 * ## One batch of keys
 *
 * A batch costs about a dozen round trips whatever its size (`batchKeys`, 100 by default), not one per key:
 *
 * 1. authoritative side: `START TRANSACTION`, read the batch's rows exactly with one `SELECT … FOR UPDATE` — a
 *    concurrent dual-write to one of these rows waits until step 3, then replays on top of the repaired row;
 * 2. other side: `START TRANSACTION`, read the rows as they are (`FOR UPDATE`, one statement), then per key:
 *    - absent on both sides, or equal: nothing (`unchanged`);
 *    - absent on the authoritative side: deleted, all such keys with one `DELETE … WHERE <keys>` (`delete`),
 *      first, so that the unique values they hold are free for the writes that follow;
 *    - present on both sides: updated (`update`), all with one **update by insert** — a multi-row
 *      `INSERT … ON DUPLICATE KEY UPDATE` assigning every column, the primary key's included, sent only for rows
 *      whose key is present and locked: it either updates exactly those rows or fails (./repair-statements says
 *      why); on a table with triggers on the other side, one `UPDATE … WHERE key` per row instead;
 *    - absent on the other side: inserted, all with one multi-row `INSERT` (`insert`).
 *    A multi-row statement that fails on a unique key (ER_DUP_ENTRY) is rolled back by the server alone, and only
 *    its rows are written again one at a time: a plain INSERT or UPDATE (never `ON DUPLICATE KEY UPDATE` there,
 *    which with a second unique key could update another row), which fails again only for a row that collides; that
 *    row falls back to deleting the rows that hold its unique values (`delete_colliding`) and the row itself, then
 *    inserting it (`replace`). The keys of deleted colliding rows are repaired next (the authoritative side may hold
 *    them with other values), up to three rounds; after that they are checked like repaired rows;
 *    - one audit row per changed row (see ./repair-audit), multi-row inserts in the same transaction;
 *    - the written rows are read back in the same transaction (see Repair loops); `COMMIT`;
 * 3. authoritative side: `COMMIT` (the other side committed first, so the repaired row is in place before any
 *    waiting write; nothing was written on the authoritative side).
 *
 * Both sessions use `time_zone = '+00:00'` (TIMESTAMP values are UTC text, see ./codec) and the other side's
 * session `foreign_key_checks = 0` (a child may be repaired before its parent; deletes do not cascade — the
 * children are differences of their own); ./repair-session sets and restores them. A deadlock or lock wait timeout
 * rolls the batch back and retries it (3 attempts in all).
 *
 * ## Repair loops
 *
 * Before its commit, a batch reads its written rows back (the authoritative rows are still locked, so nothing else
 * changed them). A row that is not the authoritative row is a suspect, read again on both sides (no lock) after
 * `loopCheck.delayMs` (a concurrent write may be on its way), up to `loopCheck.attempts` times; one still different
 * then is a **repair loop** — the other side cannot hold the authoritative row exactly (a column of another type or
 * collation, a trigger, a codec problem). It is reported (and audited as `repair_loop`), never repaired again by the
 * same run, so a repair never goes round forever. These delayed checks run beside the next batches
 * (./repair-loops); a run ends once they are done.
 *
 * ## Beside verify
 *
 * {@link repair} does not wait for verify to end: a table's confirmed differences are repaired as soon as
 * `batchKeys` of them are waiting, while the scan goes on, one batch at a time in the order they filled up; the
 * keys left when verify ends are repaired then. So a repair takes about as long as verify of the same tables.
 *
 * ## Dry run
 *
 * `dryRun: true` reads without locks and without transactions and writes nothing (no audit table either): every
 * statement it would run (writes and audit inserts) goes to `onSql`, and the counts say what it would do. Unique-key
 * collisions are found by a read, since no write can fail: rows of a multi-row statement where one collides are
 * shown as their one-row statements; the keys of colliding rows are not planned again (a real run repairs them after
 * deleting the rows, which the dry run did not).
 *
 * Limits: both sides' tables must have the same non-generated columns in the same order and the same primary key
 * (as verify requires). Keys are bound as the server compares them, so on a side with a case-insensitive key
 * collation the key `'a'` also names the row `'A'`. In a real run, `onSql` also sees a multi-row statement that
 * failed on a unique key (its rows were then written one by one).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { ExactValue } from './codec.js';
import { checkSettings, type RepairCounts, type RepairKeysResult, type RepairLoop, type RepairPool, type RepairSettingsOptions, type RepairSide } from './repair-settings.js';
import { TableRepairer } from './repair-table.js';
import { databaseOrDefault } from './default-database.js';
import { verify, type Difference, type VerifyOptions, type VerifyReport } from './verify.js';

export { DEFAULT_REPAIR_AUDIT_TABLE, type RepairAction, type RepairAuditEntry } from './repair-audit.js';
export { RepairSchemaMismatchError } from '../errors.js';
export {
  type RepairCounts,
  type RepairKeysResult,
  type RepairLoop,
  type RepairLoopCheckOptions,
  type RepairPool,
  type RepairSettingsOptions,
  type RepairSide,
} from './repair-settings.js';

/** Options of {@link repairKeys}. */
export interface RepairKeysOptions extends RepairSettingsOptions {
  /** The pool of the side whose rows are right. */
  readonly authoritative: RepairPool;
  /** The pool of the side to repair. */
  readonly other: RepairPool;
  /**
   * The authoritative side's database.
   * @defaultValue the authoritative pool's database (`SELECT DATABASE()`)
   */
  readonly authoritativeSchema?: string;
  /**
   * The other side's database.
   * @defaultValue the other pool's database (`SELECT DATABASE()`)
   */
  readonly otherSchema?: string;
  /** Which side is authoritative, written in the audit (null there when not given). */
  readonly authoritativeSide?: RepairSide;
  /** The table (the same name on both sides). */
  readonly table: string;
  /** The primary keys to repair, column → exact value (as verify reports them); duplicates are repaired once. */
  readonly keys: readonly Readonly<Record<string, ExactValue>>[];
}


/** The pool's default database, or the schema given. */
/**
 * Repairs the rows of `keys` in `table`: each row of the other side is made equal to the authoritative side's row
 * as it is at repair time (inserted, updated, or deleted), with an audit row per change, then re-checked for repair
 * loops (see the module notes).
 *
 * @param options - see {@link RepairKeysOptions}
 * @returns what was done per action, the loops found, and the statements sent to `onSql`
 * @throws {@link InvalidOptionError} for bad options, a key without every primary-key column, or a table without a usable primary key
 * @throws {@link RepairSchemaMismatchError} when the sides' columns or primary keys differ
 * @throws {@link TableNotFoundError} when the table is missing on a side
 * @throws the database error of a failed statement (the batch it belongs to is rolled back; earlier batches stay repaired)
 */
export async function repairKeys(options: RepairKeysOptions): Promise<RepairKeysResult> {
  const settings = checkSettings(options, 'repairKeys');
  if (typeof options.table !== 'string' || options.table === '') throw new InvalidOptionError('repairKeys table', options.table, 'a table name');
  if (!Array.isArray(options.keys)) throw new InvalidOptionError('repairKeys keys', options.keys, 'a list of primary keys, each an object column → value');
  const [authSchema, otherSchema] = await Promise.all([
    databaseOrDefault(options.authoritative, options.authoritativeSchema, 'repairKeys authoritativeSchema'),
    databaseOrDefault(options.other, options.otherSchema, 'repairKeys otherSchema'),
  ]);
  const repairer = await TableRepairer.create({
    auth: options.authoritative,
    other: options.other,
    authSchema,
    otherSchema,
    table: options.table,
    settings,
    side: options.authoritativeSide ?? null,
  });
  try {
    await repairer.repair(repairer.tuples(options.keys));
  } catch (error) {
    await repairer.finish().catch(() => undefined); // no loop check outlives the call; the batch's error wins
    throw error;
  }
  await repairer.finish();
  return repairer.result();
}

/** Options of {@link repair}: verify's options (except `collect`) and the repair's. */
export interface RepairOptions extends Omit<VerifyOptions, 'collect'>, RepairSettingsOptions {
  /** The side whose rows are right: the primary side of the current mode (the CLI derives it from the mode). */
  readonly authoritative: RepairSide;
}

/** What {@link repair} did in one table. */
export interface TableRepairReport extends RepairCounts {
  /** The table. */
  readonly table: string;
  /** Differences verify confirmed in the table. */
  readonly differences: number;
  /** The repair loops found in the table. */
  readonly repairLoops: readonly RepairLoop[];
}

/** What {@link repair} found and did. */
export interface RepairReport {
  /** True for a dry run (nothing was written). */
  readonly dryRun: boolean;
  /** The authoritative side. */
  readonly authoritative: RepairSide;
  /** Verify's report (the differences found before repair). */
  readonly verify: VerifyReport;
  /** One entry per table with at least one difference, in the order of their first difference. */
  readonly tables: readonly TableRepairReport[];
  /** Rows inserted, updated, deleted and replaced, over all tables (colliding rows deleted not included). */
  readonly repaired: number;
  /** Every repair loop found. */
  readonly loops: readonly RepairLoop[];
  /** Statements sent to `onSql` (in a dry run: the statements it would run). */
  readonly sqlStatements: number;
}

/** Batches of keys repair lets verify hand over before it makes verify wait. */
const MAX_BATCHES_IN_FLIGHT = 4;

/**
 * Verifies `tables` and repairs every difference verify confirms, making the non-authoritative side equal to the
 * authoritative one. Differences are batched per table (`batchKeys`) and repaired while verify goes on, one batch
 * at a time (see the module notes); when more than four batches wait, verify waits too, so the keys held in memory
 * stay bounded whatever the number of differences.
 *
 * @param options - see {@link RepairOptions}
 * @returns verify's report and what the repair did per table
 * @throws what {@link verify} and {@link repairKeys} throw; a failed repair batch stops the run
 */
export async function repair(options: RepairOptions): Promise<RepairReport> {
  const settings = checkSettings(options, 'repair');
  if (options.job !== undefined) {
    throw new InvalidOptionError(
      'repair job',
      options.job,
      'no job: a repair does not resume from verify checkpoints (a kill could leave keys found but not yet repaired behind the checkpoint); run the repair again, it compares everything and repairs what is left',
    );
  }
  if (options.authoritative !== 'source' && options.authoritative !== 'target') {
    throw new InvalidOptionError('repair authoritative', options.authoritative, "'source' or 'target' (the primary side of the current mode)");
  }
  const [sourceSchema, targetSchema] = await Promise.all([
    databaseOrDefault(options.source, options.sourceSchema, 'repair sourceSchema'),
    databaseOrDefault(options.target, options.targetSchema, 'repair targetSchema'),
  ]);
  const fromSource = options.authoritative === 'source';
  const repairers = new Map<string, { repairer: Promise<TableRepairer>; differences: number }>();
  const pending = new Map<string, Record<string, ExactValue>[]>();
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;

  const entryFor = (table: string): { repairer: Promise<TableRepairer>; differences: number } => {
    let entry = repairers.get(table);
    if (entry === undefined) {
      const repairer = TableRepairer.create({
        auth: fromSource ? options.source : options.target,
        other: fromSource ? options.target : options.source,
        authSchema: fromSource ? sourceSchema : targetSchema,
        otherSchema: fromSource ? targetSchema : sourceSchema,
        table,
        settings,
        side: options.authoritative,
      });
      repairer.catch(() => undefined); // awaited in the chain
      entry = { repairer, differences: 0 };
      repairers.set(table, entry);
    }
    return entry;
  };
  // Keys handed to the chain and not yet repaired: beyond a few batches, verify waits (memory stays bounded).
  let inFlight = 0;
  const maxInFlight = settings.batchKeys * MAX_BATCHES_IN_FLIGHT;
  const flush = (table: string): void => {
    const keys = pending.get(table);
    pending.delete(table);
    if (keys === undefined || keys.length === 0) return;
    const entry = entryFor(table);
    inFlight += keys.length;
    chain = chain
      .then(async () => {
        if (failure !== null) return;
        const repairer = await entry.repairer;
        await repairer.repair(repairer.tuples(keys));
      })
      .catch((error: unknown) => {
        failure ??= error;
        stop.abort(error);
      })
      .then(() => {
        inFlight -= keys.length;
      });
  };
  const onDifference = (difference: Difference): Promise<void> | undefined => {
    options.onDifference?.(difference);
    entryFor(difference.table).differences++;
    let keys = pending.get(difference.table);
    if (keys === undefined) pending.set(difference.table, (keys = []));
    keys.push(difference.key);
    if (keys.length >= settings.batchKeys) flush(difference.table);
    return inFlight > maxInFlight ? chain : undefined;
  };

  /** Waits for every table's loop checks, so that none outlives the run; throws the first error unless `quiet`. */
  const finishAll = async (quiet: boolean): Promise<void> => {
    const settled = await Promise.allSettled([...repairers.values()].map(async (entry) => (await entry.repairer.catch(() => null))?.finish()));
    const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (!quiet && rejected !== undefined) throw rejected.reason;
  };

  const { dryRun: _dryRun, auditTable: _auditTable, onSql: _onSql, batchKeys: _batchKeys, loopCheck: _loopCheck, authoritative: _authoritative, ...verifyOptions } = options;
  let verifyReport: VerifyReport;
  try {
    verifyReport = await verify({ ...verifyOptions, sourceSchema, targetSchema, signal, onDifference });
  } catch (error) {
    await chain;
    await finishAll(true);
    throw (failure ?? error) as Error;
  }
  for (const table of [...pending.keys()]) flush(table);
  await chain;
  if (failure !== null) {
    await finishAll(true);
    throw failure as Error;
  }
  await finishAll(false);

  const tables: TableRepairReport[] = [];
  for (const [table, entry] of repairers) {
    const result = (await entry.repairer).result();
    const { dryRun: _ignored, table: _name, ...counts } = result;
    tables.push({ table, differences: entry.differences, ...counts });
  }
  return {
    dryRun: settings.dryRun,
    authoritative: options.authoritative,
    verify: verifyReport,
    tables,
    repaired: tables.reduce((sum, t) => sum + t.inserted + t.updated + t.deleted + t.replaced, 0),
    loops: tables.flatMap((t) => t.repairLoops),
    sqlStatements: tables.reduce((sum, t) => sum + t.sqlStatements, 0),
  };
}

/**
 * `CutoverGuard`: mode switches with preconditions, an audit of every attempt, and an automatic
 * fall-back. Used by the `dualwrite mode set` command and the HTTP admin handler; applications can
 * use it directly.
 *
 * @module
 */
import { CutoverRefusedError, InvalidOptionError, SwitchNotAppliedError, type CutoverCheckResult } from '../errors.js';
import { parseMode, type Mode } from '../mode/modes.js';
import type { AuditEntry } from '../mode/redis-audit.js';
import type { FlagDocument } from '../mode/redis-flag-document.js';
import type { FlagValues, RedisModeController, SwitchModeOptions, SwitchReport } from '../mode/redis-mode-controller.js';
import { checkTableKey } from '../mode/table-modes.js';
import { checkBacklog, checkFleetApplied, checkRecentVerify, defaultDatabase, sourceTables, type GuardQueryable } from './cutover-checks.js';
import { checkFallback, watchForFallback, type FallbackOptions, type FallbackWatch } from './fallback-watch.js';

/** Options of {@link CutoverGuard}. */
export interface CutoverGuardOptions {
  /** The controller that reads and writes the flags. */
  readonly controller: RedisModeController;
  /** The source's pool (repair-log backlog; the list of tables a whole-pool switch must have verified). */
  readonly source?: GuardQueryable;
  /** The target's pool (recorded verify runs; repair-log backlog). */
  readonly target?: GuardQueryable;
  /** The repair-log table on each side. @defaultValue `'dualwrite_repair_log'` */
  readonly repairLogTable?: string;
  /** The verify-runs table on the target. @defaultValue `'dualwrite_verify_runs'` */
  readonly verifyRunsTable?: string;
  /** Clock, in milliseconds since the epoch. @defaultValue `Date.now` */
  readonly now?: () => number;
  /**
   * The preconditions and fall-back every switch gets unless its own options say otherwise (so that a
   * caller that only passes a mode, such as the HTTP admin handler, is guarded too).
   */
  readonly policy?: Pick<GuardedSwitchOptions, 'requireVerifyWithinMs' | 'tables' | 'maxBacklog' | 'requireFleetApplied' | 'fallback'>;
}

/**
 * Options of {@link CutoverGuard.switchMode}: those of `RedisModeController.switchMode` (`source` is the
 * actor), the preconditions, `force`, and the fall-back. Preconditions apply to moves to `target_first`
 * and `target_only` only; a move back towards the source is never held up.
 */
export interface GuardedSwitchOptions extends Omit<SwitchModeOptions, 'forced'> {
  /** (a) Require a verify run recorded within this many milliseconds, identical, covering the tables concerned. */
  readonly requireVerifyWithinMs?: number;
  /**
   * The tables a whole-pool switch must have verified, `schema.table` (the source database's name).
   * @defaultValue every base table of the source's database except the `dualwrite_*` tables (needs `source`)
   */
  readonly tables?: readonly string[];
  /** (b) Require at most this many pending repair-log rows on each side (of `table` only, for a table switch). */
  readonly maxBacklog?: number;
  /** (c) For `target_only`: require every live instance to have applied the current revision. @defaultValue true */
  readonly requireFleetApplied?: boolean;
  /** Switch even when a precondition fails; audited as `forced` with the failed checks. @defaultValue false */
  readonly force?: boolean;
  /** Watch the new primary side after the switch and put the previous values back when it fails (see `fallback-watch`). */
  readonly fallback?: FallbackOptions;
}

/** What {@link CutoverGuard.switchMode} did. */
export interface GuardedSwitchResult {
  /** Who has applied the switch (as `RedisModeController.switchMode` reports it). */
  readonly report: SwitchReport;
  /** Every precondition checked (empty when none applied). */
  readonly checks: readonly CutoverCheckResult[];
  /** Whether a failed precondition was overridden with `force`. */
  readonly forced: boolean;
  /** The fall-back watch, when `fallback` was given. */
  readonly fallback?: FallbackWatch;
}

/**
 * Switches the mode through a {@link RedisModeController} after checking the preconditions, audits
 * every attempt (refused ones too), and optionally watches for a fall-back.
 *
 * @example
 * const guard = new CutoverGuard({ controller, source: sourcePool, target: targetPool });
 * const { fallback } = await guard.switchMode('target_first', {
 *   source: 'ops:alice', requireVerifyWithinMs: 3_600_000, maxBacklog: 0,
 *   fallback: { watchMs: 300_000, maxErrorRate: 0.01, maxP99Ms: 250 },
 * });
 * console.log(await fallback?.done);
 */
export class CutoverGuard {
  readonly #options: CutoverGuardOptions;
  readonly #now: () => number;

  /** @param options - see {@link CutoverGuardOptions} */
  constructor(options: CutoverGuardOptions) {
    if (typeof options?.controller?.switchMode !== 'function') throw new InvalidOptionError('CutoverGuard controller', options?.controller, 'a RedisModeController');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The controller switches go through. */
  get controller(): RedisModeController {
    return this.#options.controller;
  }

  /** The stored document, or `null` (see `RedisModeController.get`). */
  get(): Promise<FlagDocument | null> {
    return this.#options.controller.get();
  }

  /** Which live instances applied the stored revision (see `RedisModeController.status`). */
  status(revision?: number): Promise<SwitchReport> {
    return this.#options.controller.status(revision);
  }

  /** The newest audit entries, newest first (see `RedisModeController.audit`). */
  audit(limit?: number): Promise<AuditEntry[]> {
    return this.#options.controller.audit(limit);
  }

  /**
   * Runs the preconditions that `options` asks for, without switching.
   *
   * @returns every check run (none when the move is not towards the target or none was asked for)
   */
  async check(mode: Mode, given: GuardedSwitchOptions = {}): Promise<CutoverCheckResult[]> {
    const options: GuardedSwitchOptions = { ...this.#options.policy, ...given };
    const to = parseMode(mode, 'CutoverGuard.check()');
    const table = options.table === undefined ? undefined : checkTableKey(options.table, 'CutoverGuard table');
    checkNumbers(options);
    if (to !== 'target_first' && to !== 'target_only') return [];
    const { source, target } = this.#options;
    const checks: CutoverCheckResult[] = [];
    if (options.requireVerifyWithinMs !== undefined) {
      if (target === undefined) {
        checks.push({ check: 'verify', passed: false, detail: 'cannot read the recorded verify runs: no target connection', remedy: 'give the target (--target) to check the verification' });
      } else {
        const tables = table !== undefined ? [table] : (options.tables ?? (source === undefined ? [] : await sourceTables(source)));
        const qualified = source === undefined || tables.every((name) => name.includes('.')) ? tables : await qualify(source, tables);
        checks.push(await checkRecentVerify(target, qualified, options.requireVerifyWithinMs, this.#now(), this.#options.verifyRunsTable));
      }
    }
    if (options.maxBacklog !== undefined) checks.push(await checkBacklog({ source, target }, options.maxBacklog, table, this.#options.repairLogTable));
    if (to === 'target_only' && options.requireFleetApplied !== false) {
      const document = await this.#options.controller.get();
      if (document !== null) checks.push(checkFleetApplied(await this.#options.controller.status(document.revision)));
    }
    return checks;
  }

  /**
   * Checks the preconditions, then switches (or refuses), audits, and starts the fall-back watch.
   *
   * @throws {@link CutoverRefusedError} when a precondition failed and `force` is not set (audited as `refused`)
   * @throws {@link InvalidOptionError} for bad options (nothing audited: nothing was attempted)
   * @throws {@link SwitchNotAppliedError} with `wait`, as `RedisModeController.switchMode` (the switch stays, and its watch is stopped)
   */
  async switchMode(mode: Mode, given: GuardedSwitchOptions = {}): Promise<GuardedSwitchResult> {
    const options: GuardedSwitchOptions = { ...this.#options.policy, ...given };
    const to = parseMode(mode, 'CutoverGuard.switchMode()');
    const fallback = options.fallback === undefined ? undefined : checkFallback(options.fallback, 'CutoverGuard.switchMode()');
    const controller = this.#options.controller;
    const before = await controller.get();
    const checks = await this.check(to, options);
    const failed = checks.filter((check) => !check.passed);
    const table = options.table ?? null;
    const reasons = failed.map((check) => `${check.check}: ${check.detail}`).join('; ');
    if (failed.length > 0 && options.force !== true) {
      await controller.recordAudit({
        actor: options.source ?? null,
        outcome: 'refused',
        from: before === null ? null : table === null ? before.mode : (before.tableModes?.[table] ?? before.mode),
        to,
        table,
        revision: null,
        reason: reasons,
      });
      throw new CutoverRefusedError(table === null ? to : `${to} for ${table}`, checks);
    }
    const forced = failed.length > 0;
    const switchOptions: SwitchModeOptions = {
      ...pick(options),
      ...(forced ? { forced: true, reason: options.reason === undefined ? reasons : `${options.reason}; overridden: ${reasons}` } : {}),
    };
    // The watch starts before waiting for the fleet, so a primary that fails during the wait is caught too.
    const written = await controller.switchMode(to, { ...switchOptions, wait: false });
    const previous: FlagValues = before === null ? { mode: 'source_only' } : { mode: before.mode, ...(before.tableModes === undefined ? {} : { tableModes: before.tableModes }) };
    const watch = fallback === undefined ? undefined : watchForFallback(controller, { revision: written.revision, to, table, previous, actor: options.source }, fallback, this.#now);
    let report = written;
    if (options.wait === true) {
      try {
        report = await waitApplied(controller, written.revision, options, this.#now);
      } catch (error) {
        watch?.stop();
        throw error;
      }
    }
    return { report, checks, forced, ...(watch === undefined ? {} : { fallback: watch }) };
  }
}

/** Waits until every live instance applied `revision` (as `switchMode` with `wait` does). */
async function waitApplied(controller: RedisModeController, revision: number, options: SwitchModeOptions, now: () => number): Promise<SwitchReport> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = now() + timeoutMs;
  let report = await controller.status(revision);
  while (!report.complete) {
    if (now() >= deadline) throw new SwitchNotAppliedError(report, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    report = await controller.status(revision);
  }
  return report;
}

/** The options `RedisModeController.switchMode` takes. */
function pick(options: GuardedSwitchOptions): SwitchModeOptions {
  const { source, timeoutMs, pollMs, table, reason } = options;
  return { source, timeoutMs, pollMs, table, reason };
}

function checkNumbers(options: GuardedSwitchOptions): void {
  const age = options.requireVerifyWithinMs;
  if (age !== undefined && (typeof age !== 'number' || !(age > 0))) throw new InvalidOptionError('CutoverGuard requireVerifyWithinMs', age, 'a number of milliseconds above 0');
  const backlog = options.maxBacklog;
  if (backlog !== undefined && (!Number.isSafeInteger(backlog) || backlog < 0)) throw new InvalidOptionError('CutoverGuard maxBacklog', backlog, 'a whole number of rows, 0 or more');
  if (options.tables !== undefined && (!Array.isArray(options.tables) || options.tables.some((name) => typeof name !== 'string' || name === ''))) {
    throw new InvalidOptionError('CutoverGuard tables', options.tables, 'a list of table names, "table" or "schema.table"');
  }
}

/** Names without a schema get the source's database. */
async function qualify(source: GuardQueryable, tables: readonly string[]): Promise<string[]> {
  const database = await defaultDatabase(source);
  return tables.map((name) => (name.includes('.') ? name : `${database}.${name}`));
}

/**
 * The preconditions of a guarded cut-over, each a function returning a {@link CutoverCheckResult}:
 * a recent clean verification of the tables concerned (from the verify runs recorded on the target),
 * a bounded repair-log backlog on both sides, and (for `target_only`) the whole live fleet on the
 * current revision.
 *
 * @module
 */
import type { CutoverCheckResult } from '../errors.js';
import { queryExact, quoteIdentifier, type ExactQueryable } from '../migrate/codec.js';
import { storedText } from '../migrate/state-table.js';
import { latestVerifyRuns } from '../migrate/verify-runs.js';
import type { SwitchReport } from '../mode/redis-mode-controller.js';

/** A side's pool as the checks read it (a mysql2/promise `Pool` fits). */
export type GuardQueryable = ExactQueryable;

/**
 * (a) The newest recorded verify run of each table concerned, finished within `maxAgeMs`, was identical.
 *
 * @param target - the target's pool (where verify records its runs)
 * @param tables - the tables concerned, `schema.table` (the source's database, as verify records them)
 */
export async function checkRecentVerify(target: GuardQueryable, tables: readonly string[], maxAgeMs: number, now: number, runsTable?: string): Promise<CutoverCheckResult> {
  const within = `within ${describeMs(maxAgeMs)}`;
  if (tables.length === 0) {
    return { check: 'verify', passed: false, detail: 'no table to check was found', remedy: 'name the tables (--tables) or give the source connection, whose tables are listed' };
  }
  const runs = await latestVerifyRuns(target, { since: now - maxAgeMs, limit: 500, ...(runsTable === undefined ? {} : { table: runsTable }) });
  const unverified: string[] = [];
  const differing: string[] = [];
  for (const table of tables) {
    const run = runs.find((candidate) => candidate.tables.includes(table)); // newest first
    if (run === undefined) unverified.push(table);
    else if (!run.identical) differing.push(`${table} (run ${run.id}: ${run.differences} difference(s))`);
  }
  if (unverified.length === 0 && differing.length === 0) {
    return { check: 'verify', passed: true, detail: `the latest verify run of each of ${tables.length} table(s) ${within} was identical` };
  }
  const parts = [
    ...(unverified.length === 0 ? [] : [`no verify run ${within} covered ${listed(unverified)}`]),
    ...(differing.length === 0 ? [] : [`the latest run ${within} found differences in ${listed(differing)}`]),
  ];
  return {
    check: 'verify',
    passed: false,
    detail: parts.join('; '),
    remedy: differing.length > 0 ? 'run `dualwrite repair`, then `dualwrite verify` (it records its run) until identical' : 'run `dualwrite verify` on these tables (it records its run) and switch again',
  };
}

/**
 * (b) Pending repair-log rows (`repaired_at IS NULL`) on each given side are at most `maxBacklog`
 * (only rows of `table` when given: its name without the schema, as the sides may name their databases differently).
 */
export async function checkBacklog(sides: { readonly source?: GuardQueryable; readonly target?: GuardQueryable }, maxBacklog: number, table: string | undefined, repairLogTable = 'dualwrite_repair_log'): Promise<CutoverCheckResult> {
  const counts: string[] = [];
  const over: string[] = [];
  const missing: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const pool = sides[side];
    if (pool === undefined) {
      missing.push(side);
      continue;
    }
    const pending = await pendingRepairs(pool, repairLogTable, table === undefined ? undefined : (table.split('.')[1] ?? table));
    counts.push(`${side} ${pending}`);
    if (pending > maxBacklog) over.push(`${side} (${pending})`);
  }
  const about = table === undefined ? '' : ` for ${table}`;
  if (missing.length > 0) {
    return { check: 'backlog', passed: false, detail: `cannot count the repair-log backlog${about} on the ${missing.join(' and ')}: no connection`, remedy: 'give both --source and --target (or the pools) to check the backlog' };
  }
  if (over.length === 0) return { check: 'backlog', passed: true, detail: `repair-log backlog${about} at most ${maxBacklog} (${counts.join(', ')})` };
  return { check: 'backlog', passed: false, detail: `repair-log backlog${about} above ${maxBacklog} on ${over.join(', ')}`, remedy: 'drain it with `dualwrite repair --from-log` and switch again' };
}

/** (c) Every live instance has applied the stored revision (before a move to `target_only`). */
export function checkFleetApplied(report: SwitchReport): CutoverCheckResult {
  if (report.pending.length === 0) {
    return { check: 'fleet', passed: true, detail: `every live instance (${report.applied.length}) has applied revision ${report.revision} (${report.mode})` };
  }
  return {
    check: 'fleet',
    passed: false,
    detail: `${report.pending.length} live instance(s) have not applied revision ${report.revision} (${report.mode}): ${report.pending.map((ack) => `${ack.instanceId} at ${ack.mode} (revision ${ack.revision}${ack.stale ? ', stale' : ''})`).join(', ')}`,
    remedy: 'wait for them (`dualwrite mode get` lists them), or fix their connection to Redis; a move to target_only while some still write the old mode leaves the source behind',
  };
}

/** Base tables of the source database except the dualwrite_* state tables, as `schema.table`. */
export async function sourceTables(source: GuardQueryable): Promise<string[]> {
  const rows = await queryExact(
    source,
    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'dualwrite\\_%' ORDER BY TABLE_NAME",
  );
  return rows.map((row) => `${storedText(row[0])}.${storedText(row[1])}`);
}

/** The default database of a pool. */
export async function defaultDatabase(pool: GuardQueryable): Promise<string> {
  const [row] = await queryExact(pool, 'SELECT DATABASE()');
  return storedText(row?.[0]);
}

async function pendingRepairs(pool: GuardQueryable, repairLogTable: string, tableName: string | undefined): Promise<number> {
  const quoted = repairLogTable.split('.').map(quoteIdentifier).join('.');
  try {
    const [row] = await queryExact(
      pool,
      `SELECT COUNT(*) FROM ${quoted} WHERE repaired_at IS NULL${tableName === undefined ? '' : ' AND table_name = ?'}`,
      tableName === undefined ? [] : [tableName],
    );
    return Number(storedText(row?.[0] ?? '0'));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return 0; // no failure was ever recorded there
    throw error;
  }
}

function listed(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

/** `90000` → `90 s`, `7200000` → `120 min`. */
export function describeMs(ms: number): string {
  if (ms >= 3_600_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

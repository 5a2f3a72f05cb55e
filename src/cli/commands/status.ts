/**
 * `dualwrite status`: where a backfill job stands (its checkpoints on the target), which verify jobs were
 * stopped before they completed (./status-verify), and how many repair-log rows wait on each side. Reads only;
 * creates nothing.
 *
 * @module
 */
import { CheckpointStore, DEFAULT_CHECKPOINT_TABLE, type Checkpoint } from '../../migrate/checkpoints.js';
import { queryExact, quoteIdentifier, type ExactQueryable } from '../../migrate/codec.js';
import { tablePatternRegExp } from '../../migrate/table-selection.js';
import { DEFAULT_VERIFY_CHECKPOINT_TABLE } from '../../migrate/verify-checkpoints.js';
import type { Connected, Side } from '../connection.js';
import { count, showKey } from '../output.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { openController, printFleet, REDIS_OPTIONS, withRedis } from './status-fleet.js';
import { printVerifyJobs, readVerifyJobs } from './status-verify.js';

const DEFAULT_JOB = 'backfill';
/** The dual-write pool's repair log (its default name). */
const REPAIR_LOG_TABLE = 'dualwrite_repair_log';

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show a backfill job\'s checkpoints, unfinished verify jobs, and the repair-log rows pending on each side',
  description: [
    `Lists the checkpoints of a backfill job per table (from \`${DEFAULT_CHECKPOINT_TABLE}\` on the target): rows copied, ` +
      'the last key copied, and whether the table is done; with --source, also the estimated rows of each table.',
    `Lists every unfinished verify job (from \`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\` on the target; a verify --job run that completes ` +
      'deletes its checkpoints): per table, whether it is done, the rows and chunks checked, the differences reported so far, the key ' +
      'the next run continues after, and when it was saved. --job names the backfill job only; --tables filters both.',
    `Counts the rows of \`${REPAIR_LOG_TABLE}\` not yet repaired (repaired_at IS NULL) on each side that has one. ` +
      'The target is required; the source is optional. Nothing is written.',
    'With --redis (and --key), also lists the fleet from the acknowledgements in Redis: every live instance\'s applied mode and ' +
      'revision, whether it is stale, its replay failures and unrecorded failures, and its lag (the age of its last heartbeat); ' +
      'instances whose acknowledgement expired are listed as lost.',
  ],
  options: [{ name: 'job', type: 'string', placeholder: 'NAME', configKey: 'job', description: `the backfill job (default: ${DEFAULT_JOB})` }, ...REDIS_OPTIONS],
  examples: [
    '# where the default job stands',
    'dualwrite status --config migrate.json',
    '# one job, some tables, as JSON',
    'dualwrite status --target mysql://app@new-db/shop --job nightly --tables order_* --json',
    '# with the fleet of instances following the flags in Redis',
    'dualwrite status --config migrate.json --redis redis://flags:6379 --key shop:flags',
  ],
  interruptible: false,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const { options, output } = context;
  const job = options.string('job') ?? DEFAULT_JOB;
  const target = await context.connect('target', 2);
  const source = await context.connect('source', 2, false);
  const patterns = options.list('tables')?.map((pattern) => tablePatternRegExp(pattern));
  const wanted = (table: string): boolean => patterns === undefined || patterns.some((pattern) => pattern.test(table));

  const stateExists = await tableExists(target.pool, target.database, DEFAULT_CHECKPOINT_TABLE);
  const checkpoints = stateExists ? (await new CheckpointStore(target.pool).list(job)).filter((checkpoint) => wanted(checkpoint.table)) : [];
  const estimates = source === undefined ? new Map<string, number>() : await rowEstimates(source.pool, source.database);
  const verifyJobs = await readVerifyJobs(target, wanted, tableExists);

  if (!stateExists) {
    output.print(`backfill: no state table \`${target.database}\`.\`${DEFAULT_CHECKPOINT_TABLE}\` on the target (${target.display}): no backfill has run there yet`);
  } else if (checkpoints.length === 0) {
    const jobs = (await queryExact(target.pool, `SELECT DISTINCT job FROM ${quoteIdentifier(DEFAULT_CHECKPOINT_TABLE)} ORDER BY job`)).map((row) => String(row[0]));
    output.print(`backfill job "${job}": no checkpoints${patterns === undefined ? '' : ' for these tables'}${jobs.length > 0 ? `; jobs with checkpoints: ${jobs.join(', ')} (choose one with --job)` : ''}`);
  } else {
    const done = checkpoints.filter((checkpoint) => checkpoint.done).length;
    output.print(`backfill job "${job}": ${done} of ${checkpoints.length} tables done (checkpoints in \`${target.database}\`.\`${DEFAULT_CHECKPOINT_TABLE}\`)`);
    for (const checkpoint of checkpoints) {
      const estimate = estimates.get(checkpoint.table);
      output.event('checkpoint', { ...checkpoint, rowsEstimate: estimate ?? null });
      output.print(`  ${line(checkpoint, estimate)}`);
    }
  }

  printVerifyJobs(output, target, verifyJobs, patterns !== undefined);

  const logs: { side: Side; exists: boolean; pending: number | null }[] = [];
  for (const [side, connected] of [['source', source], ['target', target]] as const) {
    if (connected === undefined) continue;
    const pending = await pendingRepairs(connected);
    logs.push({ side, exists: pending !== null, pending });
    output.event('repair_log', { side, table: `${connected.database}.${REPAIR_LOG_TABLE}`, exists: pending !== null, pending });
    output.print(pending === null ? `repair log on the ${side}: none (no \`${REPAIR_LOG_TABLE}\` table)` : `repair log on the ${side}: ${count(pending)} pending rows${pending > 0 ? ' (run a repair to drain them)' : ''}`);
  }
  const fleet = await fleetReport(options, output);
  output.event('summary', {
    command: 'status',
    job,
    stateTable: stateExists,
    tables: checkpoints.length,
    tablesDone: checkpoints.filter((checkpoint) => checkpoint.done).length,
    rowsCopied: checkpoints.reduce((total, checkpoint) => total + checkpoint.rowsCopied, 0),
    verifyStateTable: verifyJobs.stateTable,
    verifyJobs: [...new Set(verifyJobs.checkpoints.map((checkpoint) => checkpoint.job))],
    pendingRepairs: logs.reduce((total, log) => total + (log.pending ?? 0), 0),
    repairLogs: logs,
    ...(fleet === undefined ? {} : { fleet }),
  });
  return EXIT.ok;
}

/** With --redis: prints the fleet and returns its counts for the summary. */
async function fleetReport(options: CommandContext['options'], output: CommandContext['output']): Promise<Record<string, unknown> | undefined> {
  const controller = openController(options, 'status');
  if (controller === undefined) return undefined;
  try {
    return await withRedis(options, controller, async () => {
      const document = await controller.get();
      if (document === null) {
        output.print(`fleet: no flag document under Redis key "${controller.key}" (set one with \`dualwrite mode set\`)`);
        return { key: controller.key, document: false };
      }
      const report = await controller.status();
      printFleet(output, report, Date.now());
      return { key: controller.key, revision: report.revision, mode: report.mode, applied: report.applied.length, pending: report.pending.length, lost: report.lost };
    });
  } finally {
    await controller.close().catch(() => undefined);
  }
}

function line(checkpoint: Checkpoint, estimate: number | undefined): string {
  const state = checkpoint.done ? 'done' : checkpoint.after === null ? 'started' : 'in progress';
  const of = estimate === undefined ? '' : ` of ~${count(Math.max(estimate, checkpoint.rowsCopied))}`;
  return `${checkpoint.table}: ${state}, ${count(checkpoint.rowsCopied)}${of} rows copied${checkpoint.done ? '' : `, next after key ${showKey(checkpoint.after)}`}`;
}

async function tableExists(pool: ExactQueryable, schema: string, table: string): Promise<boolean> {
  return (await queryExact(pool, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table])).length > 0;
}

/** information_schema's row estimates of the source's tables. */
async function rowEstimates(pool: ExactQueryable, schema: string): Promise<Map<string, number>> {
  const rows = await queryExact(pool, "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [schema]);
  return new Map(rows.map((row) => [String(row[0]), Number(String(row[1]))]));
}

/** Pending rows of the side's repair log, or null when it has none. */
async function pendingRepairs(side: Connected): Promise<number | null> {
  if (!(await tableExists(side.pool, side.database, REPAIR_LOG_TABLE))) return null;
  const [row] = await queryExact(side.pool, `SELECT COUNT(*) FROM ${quoteIdentifier(REPAIR_LOG_TABLE)} WHERE repaired_at IS NULL`);
  return Number(String(row?.[0] ?? '0'));
}

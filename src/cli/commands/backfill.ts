/**
 * `dualwrite backfill`: copies the rows that existed before dual-writing began from the source to
 * the target (library: `backfill()`), with progress, throttles, a dry run, and Ctrl-C that stops
 * after the current chunk and keeps the checkpoint.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { backfill, pauseFlag, threadsRunningAbove, type BackfillReport, type ThrottleSignal } from '../../migrate/backfill.js';
import { CheckpointStore, DEFAULT_CHECKPOINT_TABLE, type Checkpoint } from '../../migrate/checkpoints.js';
import { DEFAULT_CHUNK_SIZE, type ChunkSizeOptions } from '../../migrate/chunk-size.js';
import { queryExact, type ExactQueryable } from '../../migrate/codec.js';
import { UsageError, type ParsedOptions } from '../args.js';
import { CliError } from '../connection.js';
import { count, duration, showKey, type Output } from '../output.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { resolveTables, type ResolvedTable } from './tables.js';

const DEFAULT_JOB = 'backfill';
const DEFAULT_CONCURRENCY = 2;

/** The `backfill` command. */
export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'copy the rows that existed before dual-writing began, source → target (resumable)',
  description: [
    'Copies each table in keyset chunks of its primary key, reading each chunk on the source under a shared lock and ' +
      'writing it to the target with INSERT IGNORE, so it is safe while the dual-write pool writes and never overwrites a newer row.',
    'Checkpoints are kept per job in `dualwrite_backfill_state` on the target: run the same command again to resume. ' +
      'Tables missing on the target are created from the source\'s SHOW CREATE TABLE (unless --no-create-tables).',
    'Ctrl-C stops after the current chunk and keeps the checkpoint (exit code 130). Progress goes to stderr: a bar per table ' +
      'on a terminal, a log line every few seconds otherwise, JSON lines on stdout with --json.',
  ],
  options: [
    { name: 'job', type: 'string', placeholder: 'NAME', configKey: 'job', description: `checkpoints are kept per job name (default: ${DEFAULT_JOB})` },
    { name: 'chunk-rows', type: 'integer', placeholder: 'N', configKey: 'chunkRows', description: 'a fixed number of rows per chunk (default: adaptive, see --chunk-target-ms)' },
    {
      name: 'chunk-target-ms',
      type: 'integer',
      placeholder: 'MS',
      configKey: 'chunkTargetMs',
      description: `adaptive chunks sized to take about MS each, which bounds how long a write waits on a chunk's locks (default: ${DEFAULT_CHUNK_SIZE.targetMs})`,
    },
    { name: 'concurrency', type: 'integer', placeholder: 'N', configKey: 'concurrency', description: `tables copied at the same time, largest first (default: ${DEFAULT_CONCURRENCY})` },
    { name: 'no-create-tables', type: 'boolean', configKey: 'createTables', description: 'refuse a table missing on the target instead of creating it from the source\'s DDL' },
    { name: 'restart', type: 'boolean', configKey: 'restart', description: 'forget the job\'s checkpoints and copy from the first row (rows on the target are still never overwritten)' },
    { name: 'max-threads-running', type: 'integer', placeholder: 'N', min: 0, configKey: 'maxThreadsRunning', description: 'pause while the source\'s Threads_running is above N' },
    { name: 'pause-file', type: 'string', placeholder: 'PATH', configKey: 'pauseFile', description: 'pause while this file exists (touch it to pause, remove it to go on)' },
    { name: 'dry-run', type: 'boolean', description: 'print what would be copied (tables, estimated rows, chunks) and write nothing' },
  ],
  examples: [
    '# copy every table, with a progress bar',
    'dualwrite backfill --source mysql://app:secret@old-db:3306/shop --target mysql://app:secret@new-db:3306/shop',
    '# see what would be copied first',
    'dualwrite backfill --config migrate.json --tables orders,order_* --dry-run',
    '# gentle on a busy primary: small chunks, pause under load or on demand',
    'dualwrite backfill --config migrate.json --chunk-target-ms 200 --max-threads-running 40 --pause-file /tmp/dualwrite.pause',
    '# machine-readable progress and summary',
    'dualwrite backfill --config migrate.json --json > backfill.jsonl',
  ],
  interruptible: true,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const { options, output } = context;
  const chunk = chunkOptions(options);
  const job = options.string('job') ?? DEFAULT_JOB;
  if (job.length > 64) throw new UsageError(`--job must be at most 64 characters, got ${job.length}`, 'backfill');
  const concurrency = options.integer('concurrency') ?? DEFAULT_CONCURRENCY;
  const create = !options.flag('no-create-tables');
  const restart = options.flag('restart');

  // Each table being copied holds two connections per side (it copies on two lanes); metadata reads and
  // throttles need a few more.
  const source = await context.connect('source', 2 * concurrency + 3);
  const target = await context.connect('target', 2 * concurrency + 3);
  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'backfill');
  const present = await tablesOnTarget(target.pool, target.database, tables);
  const absent = tables.filter((table) => !present.has(table.name));
  if (!create && absent.length > 0) {
    throw new CliError(
      'ER_DUALWRITE_CLI_TABLE_NOT_FOUND',
      `table \`${target.database}\`.\`${absent[0]?.name}\` does not exist on the target and --no-create-tables was given: create it with your schema tool, or drop --no-create-tables to create it from the source's DDL`,
    );
  }

  if (options.flag('dry-run')) {
    const checkpoints = restart ? new Map<string, Checkpoint>() : await readCheckpoints(target.pool, target.database, job, source.database);
    return dryRun(output, { job, chunk, tables, absent: new Set(absent.map((table) => table.name)), checkpoints, source: source.display, target: target.display });
  }

  const throttle: ThrottleSignal[] = [];
  const maxThreads = options.integer('max-threads-running');
  if (maxThreads !== undefined) throttle.push(threadsRunningAbove(source.pool, maxThreads));
  const pauseFile = options.string('pause-file');
  if (pauseFile !== undefined) throttle.push(pauseFlag(() => existsSync(pauseFile), `pause file ${pauseFile} exists`));

  output.notice(`backfill job "${job}": ${tables.length} table${tables.length === 1 ? '' : 's'} from ${source.display} to ${target.display}${restart ? ' (restarting from the first row)' : ''}`);
  const view = output.backfillProgress(concurrency);
  let report: BackfillReport;
  try {
    report = await backfill({
      source: source.pool,
      target: target.pool,
      sourceSchema: source.database,
      targetSchema: target.database,
      tables: tables.map((table) => table.name),
      job,
      chunk,
      concurrency,
      throttle,
      createMissingTables: create,
      resume: !restart,
      signal: context.signal,
      onProgress: (progress) => view.update(progress),
    });
  } finally {
    view.close();
  }

  output.event('summary', { command: 'backfill', ...report });
  for (const table of report.tables) {
    const state = table.done ? 'done' : 'stopped';
    const resumed = table.resumedRows > 0 || table.resumedFrom !== null ? ` (resumed after ${showKey(table.resumedFrom)} with ${count(table.resumedRows)} rows)` : '';
    output.print(
      `${table.table}: ${state}, ${count(table.rowsCopied)} rows copied in all; this run read ${count(table.rowsRead)} and inserted ${count(table.rowsInserted)} in ${count(table.chunks)} chunks, ` +
        `${duration(table.durationMs / 1000)}${table.pausedMs >= 100 ? ` (${duration(table.pausedMs / 1000)} paused)` : ''}${table.created ? ', table created on the target' : ''}${resumed}`,
    );
  }
  if (report.done) {
    output.print(`backfill job "${job}" done: ${count(report.rowsRead)} rows read, ${count(report.rowsInserted)} inserted, in ${duration(report.durationMs / 1000)}`);
    return EXIT.ok;
  }
  const resume = `run the same command again (without --restart) to resume job "${job}" from its checkpoints`;
  if (context.signal.aborted) {
    output.error(`dualwrite backfill: interrupted; stopped after the current chunk and kept the checkpoints on the target: ${resume}`);
    output.event('interrupted', { command: 'backfill', job, message: `stopped after the current chunk; ${resume}` });
    return EXIT.interrupted;
  }
  output.error(`dualwrite backfill: stopped before every table was done: ${resume}`);
  return EXIT.error;
}

/** `--chunk-rows` (fixed size) or `--chunk-target-ms` (adaptive). */
function chunkOptions(options: ParsedOptions): ChunkSizeOptions {
  const rows = options.integer('chunk-rows');
  const targetMs = options.integer('chunk-target-ms');
  if (rows !== undefined && targetMs !== undefined) {
    throw new UsageError('--chunk-rows (a fixed chunk size) and --chunk-target-ms (adaptive chunk sizes) exclude each other: give one of them', 'backfill');
  }
  if (rows !== undefined) return { initialRows: rows, minRows: rows, maxRows: rows };
  return targetMs === undefined ? {} : { targetMs };
}

/** The names of `tables` present on the target. */
async function tablesOnTarget(pool: ExactQueryable, schema: string, tables: readonly ResolvedTable[]): Promise<Set<string>> {
  const rows = await queryExact(pool, `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${tables.map(() => '?').join(', ')})`, [
    schema,
    ...tables.map((table) => table.name),
  ]);
  return new Set(rows.map((row) => String(row[0])));
}

/** The job's checkpoints by table, read only when the state table exists (a dry run creates nothing). */
async function readCheckpoints(pool: ExactQueryable, schema: string, job: string, sourceSchema: string): Promise<Map<string, Checkpoint>> {
  const exists = await queryExact(pool, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, DEFAULT_CHECKPOINT_TABLE]);
  if (exists.length === 0) return new Map();
  const list = await new CheckpointStore(pool).list(job);
  return new Map(list.filter((checkpoint) => checkpoint.schema === sourceSchema).map((checkpoint) => [checkpoint.table, checkpoint]));
}

interface Plan {
  readonly job: string;
  readonly chunk: ChunkSizeOptions;
  readonly tables: readonly ResolvedTable[];
  readonly absent: ReadonlySet<string>;
  readonly checkpoints: ReadonlyMap<string, Checkpoint>;
  readonly source: string;
  readonly target: string;
}

/** Prints the plan; writes nothing. */
function dryRun(output: Output, plan: Plan): number {
  const fixed = plan.chunk.maxRows !== undefined && plan.chunk.minRows === plan.chunk.maxRows ? plan.chunk.maxRows : null;
  output.print(`dry run: backfill job "${plan.job}" from ${plan.source} to ${plan.target} (nothing is written)`);
  let rowsTotal = 0;
  let chunksTotal = 0;
  for (const table of plan.tables) {
    const checkpoint = plan.checkpoints.get(table.name);
    const done = checkpoint?.done === true;
    const copied = checkpoint?.rowsCopied ?? 0;
    const remaining = done ? 0 : Math.max(0, table.rowsEstimate - copied);
    const chunks = done ? 0 : chunkEstimate(remaining, plan.chunk);
    rowsTotal += remaining;
    chunksTotal += chunks;
    const action = plan.absent.has(table.name) ? 'create on the target, then copy' : done ? 'skip (done by an earlier run)' : checkpoint !== undefined ? `resume after ${showKey(checkpoint.after)}` : 'copy';
    output.event('plan', {
      command: 'backfill',
      table: table.name,
      action: plan.absent.has(table.name) ? 'create_and_copy' : done ? 'skip' : checkpoint !== undefined ? 'resume' : 'copy',
      rowsEstimate: table.rowsEstimate,
      rowsCopied: copied,
      rowsToCopyEstimate: remaining,
      chunksEstimate: chunks,
      chunkRows: fixed,
      resumeAfter: checkpoint?.after ?? null,
    });
    output.print(`  ${table.name}: ${action}; ~${count(remaining)} rows to copy in ${fixed === null ? 'at least ' : '~'}${count(chunks)} chunks${fixed === null ? ' (adaptive size)' : ` of ${count(fixed)} rows`}`);
  }
  output.event('summary', { command: 'backfill', dryRun: true, job: plan.job, tables: plan.tables.length, rowsToCopyEstimate: rowsTotal, chunksEstimate: chunksTotal });
  output.print(`total: ${plan.tables.length} tables, ~${count(rowsTotal)} rows, ${fixed === null ? 'at least ' : '~'}${count(chunksTotal)} chunks (row counts are information_schema estimates)`);
  return EXIT.ok;
}

/**
 * Chunks to copy `rows` rows: with a fixed size, one per full chunk plus the last, short one; adaptive sizes
 * double from the first chunk up to the most rows per chunk, so the count is a lower bound.
 */
function chunkEstimate(rows: number, chunk: ChunkSizeOptions): number {
  const max = chunk.maxRows ?? DEFAULT_CHUNK_SIZE.maxRows;
  let size = chunk.initialRows ?? DEFAULT_CHUNK_SIZE.initialRows;
  let left = rows;
  let chunks = 1;
  while (left >= size) {
    left -= size;
    chunks++;
    size = Math.min(max, size * 2);
  }
  return chunks;
}

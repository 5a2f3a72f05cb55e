/**
 * `dualwrite verify` comparing whole tables (library: `verify()`), resumable with `--job`: the job's
 * checkpoints live on the target; without a job nothing is written anywhere. With `--source-replica` /
 * `--target-replica` the first pass reads the replicas and the recheck the primaries.
 *
 * @module
 */
import { queryExact } from '../../migrate/codec.js';
import { DEFAULT_VERIFY_CHECKPOINT_TABLE } from '../../migrate/verify-checkpoints.js';
import { verify, type TableVerifyReport, type VerifyReport } from '../../migrate/verify.js';
import { CliError, type Connected, type Side } from '../connection.js';
import { count, showKey } from '../output.js';
import { EXIT, type CommandContext } from './command.js';
import { resolveTables, type ResolvedTable } from './tables.js';
import type { VerifyMode } from './verify.js';
import { checkDatetimeZone, describeProfile } from './verify-normalize.js';
import { differencePrinter, differenceTotal, normalisedLines, tableLine, verdictLine } from './verify-print.js';

/** Source rows per checksum chunk unless `--chunk-rows` says otherwise. */
export const DEFAULT_CHUNK_ROWS = 1000;

/** Runs a full verify; resolves to the exit code. */
export async function verifyFull(context: CommandContext, mode: Extract<VerifyMode, { kind: 'full' }>): Promise<number> {
  const { options, output } = context;
  const { job } = mode;
  // verify() holds, per table, 3 source and 2 target connections for the first pass (boundaries, checksums, drill-downs)
  // and 1 of each primary for the recheck; a job's checkpoints are saved through the target's checksum connection, or,
  // when that one is a replica's, through 1 more connection of the target primary. Metadata reads and the job's
  // checkpoint loads run between tables, when nothing is held.
  const source = await context.connect('source', mode.replicas.source ? 1 : 4);
  const target = await context.connect('target', mode.replicas.target ? (job === undefined ? 1 : 2) : 3);
  const replicas = { source: await context.connectReplica('source', 3), target: await context.connectReplica('target', 2) };
  await checkDatetimeZone(mode.normalize, [
    ['source', source],
    ['target', target],
    ['source replica', replicas.source],
    ['target replica', replicas.target],
  ]);
  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'verify');
  for (const side of ['source', 'target'] as const) {
    const replica = replicas[side];
    if (replica !== undefined) await checkReplicaTables(side, replica, tables);
  }
  const where = `\`${target.database}\`.\`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\``;
  const firstPass = (['source', 'target'] as const).flatMap((side) => (replicas[side] === undefined ? [] : [`${side} replica ${replicas[side].display}`]));
  output.notice(
    `verify${job === undefined ? '' : ` job "${job}"`}: ${tables.length} table${tables.length === 1 ? '' : 's'}, ${source.display} against ${target.display}` +
      (firstPass.length === 0 ? '' : ` (first pass on the ${firstPass.join(' and the ')}; differences re-read on the primaries)`) +
      (mode.normalize === undefined ? '' : ` (normalised: ${describeProfile(mode.normalize)})`) +
      (job === undefined ? '' : mode.restart ? ` (restarting: the job's checkpoints in ${where} are forgotten)` : ` (checkpoints in ${where} on the target)`),
  );
  let report: VerifyReport;
  try {
    report = await verify({
      source: source.pool,
      target: target.pool,
      sourceSchema: source.database,
      targetSchema: target.database,
      tables: tables.map((table) => table.name),
      chunkRows: mode.chunkRows,
      onDifference: differencePrinter(output),
      signal: context.signal,
      record: !options.flag('no-record'), // a completed run is what a guarded cut-over (mode set --require-verify-within) looks for
      ...(replicas.source === undefined && replicas.target === undefined
        ? {}
        : { replicas: { ...(replicas.source === undefined ? {} : { source: replicas.source.pool }), ...(replicas.target === undefined ? {} : { target: replicas.target.pool }) } }),
      ...(mode.normalize === undefined ? {} : { normalize: mode.normalize }),
      ...(job === undefined ? {} : { job, resume: !mode.restart, ...(mode.checkpointEveryMs === undefined ? {} : { checkpointEveryMs: mode.checkpointEveryMs }) }),
    });
  } catch (error) {
    if (!context.signal.aborted) throw error;
    const message =
      job === undefined
        ? 'nothing was written. Run it again to compare from the start; give --job NAME to make a verify resumable (it then keeps checkpoints on the target)'
        : `the chunks finished so far are kept in job "${job}"'s checkpoints in ${where} on the target: run the same command again (without --restart) to continue after them`;
    output.error(`dualwrite verify: interrupted; ${message}`);
    output.event('interrupted', { command: 'verify', job: job ?? null, message });
    return EXIT.interrupted;
  }
  const differences = differenceTotal(report.tables);
  output.event('summary', {
    command: 'verify',
    mode: 'full',
    job: job ?? null,
    replicas: { source: replicas.source?.display ?? null, target: replicas.target?.display ?? null },
    normalize: mode.normalize ?? null,
    differences,
    ...report,
  });
  for (const table of report.tables) {
    output.print(`${tableLine(table, `${count(table.rowsChecked)} rows in ${count(table.chunks)} chunks`)}${resumed(table, job)}`);
    for (const line of normalisedLines(table)) output.print(`  ${line}`);
  }
  output.print(verdictLine(report.identical, report.tables, null));
  return report.identical ? EXIT.ok : EXIT.differences;
}

/** Where a table of a job was resumed, for its line (empty when it was not). */
function resumed(table: TableVerifyReport, job: string | undefined): string {
  if (table.resumedAfter === undefined) return '';
  if (table.resumedAfter === null) return `; finished by an earlier run of job "${job ?? ''}" (its counts; not compared again)`;
  return `; resumed after key ${showKey(table.resumedAfter)} (counts include the earlier run's)`;
}

/**
 * Refuses, naming them, the tables the replica does not have in the side's database (not replicated yet, or the URL
 * points at another server): the first pass would fail on them with a bare "table doesn't exist".
 */
async function checkReplicaTables(side: Side, replica: Connected, tables: readonly ResolvedTable[]): Promise<void> {
  const rows = await queryExact(replica.pool, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [replica.database]);
  const present = new Set(rows.map((row) => String(row[0]).toLowerCase()));
  const lacking = tables.filter((table) => !present.has(table.name.toLowerCase())).map((table) => `\`${table.name}\``);
  if (lacking.length === 0) return;
  const names = lacking.slice(0, 5).join(', ') + (lacking.length > 5 ? ` and ${lacking.length - 5} more` : '');
  throw new CliError(
    'ER_DUALWRITE_CLI_REPLICA_TABLES',
    `the ${side} replica ${replica.display} has no ${lacking.length === 1 ? 'table' : 'tables'} ${names} in \`${replica.database}\`: check that --${side}-replica points at a replica of --${side} ` +
      'and that it has caught up, or leave those tables out with --tables',
  );
}

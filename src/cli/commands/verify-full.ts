/**
 * `dualwrite verify` comparing whole tables (library: `verify()`), resumable with `--job`: the job's
 * checkpoints live on the target; without a job nothing is written anywhere.
 *
 * @module
 */
import { DEFAULT_VERIFY_CHECKPOINT_TABLE } from '../../migrate/verify-checkpoints.js';
import { verify, type TableVerifyReport, type VerifyReport } from '../../migrate/verify.js';
import { count, showKey } from '../output.js';
import { EXIT, type CommandContext } from './command.js';
import { resolveTables } from './tables.js';
import type { VerifyMode } from './verify.js';
import { differencePrinter, differenceTotal, tableLine, verdictLine } from './verify-print.js';

/** Source rows per checksum chunk unless `--chunk-rows` says otherwise. */
export const DEFAULT_CHUNK_ROWS = 1000;

/** Runs a full verify; resolves to the exit code. */
export async function verifyFull(context: CommandContext, mode: Extract<VerifyMode, { kind: 'full' }>): Promise<number> {
  const { options, output } = context;
  const { job } = mode;
  const source = await context.connect('source', 4);
  // Three target connections per table, and one more for the job's checkpoint writes.
  const target = await context.connect('target', 4);
  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'verify');
  const where = `\`${target.database}\`.\`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\``;
  output.notice(
    `verify${job === undefined ? '' : ` job "${job}"`}: ${tables.length} table${tables.length === 1 ? '' : 's'}, ${source.display} against ${target.display}` +
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
  output.event('summary', { command: 'verify', mode: 'full', job: job ?? null, differences, ...report });
  for (const table of report.tables) output.print(`${tableLine(table, `${count(table.rowsChecked)} rows in ${count(table.chunks)} chunks`)}${resumed(table, job)}`);
  output.print(verdictLine(report.identical, report.tables, null));
  return report.identical ? EXIT.ok : EXIT.differences;
}

/** Where a table of a job was resumed, for its line (empty when it was not). */
function resumed(table: TableVerifyReport, job: string | undefined): string {
  if (table.resumedAfter === undefined) return '';
  if (table.resumedAfter === null) return `; finished by an earlier run of job "${job ?? ''}" (its counts; not compared again)`;
  return `; resumed after key ${showKey(table.resumedAfter)} (counts include the earlier run's)`;
}

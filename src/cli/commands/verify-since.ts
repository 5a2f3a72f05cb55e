/**
 * `dualwrite verify --since TIME --changed-column COLUMN`: the rows of each table changed since TIME, and the
 * rows deleted on the source (library: `verifyIncremental()`, one table at a time), then the `nextSince` to pass
 * to the next run.
 *
 * @module
 */
import { verifyIncremental, type IncrementalTableReport } from '../../migrate/verify-incremental.js';
import { UsageError } from '../args.js';
import { CliError } from '../connection.js';
import { count } from '../output.js';
import { EXIT, type CommandContext } from './command.js';
import { resolveTables, type ResolvedTable } from './tables.js';
import type { VerifyMode } from './verify.js';
import { checkDatetimeZone, describeProfile } from './verify-normalize.js';
import { differencePrinter, differenceTotal, tableLine, verdictLine } from './verify-print.js';

const SINCE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `--since` as the library takes it, UTC text `YYYY-MM-DD hh:mm:ss[.ffffff]`. Accepts that form (read as UTC, as
 * nextSince is printed), a date alone (midnight UTC), and ISO 8601 with `T` and `Z` or an offset (converted to
 * UTC, fractional digits kept exactly).
 *
 * @throws {@link UsageError} for anything else, or a date that does not exist
 */
export function parseSince(text: string, command: string): string {
  const bad = (why: string): never => {
    throw new UsageError(`--since ${JSON.stringify(text)} ${why}: give a UTC time like '2026-11-20 10:00:00' (or ISO 8601 with Z or an offset), e.g. the nextSince printed by the previous run`, command);
  };
  const match = SINCE.exec(text.trim());
  if (match === null) return bad('is not a date-time');
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction, zone] = match as unknown as [string, string, string, string, string?, string?, string?, string?, string?];
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
  const check = new Date(local);
  if (check.getUTCFullYear() !== fields[0] || check.getUTCMonth() !== fields[1] - 1 || check.getUTCDate() !== fields[2] || check.getUTCHours() !== fields[3] || check.getUTCMinutes() !== fields[4] || check.getUTCSeconds() !== fields[5]) {
    return bad('is not a valid date and time');
  }
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const utc = new Date(local - offsetMinutes * 60_000).toISOString(); // YYYY-MM-DDThh:mm:ss.000Z
  return `${utc.slice(0, 10)} ${utc.slice(11, 19)}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Runs an incremental verify of every selected table; resolves to the exit code. */
export async function verifySince(context: CommandContext, mode: Extract<VerifyMode, { kind: 'incremental' }>): Promise<number> {
  const { options, output } = context;
  const source = await context.connect('source', 4);
  const target = await context.connect('target', 3);
  await checkDatetimeZone(mode.normalize, [
    ['source', source],
    ['target', target],
  ]);
  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'verify');
  checkChangedColumn(tables, mode.changedColumn, source.database);
  output.notice(
    `verify: rows of ${tables.length} table${tables.length === 1 ? '' : 's'} with ${mode.changedColumn} >= '${mode.since}' (UTC)${mode.reversePass ? ', then every target key for rows deleted on the source' : ''}, ` +
      `${source.display} against ${target.display}${mode.normalize === undefined ? '' : ` (normalised: ${describeProfile(mode.normalize)})`}`,
  );
  const reports: IncrementalTableReport[] = [];
  let nextSince: string | null = null;
  try {
    for (const table of tables) {
      const report = await verifyIncremental({
        source: source.pool,
        target: target.pool,
        sourceSchema: source.database,
        targetSchema: target.database,
        table: table.name,
        changedColumn: mode.changedColumn,
        since: mode.since,
        reversePass: mode.reversePass,
        overlapMs: mode.overlapMs,
        ...(mode.batchKeys === undefined ? {} : { batchKeys: mode.batchKeys }),
        ...(mode.normalize === undefined ? {} : { normalize: mode.normalize }),
        onDifference: differencePrinter(output),
        signal: context.signal,
      });
      reports.push(...report.tables);
      // Each table's starting point is taken when its run starts: the earliest covers every table.
      if (nextSince === null || report.nextSince < nextSince) nextSince = report.nextSince;
    }
  } catch (error) {
    if (!context.signal.aborted) throw error;
    const message = `nothing was written and no nextSince was taken. Run it again with the same --since '${mode.since}' (an incremental verify keeps no checkpoint)`;
    output.error(`dualwrite verify: interrupted; ${message}`);
    output.event('interrupted', { command: 'verify', message });
    return EXIT.interrupted;
  }
  const identical = reports.every((table) => table.status === 'verified' && table.missing + table.extra + table.different === 0);
  const next = nextSince ?? mode.since;
  output.event('summary', {
    command: 'verify',
    mode: 'incremental',
    changedColumn: mode.changedColumn,
    since: mode.since,
    nextSince: next,
    normalize: mode.normalize ?? null,
    identical,
    differences: differenceTotal(reports),
    tables: reports,
  });
  for (const table of reports) output.print(tableLine(table, passes(table, mode.changedColumn, mode.reversePass)));
  output.print(verdictLine(identical, reports, null));
  output.print(`nextSince: ${next}  (the next run: --changed-column ${mode.changedColumn} --since '${next}')`);
  return identical ? EXIT.ok : EXIT.differences;
}

/** What the passes read, for a table's line. */
function passes(table: IncrementalTableReport, column: string, reversePass: boolean): string {
  const forward =
    table.forwardOrder === 'changedColumn'
      ? `${count(table.changedRows)} changed rows compared (read through an index on ${column})`
      : `${count(table.changedRows)} changed rows compared (no index starts with ${column}: the whole table was read; add one for large tables)`;
  return reversePass ? `${forward}, ${count(table.targetKeysScanned)} target keys looked up for deletes` : `${forward}, no reverse pass`;
}

/**
 * Refuses tables without a DATETIME or TIMESTAMP `column` on the source before anything is compared, naming them:
 * an incremental verify of such a table could compare nothing and still look identical.
 */
function checkChangedColumn(tables: readonly ResolvedTable[], column: string, schema: string): void {
  const lacking = tables.filter((table) => {
    const found = table.metadata.columnsByName.get(column.toLowerCase());
    return found === undefined || (found.dataType !== 'datetime' && found.dataType !== 'timestamp');
  });
  if (lacking.length === 0) return;
  const names = lacking.slice(0, 5).map((table) => `\`${table.name}\``).join(', ') + (lacking.length > 5 ? ` and ${lacking.length - 5} more` : '');
  throw new CliError(
    'ER_DUALWRITE_CLI_NO_CHANGED_COLUMN',
    `--changed-column ${column}: ${lacking.length === 1 ? 'table' : 'tables'} ${names} of the source database \`${schema}\` ${lacking.length === 1 ? 'has' : 'have'} no DATETIME or TIMESTAMP column ${column}, ` +
      'so an incremental verify cannot tell their changed rows: name the tables that have it in --tables, and verify the others in full',
  );
}

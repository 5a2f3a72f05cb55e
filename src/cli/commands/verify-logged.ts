/**
 * `dualwrite verify --from-repair-log`: checks exactly the keys named by the pending rows of the dual-write pool's
 * repair log (library: `verifyKeys()`; `verify()` for a table a row names without keys). The log is read with the
 * code `drainRepairLog` reads it with (../../migrate/repair-log-read), on both sides: the pool writes it on the
 * primary side of the mode it was in, so failures recorded before a switch to target_first are on the source and
 * later ones on the target. Nothing is written and no log row is marked.
 *
 * Limit: every pending key is held in memory (once per key) before the comparison starts.
 *
 * @module
 */
import type { ExactValue } from '../../migrate/codec.js';
import { encodeKeyJson } from '../../migrate/key-json.js';
import type { DrainProblem } from '../../migrate/repair-log-drain.js';
import { groupRepairLogRows, pendingRepairLogPage, repairLogTableSql } from '../../migrate/repair-log-read.js';
import { tablePatternRegExp } from '../../migrate/table-selection.js';
import { verifyKeys } from '../../migrate/verify-incremental.js';
import { verify, type TableVerifyReport } from '../../migrate/verify.js';
import { CliError, type Connected, type Side } from '../connection.js';
import { count } from '../output.js';
import { EXIT, type CommandContext } from './command.js';
import type { VerifyMode } from './verify.js';
import { checkDatetimeZone, describeProfile } from './verify-normalize.js';
import { differencePrinter, differenceTotal, normalisedLines, tableLine, verdictLine } from './verify-print.js';

/** Log rows read per statement. */
const LOG_PAGE_ROWS = 1000;
const ER_NO_SUCH_TABLE = 1146;

/** What the log names for one table, merged over both sides' logs. */
interface LoggedTable {
  readonly sourceSchema: string;
  readonly targetSchema: string;
  readonly table: string;
  /** The distinct keys, by their exact JSON (column names lowercased, sorted). */
  readonly keys: Map<string, Record<string, ExactValue>>;
  /** True when a log row names the table without keys: it is verified whole. */
  whole: boolean;
  /** The pending log rows naming it, per side of the log. */
  readonly ids: Record<Side, string[]>;
}

/** A log row that cannot be checked, and the side whose log holds it. */
type Skipped = DrainProblem & { readonly side: Side };

/** Runs a verify of the repair log's keys; resolves to the exit code. */
export async function verifyLogged(context: CommandContext, mode: Extract<VerifyMode, { kind: 'repair-log' }>): Promise<number> {
  const { options, output } = context;
  const source = await context.connect('source', 4);
  const target = await context.connect('target', 3);
  const logTable = repairLogTableSql(mode.logTable, '--repair-log-table');
  await checkDatetimeZone(mode.normalize, [
    ['source', source],
    ['target', target],
  ]);
  const patterns = options.list('tables')?.map((pattern) => tablePatternRegExp(pattern));
  const logged = new Map<string, LoggedTable>();
  const skipped: Skipped[] = [];
  const logRows: Record<Side, number | null> = { source: null, target: null };
  for (const side of ['source', 'target'] as const) {
    logRows[side] = await readLog(side, { source, target }, logTable, logged, skipped);
    output.print(`repair log on the ${side} (\`${(side === 'source' ? source : target).database}\`.\`${mode.logTable}\`): ${logRows[side] === null ? 'none' : `${count(logRows[side])} pending row${logRows[side] === 1 ? '' : 's'}`}`);
  }
  const tables = [...logged.values()]
    .filter((entry) => patterns === undefined || patterns.some((pattern) => pattern.test(entry.table)))
    .sort((a, b) => (a.sourceSchema === b.sourceSchema ? (a.table < b.table ? -1 : 1) : a.sourceSchema < b.sourceSchema ? -1 : 1));
  const checked = skipped.filter((problem) => problem.table === null || patterns === undefined || patterns.some((pattern) => pattern.test(problem.table as string)));
  output.notice(
    `verify: the keys of ${count(tables.length)} table${tables.length === 1 ? '' : 's'} named by the repair log, ${source.display} against ${target.display}` +
      (mode.normalize === undefined ? '' : ` (normalised: ${describeProfile(mode.normalize)})`),
  );

  const reports: (TableVerifyReport & { readonly keysChecked: number; readonly whole: boolean; readonly logRows: Record<Side, number> })[] = [];
  try {
    for (const entry of tables) {
      const report = await checkTable(context, entry, mode, source, target);
      reports.push({ ...report, keysChecked: entry.whole ? 0 : entry.keys.size, whole: entry.whole, logRows: { source: entry.ids.source.length, target: entry.ids.target.length } });
    }
  } catch (error) {
    if (!context.signal.aborted) throw error;
    const message = 'nothing was written and the log rows stay pending. Run it again to check their keys from the start (it keeps no checkpoint)';
    output.error(`dualwrite verify: interrupted; ${message}`);
    output.event('interrupted', { command: 'verify', message });
    return EXIT.interrupted;
  }

  const identical = checked.length === 0 && reports.every((table) => table.status === 'verified' && table.missing + table.extra + table.different === 0);
  output.event('summary', {
    command: 'verify',
    mode: 'repair-log',
    logTable: mode.logTable,
    logRows,
    normalize: mode.normalize ?? null,
    skipped: checked,
    identical,
    differences: differenceTotal(reports),
    tables: reports,
  });
  for (const [i, report] of reports.entries()) {
    const entry = tables[i] as LoggedTable;
    const name = entry.sourceSchema === source.database && entry.targetSchema === target.database ? entry.table : `${entry.sourceSchema}.${entry.table} (target ${entry.targetSchema}.${entry.table})`;
    const what = report.whole
      ? `whole table verified, as a log row names it without keys: ${count(report.rowsChecked)} rows in ${count(report.chunks)} chunks`
      : `${count(report.keysChecked)} logged key${report.keysChecked === 1 ? '' : 's'} checked`;
    output.print(tableLine(report, `${what} (log rows: ${sides(report.logRows)})`, name));
    for (const line of normalisedLines(report)) output.print(`  ${line}`);
  }
  for (const problem of checked) {
    output.print(`not checked: repair-log row${problem.ids.length === 1 ? '' : 's'} ${shortList(problem.ids)} on the ${problem.side}${problem.table === null ? '' : ` (table ${problem.table})`}: ${problem.reason}`);
  }
  if (logRows.source === null && logRows.target === null) {
    output.print(`nothing to check: no repair log \`${mode.logTable}\` on either side (the pool creates it on its first failed replay)`);
  } else if (reports.length === 0 && checked.length === 0) {
    output.print(`nothing to check: no pending repair-log row${patterns === undefined ? '' : ' names a table matching --tables'}`);
  } else {
    const unchecked = checked.reduce((total, problem) => total + problem.ids.length, 0);
    output.print(verdictLine(identical, reports, unchecked === 0 ? null : `${count(unchecked)} repair-log row${unchecked === 1 ? '' : 's'} could not be checked (listed above): verify the tables their statements wrote in full`));
  }
  return identical ? EXIT.ok : EXIT.differences;
}

/**
 * Reads every pending row of one side's log into `logged` (keys merged per table, each key once) and `skipped`.
 * Resolves to the rows read, or null when the side has no log table.
 */
async function readLog(side: Side, sides: Record<Side, Connected>, logTable: string, logged: Map<string, LoggedTable>, skipped: Skipped[]): Promise<number | null> {
  const primary = sides[side];
  const other = sides[side === 'source' ? 'target' : 'source'];
  let afterId = '0';
  let rows = 0;
  for (;;) {
    let page;
    try {
      page = await pendingRepairLogPage(primary.pool, logTable, afterId, LOG_PAGE_ROWS);
    } catch (error) {
      if ((error as { errno?: unknown }).errno === ER_NO_SUCH_TABLE && rows === 0) return null; // no failure was ever logged there
      throw error;
    }
    rows += page.length;
    const grouped = groupRepairLogRows(page, primary.database);
    skipped.push(...grouped.skipped.map((problem) => ({ ...problem, side })));
    for (const group of grouped.groups.values()) {
      // As drainRepairLog maps them: the log side's own database is the other side's URL database; another keeps its name.
      const otherSchema = group.schema === primary.database ? other.database : group.schema;
      const sourceSchema = side === 'source' ? group.schema : otherSchema;
      const targetSchema = side === 'source' ? otherSchema : group.schema;
      const id = `${sourceSchema}\u0000${targetSchema}\u0000${group.table}`;
      let entry = logged.get(id);
      if (entry === undefined) logged.set(id, (entry = { sourceSchema, targetSchema, table: group.table, keys: new Map(), whole: false, ids: { source: [], target: [] } }));
      entry.ids[side].push(...group.ids);
      if (group.whole) entry.whole = true;
      for (const key of group.keys) entry.keys.set(keyIdentity(key), key);
    }
    if (page.length < LOG_PAGE_ROWS) return rows;
    afterId = (page[page.length - 1] as { id: string }).id;
  }
}

/** Compares one table's logged keys (or the whole table); errors name the log rows. */
async function checkTable(context: CommandContext, entry: LoggedTable, mode: Extract<VerifyMode, { kind: 'repair-log' }>, source: Connected, target: Connected): Promise<TableVerifyReport> {
  const common = {
    source: source.pool,
    target: target.pool,
    sourceSchema: entry.sourceSchema,
    targetSchema: entry.targetSchema,
    onDifference: differencePrinter(context.output),
    signal: context.signal,
    ...(mode.normalize === undefined ? {} : { normalize: mode.normalize }),
  };
  try {
    const report = entry.whole
      ? await verify({ ...common, tables: [entry.table], chunkRows: mode.chunkRows })
      : await verifyKeys({ ...common, table: entry.table, keys: [...entry.keys.values()], ...(mode.batchKeys === undefined ? {} : { batchKeys: mode.batchKeys }) });
    return report.tables[0] as TableVerifyReport;
  } catch (error) {
    if (context.signal.aborted) throw error;
    const code = (error as { code?: unknown }).code;
    throw new CliError(
      typeof code === 'string' ? code : 'ER_DUALWRITE_CLI_REPAIR_LOG',
      `the repair log names \`${entry.sourceSchema}\`.\`${entry.table}\` (pending rows ${sides({ source: entry.ids.source.length, target: entry.ids.target.length })}), which could not be checked: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** A key's identity: its exact JSON with column names lowercased and sorted, so a key logged twice is checked once. */
function keyIdentity(key: Readonly<Record<string, ExactValue>>): string {
  return encodeKeyJson(Object.entries(key).map(([column, value]): [string, ExactValue] => [column.toLowerCase(), value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sides(counts: Record<Side, number>): string {
  return (['source', 'target'] as const)
    .filter((side) => counts[side] > 0)
    .map((side) => `${count(counts[side])} on the ${side}`)
    .join(', ');
}

function shortList(ids: readonly string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`;
}

/**
 * `dualwrite repair`: makes the non-authoritative side equal to the authoritative one (library: `repair()`), or,
 * with `--drain-log`, repairs exactly what the dual-write pool's repair log names (library: `drainRepairLog()`).
 *
 * @module
 */
import { UsageError } from '../args.js';
import { drainRepairLog } from '../../migrate/repair-log-drain.js';
import { repair, type RepairReport } from '../../migrate/repair.js';
import { count } from '../output.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { resolveTables } from './tables.js';

const DEFAULT_CHUNK_ROWS = 1000;

/** The `repair` command. */
export const repairCommand: Command = {
  name: 'repair',
  summary: 'make the other side equal to the authoritative side (or drain the pool’s repair log)',
  description: [
    'Verifies the tables and repairs every confirmed difference: the authoritative row is re-read under lock at repair ' +
      'time, then inserted, updated or deleted by primary key on the other side (delete + insert when another unique key ' +
      'collides). Every repair is written to an audit table on the repaired side, and repaired keys are compared again: a key ' +
      'that still differs is reported as a repair loop (usually a schema or type difference), not repaired forever.',
    '--authoritative is the primary side of the mode the application runs in: source in source_only/source_first, target in ' +
      'target_first/target_only. With --drain-log, the pool’s repair log on the authoritative side is read instead of ' +
      'verifying whole tables, and each logged write is repaired and marked done.',
    'Exit code 0: nothing left to repair; 1: repair loops remain; 2: error.',
  ],
  options: [
    { name: 'authoritative', type: 'string', placeholder: 'SIDE', configKey: 'authoritative', description: 'source or target: the side whose rows are right (required)' },
    { name: 'drain-log', type: 'boolean', description: 'repair what the dual-write pool’s repair log names, then mark it done' },
    { name: 'dry-run', type: 'boolean', description: 'print the SQL the repair would run and change nothing' },
    {
      name: 'intent-grace-ms',
      type: 'integer',
      placeholder: 'MS',
      min: 0,
      description: 'with --drain-log: leave intent rows younger than this for a later drain, their writes may be in flight (default: 30000; 0 once no pool writes)',
    },
    { name: 'chunk-rows', type: 'integer', placeholder: 'N', configKey: 'verifyChunkRows', description: `source rows per checksum chunk (default: ${DEFAULT_CHUNK_ROWS})` },
  ],
  examples: [
    '# while the application runs in source_first: make the target equal to the source',
    'dualwrite repair --authoritative source --source mysql://app:secret@old-db/shop --target mysql://app:secret@new-db/shop',
    '# see the SQL first',
    'dualwrite repair --authoritative source --config migrate.json --tables orders --dry-run',
    '# repair the writes the pool could not replay (its repair log is on the source in source_first)',
    'dualwrite repair --authoritative source --config migrate.json --drain-log',
  ],
  interruptible: true,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const { options, output } = context;
  const authoritative = options.string('authoritative');
  if (authoritative !== 'source' && authoritative !== 'target') {
    throw new UsageError(`--authoritative must be source or target (the primary side of the current mode), got ${authoritative === undefined ? 'nothing' : JSON.stringify(authoritative)}`, 'repair');
  }
  const source = await context.connect('source', 4);
  const target = await context.connect('target', 3);
  const [auth, other] = authoritative === 'source' ? [source, target] : [target, source];
  const dryRun = options.flag('dry-run');
  const onSql = dryRun
    ? (sql: string, values: readonly unknown[]): void => {
        output.event('sql', { sql, values });
        output.print(`${sql};${values.length > 0 ? `  -- values: ${JSON.stringify(values)}` : ''}`);
      }
    : undefined;
  const chunkRows = options.integer('chunk-rows') ?? DEFAULT_CHUNK_ROWS;

  if (options.flag('drain-log')) {
    const intentGraceMs = options.integer('intent-grace-ms');
    const result = await drainRepairLog({
      primary: auth.pool,
      secondary: other.pool,
      dryRun,
      verify: { chunkRows },
      ...(onSql ? { onSql } : {}),
      ...(intentGraceMs === undefined ? {} : { intentGraceMs }),
    });
    output.event('summary', { command: 'repair', mode: 'drain-log', ...result });
    output.print(
      `repair log: ${count(result.logRows)} pending row(s) read, ${count(result.marked)} marked repaired, ${count(result.wholeTables)} whole table(s) verified; ` +
        `${count(result.skipped.length)} skipped, ${count(result.failed.length)} failed, ${count(result.loops.length)} repair loop(s)${dryRun ? ' (dry run: nothing written)' : ''}`,
    );
    if (result.youngIntents > 0) {
      output.print(`  ${count(result.youngIntents)} intent row(s) younger than the grace period left for the next drain (their writes may still be in flight; --intent-grace-ms 0 once no pool writes)`);
    }
    for (const problem of [...result.skipped, ...result.failed]) output.print(`  not repaired: ${JSON.stringify(problem)}`);
    if (result.failed.length > 0) return EXIT.error;
    return result.loops.length > 0 ? EXIT.differences : EXIT.ok;
  }

  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'repair');
  output.notice(`repair: ${tables.length} table${tables.length === 1 ? '' : 's'}, ${auth.display} is authoritative${dryRun ? ' (dry run)' : ''}`);
  let report: RepairReport;
  try {
    report = await repair({
      source: source.pool,
      target: target.pool,
      sourceSchema: source.database,
      targetSchema: target.database,
      tables: tables.map((table) => table.name),
      chunkRows,
      authoritative,
      dryRun,
      signal: context.signal,
      ...(onSql ? { onSql } : {}),
    });
  } catch (error) {
    if (!context.signal.aborted) throw error;
    output.error('dualwrite repair: interrupted; every batch repaired so far is committed and audited. Run it again to repair the rest.');
    output.event('interrupted', { command: 'repair' });
    return EXIT.interrupted;
  }
  output.event('summary', { command: 'repair', ...report });
  for (const table of report.tables) {
    output.print(
      `${table.table}: ${count(table.differences)} difference(s); inserted ${count(table.inserted)}, updated ${count(table.updated)}, deleted ${count(table.deleted)}, ` +
        `replaced ${count(table.replaced)}${table.repairLoops.length > 0 ? `; ${count(table.repairLoops.length)} repair loop(s)` : ''}`,
    );
  }
  for (const loop of report.loops) output.print(`  repair loop: ${JSON.stringify(loop)}`);
  output.print(
    dryRun
      ? `dry run: ${count(report.sqlStatements)} statement(s) would run; nothing was changed`
      : `${count(report.repaired)} row(s) repaired${report.loops.length > 0 ? `, ${count(report.loops.length)} repair loop(s) remain` : '; the sides match'}`,
  );
  return report.loops.length > 0 ? EXIT.differences : EXIT.ok;
}

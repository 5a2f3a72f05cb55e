/**
 * `dualwrite verify`: compares the source and the target (library: `verify()`), streams every
 * confirmed difference, and exits 0 when identical, 1 when differences were found, 2 on error.
 *
 * @module
 */
import { verify, type Difference, type VerifyReport } from '../../migrate/verify.js';
import { count, duration, showKey } from '../output.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { resolveTables } from './tables.js';

const DEFAULT_CHUNK_ROWS = 1000;

/** The `verify` command. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'compare source and target chunk by chunk; print every row that differs',
  description: [
    'Compares each table with a checksum per chunk of the primary key on both sides at once, drills down only into chunks ' +
      'that differ, and re-reads each differing key before reporting it, so a write in flight is not reported.',
    'Each difference is printed as soon as it is confirmed: missing (on the source only), extra (on the target only) or ' +
      'different (with the columns that differ). Exit code 0: identical; 1: differences found (or a table missing or ' +
      'defined differently on the target); 2: error.',
  ],
  options: [{ name: 'chunk-rows', type: 'integer', placeholder: 'N', configKey: 'verifyChunkRows', description: `source rows per checksum chunk (default: ${DEFAULT_CHUNK_ROWS})` }],
  examples: [
    '# compare every table',
    'dualwrite verify --source mysql://app:secret@old-db/shop --target mysql://app:secret@new-db/shop',
    '# some tables, every differing key as a JSON line (exit code 1 when any)',
    'dualwrite verify --config migrate.json --tables orders,order_items --json > differences.jsonl',
  ],
  interruptible: true,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const { options, output } = context;
  const source = await context.connect('source', 4);
  const target = await context.connect('target', 3);
  const tables = await resolveTables(source.pool, source.database, options.list('tables'), 'verify');
  output.notice(`verify: ${tables.length} table${tables.length === 1 ? '' : 's'}, ${source.display} against ${target.display}`);
  const onDifference = (difference: Difference): void => {
    output.event('difference', { ...difference });
    output.print(`${difference.kind.padEnd(9)} ${difference.table}  ${showKey(difference.key)}${difference.columns === undefined ? '' : `  columns: ${difference.columns.join(', ')}`}`);
  };
  let report: VerifyReport;
  try {
    report = await verify({
      source: source.pool,
      target: target.pool,
      sourceSchema: source.database,
      targetSchema: target.database,
      tables: tables.map((table) => table.name),
      chunkRows: options.integer('chunk-rows') ?? DEFAULT_CHUNK_ROWS,
      onDifference,
      signal: context.signal,
    });
  } catch (error) {
    if (!context.signal.aborted) throw error;
    output.error('dualwrite verify: interrupted; nothing was changed. Run it again to compare from the start (a verify keeps no checkpoint).');
    output.event('interrupted', { command: 'verify' });
    return EXIT.interrupted;
  }
  const differences = report.tables.reduce((total, table) => total + table.missing + table.extra + table.different, 0);
  output.event('summary', { command: 'verify', differences, ...report });
  for (const table of report.tables) {
    if (table.status !== 'verified') {
      output.print(`${table.table}: not compared (${table.status}): ${table.detail ?? ''}`);
      continue;
    }
    const found = table.missing + table.extra + table.different;
    output.print(
      `${table.table}: ${found === 0 ? 'identical' : `${count(found)} difference${found === 1 ? '' : 's'} (${count(table.missing)} missing, ${count(table.extra)} extra, ${count(table.different)} different)`}; ` +
        `${count(table.rowsChecked)} rows in ${count(table.chunks)} chunks, ${duration(table.durationMs / 1000)}` +
        (table.resolvedOnRecheck > 0 ? `; ${count(table.resolvedOnRecheck)} in-flight differences resolved on re-read` : ''),
    );
  }
  output.print(report.identical ? `identical: ${report.tables.length} tables match` : `NOT identical: ${count(differences)} row${differences === 1 ? '' : 's'} differ${differences === 1 ? 's' : ''}${report.tables.some((t) => t.status !== 'verified') ? ', and some tables could not be compared' : ''}`);
  return report.identical ? EXIT.ok : EXIT.differences;
}

/**
 * `dualwrite mode get|set` on a JSON flag file (`--flags-file`): the file is rewritten atomically
 * (temporary file + rename); the verify and backlog preconditions are checked as with Redis; a file has
 * no acknowledgements to wait for and no audit trail.
 *
 * @module
 */
import { checkBacklog, checkRecentVerify } from '../../control/cutover-checks.js';
import { readFlagFile, writeFlagFile } from '../../control/flag-file.js';
import { CutoverRefusedError, type CutoverCheckResult } from '../../errors.js';
import { checkTableKey } from '../../mode/table-modes.js';
import { UsageError } from '../args.js';
import { EXIT, type CommandContext } from './command.js';
import { actor, concernedTables, modeArgument, preconditions } from './mode-args.js';
import { printChecks, printDocument } from './mode-print.js';

const NAME = 'mode';
/** Exit code of a refused switch (as `MODE_EXIT.refused`). */
const REFUSED = 3;

/** Runs `mode get|set|audit` on the flag file at `path`; resolves to the exit code. */
export async function runFile(context: CommandContext, action: 'get' | 'set' | 'audit', argument: string | undefined, path: string): Promise<number> {
  const { options, output } = context;
  if (action === 'audit') throw new UsageError('the audit trail is kept in Redis (--redis); a flag file has none (keep the file in version control for its history)', NAME);
  if (action === 'get') {
    const document = await readFlagFile(path);
    if (document === null) output.print(`no flag file at ${path}: create it with \`dualwrite mode set <mode> --flags-file ${path}\``);
    else printDocument(output, document, `file ${path}`);
    output.event('summary', { command: 'mode get', file: path, document });
    return EXIT.ok;
  }
  for (const flag of ['wait', 'watch-ms', 'max-error-rate', 'max-p99-ms', 'min-statements'] as const) {
    if (options.has(flag)) throw new UsageError(`--${flag} needs --redis: a flag file has no acknowledgements to wait for or watch`, NAME);
  }
  const mode = modeArgument(argument);
  const table = options.string('table');
  if (table !== undefined) checkTableKey(table, 'the --table option');
  const { requireVerifyWithinMs, maxBacklog } = preconditions(options);
  const checks: CutoverCheckResult[] = [];
  if (mode === 'target_first' || mode === 'target_only') {
    const source = maxBacklog !== undefined || (requireVerifyWithinMs !== undefined && table === undefined) ? await context.connect('source', 2) : undefined;
    const target = requireVerifyWithinMs !== undefined || maxBacklog !== undefined ? await context.connect('target', 2) : undefined;
    if (requireVerifyWithinMs !== undefined && target !== undefined) {
      const tables = table !== undefined ? [table] : source === undefined ? [] : await concernedTables(options, source);
      checks.push(await checkRecentVerify(target.pool, tables, requireVerifyWithinMs, Date.now()));
    }
    if (maxBacklog !== undefined) checks.push(await checkBacklog({ source: source?.pool, target: target?.pool }, maxBacklog, table));
  }
  printChecks(output, checks);
  const failed = checks.filter((check) => !check.passed);
  if (failed.length > 0 && !options.flag('force')) {
    const error = new CutoverRefusedError(table === undefined ? mode : `${mode} for ${table}`, checks);
    output.error(`dualwrite mode: ${error.message}`);
    output.event('summary', { command: 'mode set', outcome: 'refused', checks });
    return REFUSED;
  }
  const { document, from } = await writeFlagFile(path, mode, { table, source: actor(options) });
  output.print(`${failed.length > 0 ? 'FORCED: ' : ''}switched ${table === undefined ? 'the pool' : table} from ${from ?? '(no file)'} to ${mode} in ${path} (revision ${document.revision}); each process applies it when it re-reads the file (no acknowledgements with a file)`);
  output.event('summary', { command: 'mode set', outcome: failed.length > 0 ? 'forced' : 'switched', mode, table: table ?? null, revision: document.revision, file: path, checks });
  return EXIT.ok;
}

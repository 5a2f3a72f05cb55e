/**
 * `dualwrite mode get|set|audit`: read and switch the mode the fleet follows — in Redis (`--redis`, with
 * acknowledgements, preconditions, an audit trail and an automatic fall-back through `CutoverGuard`), or in
 * a JSON flag file (`--flags-file`, rewritten atomically; no acknowledgements, no audit trail).
 *
 * @module
 */
import { CutoverGuard, type GuardedSwitchOptions } from '../../control/cutover-guard.js';
import { describeMs } from '../../control/cutover-checks.js';
import { writeFlagFileRouting } from '../../control/flag-file.js';
import { CutoverRefusedError, SwitchNotAppliedError } from '../../errors.js';
import type { ReadRoutingSettings } from '../../mode/flag-provider.js';
import { MODES } from '../../mode/modes.js';
import type { RedisModeController } from '../../mode/redis-mode-controller.js';
import { UsageError } from '../args.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { actor, concernedTables, fallbackOptions, modeArgument, preconditions, routingArguments, switchOptions } from './mode-args.js';
import { runFile } from './mode-file.js';
import { auditLine, printChecks, printDocument } from './mode-print.js';
import { openController, printFleet, REDIS_OPTIONS, withRedis } from './status-fleet.js';

/** Exit codes of `dualwrite mode set` besides 0 (done) and 2 (error). */
export const MODE_EXIT = Object.freeze({
  /** A precondition failed: nothing was written (the refusal is audited). */
  refused: 3,
  /** With --wait: some live instance did not apply the switch within --timeout-ms (the switch stays). */
  notApplied: 4,
  /** With --watch-ms: the new primary crossed a threshold and the previous mode was put back. */
  fellBack: 5,
});

const NAME = 'mode';

/** The `mode` command. */
export const modeCommand: Command = {
  name: NAME,
  summary: 'read or switch the mode the fleet follows (Redis or a flag file), with guarded cut-over and an audit trail',
  positionals: { max: 2, usage: 'get | set <mode> | routing | audit' },
  description: [
    '`mode get` prints the flag document: mode, revision, who set it and when, table modes and read routing; with --redis also every ' +
      'live instance (applied or pending, its revision, lag and replay failures).',
    `\`mode set <mode>\` writes ${MODES.join(', ')} for the whole pool, or with --table schema.table for one table. With --redis the ` +
      'switch is a compare-and-set of the next revision, published to every instance and appended to the audit trail (key:audit); ' +
      '--wait waits until every live instance applied it and prints each one. With --flags-file the file is rewritten atomically ' +
      '(temporary file + rename); files have no acknowledgements and no audit trail.',
    'Guarded cut-over (moves to target_first and target_only only): --require-verify-within DURATION refuses unless a verify run ' +
      'recorded on the target (dualwrite verify records each completed run) within that time was identical and covered the tables ' +
      'concerned (the --table, else --tables, else every base table of the source); --max-backlog N refuses when more than N ' +
      'repair-log rows are pending on either side; target_only also requires every live instance to have applied the current ' +
      'revision. A refusal lists each failed check and what to do, and is audited; --force switches anyway and audits the override.',
    'Automatic fall-back (--redis): with --watch-ms and --max-error-rate and/or --max-p99-ms, the command watches the new primary ' +
      'side\'s health counters in the instances\' heartbeats after the switch and puts the previous mode and table modes back when a ' +
      'threshold is crossed (after --min-statements statements), audited with the reason. If the command is stopped while watching, ' +
      'the switch stays.',
    'Exit codes: 0 done; 2 error (bad arguments, unreachable Redis or database); 3 refused by a precondition (nothing written); ' +
      '4 --wait timed out (the switch stays written); 5 the watch fell back to the previous mode.',
    '`mode routing --gray-read-percent N --shadow-read-percent N` sets the read-routing shares of the fleet (docs/read-routing.md; ' +
      'each 0 to 100, the share not given keeps its value): the mode stays; with --redis it is a new revision, published, audited, and ' +
      '--wait waits for every live instance.',
    '`mode audit` prints the newest audit entries (--limit, default 20): when, who, outcome, from, to, table, revision, reason.',
  ],
  options: [
    ...REDIS_OPTIONS,
    { name: 'flags-file', type: 'string', placeholder: 'PATH', configKey: 'flagsFile', description: 'the JSON flag file instead of Redis' },
    { name: 'table', type: 'string', placeholder: 'SCHEMA.TABLE', description: 'set: switch this table only (tableModes)' },
    { name: 'wait', type: 'boolean', description: 'set (Redis): wait until every live instance applied the switch' },
    { name: 'timeout-ms', type: 'integer', placeholder: 'MS', description: 'set --wait: give up after this long (default 30000; exit 4)' },
    { name: 'actor', type: 'string', placeholder: 'NAME', configKey: 'actor', description: 'who switches, for the audit (default: cli:<user>)' },
    { name: 'require-verify-within', type: 'string', placeholder: 'DURATION', configKey: 'requireVerifyWithin', description: 'set: require an identical verify run this recent, e.g. 30m, 2h, 1d' },
    { name: 'max-backlog', type: 'integer', min: 0, placeholder: 'N', configKey: 'maxBacklog', description: 'set: require at most N pending repair-log rows on each side' },
    { name: 'force', type: 'boolean', description: 'set: switch even when a precondition fails (audited)' },
    { name: 'watch-ms', type: 'integer', placeholder: 'MS', description: 'set (Redis): watch the new primary this long after the switch' },
    { name: 'max-error-rate', type: 'string', placeholder: 'RATE', configKey: 'maxErrorRate', description: 'set --watch-ms: fall back above this error rate, e.g. 0.01 or 1%' },
    { name: 'max-p99-ms', type: 'integer', placeholder: 'MS', configKey: 'maxP99Ms', description: 'set --watch-ms: fall back above this p99 latency' },
    { name: 'min-statements', type: 'integer', placeholder: 'N', configKey: 'minStatements', description: 'set --watch-ms: statements before judging (default 100)' },
    { name: 'gray-read-percent', type: 'string', placeholder: 'PERCENT', description: 'routing: share of reads served by the secondary side in the *_first modes (0-100)' },
    { name: 'shadow-read-percent', type: 'string', placeholder: 'PERCENT', description: 'routing: share of reads also run on the other side and compared (0-100)' },
    { name: 'limit', type: 'integer', placeholder: 'N', description: 'audit: how many entries (default 20)' },
  ],
  examples: [
    '# where the fleet stands',
    'dualwrite mode get --redis redis://flags:6379 --key shop:flags',
    '# start dual-writing, waiting for every instance',
    'dualwrite mode set source_first --redis redis://flags:6379 --key shop:flags --wait --actor alice',
    '# cut over, guarded, with an automatic fall-back',
    'dualwrite mode set target_first --config migrate.json --redis redis://flags:6379 --require-verify-within 1h --max-backlog 0 --wait --watch-ms 300000 --max-error-rate 1% --max-p99-ms 250',
    '# one table',
    'dualwrite mode set target_first --redis redis://flags:6379 --table shop.orders --wait',
    '# a flag file (ConfigMap-style)',
    'dualwrite mode set source_first --flags-file /etc/app/flags.json',
    '# try the target with 1% shadow reads and 5% gray reads',
    'dualwrite mode routing --redis redis://flags:6379 --shadow-read-percent 1 --gray-read-percent 5 --wait',
    '# who switched what',
    'dualwrite mode audit --redis redis://flags:6379 --limit 50',
  ],
  interruptible: false,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const { options } = context;
  const [action, argument] = options.positionals;
  if (action === undefined) throw new UsageError('say what to do: dualwrite mode get, dualwrite mode set <mode>, dualwrite mode routing, or dualwrite mode audit', NAME);
  if (action !== 'get' && action !== 'set' && action !== 'routing' && action !== 'audit') throw new UsageError(`unknown action ${JSON.stringify(action)}: use get, set <mode>, routing or audit`, NAME);
  const routing = action === 'routing' ? routingArguments(options) : undefined;
  if (action !== 'set' && argument !== undefined) throw new UsageError(`mode ${action} takes no argument (got ${JSON.stringify(argument)})`, NAME);
  const file = options.string('flags-file');
  const controller = openController(options, NAME);
  if ((file === undefined) === (controller === undefined)) {
    await controller?.close();
    throw new UsageError('give exactly one of --redis URL (with --key) or --flags-file PATH (on the command line or as "redis"/"flagsFile" in the config file)', NAME);
  }
  if (controller === undefined) return routing === undefined ? runFile(context, action as 'get' | 'set' | 'audit', argument, file as string) : runFileRouting(context, routing, file as string);
  try {
    return await withRedis(options, controller, () => (routing === undefined ? runRedis(context, controller, action as 'get' | 'set' | 'audit', argument) : runRedisRouting(context, controller, routing)));
  } finally {
    await controller.close().catch(() => undefined);
  }
}

async function runRedis(context: CommandContext, controller: RedisModeController, action: 'get' | 'set' | 'audit', argument: string | undefined): Promise<number> {
  const { options, output } = context;
  if (action === 'audit') {
    const entries = await controller.audit(options.integer('limit') ?? 20);
    if (entries.length === 0) output.print(`audit: no entries under Redis key "${controller.key}:audit"`);
    for (const entry of entries) {
      output.print(auditLine(entry));
      output.event('audit', { ...entry });
    }
    output.event('summary', { command: 'mode audit', entries: entries.length });
    return EXIT.ok;
  }
  if (action === 'get') {
    const document = await controller.get();
    if (document === null) {
      output.print(`no flag document under Redis key "${controller.key}": set one with \`dualwrite mode set <mode>\``);
      output.event('summary', { command: 'mode get', key: controller.key, document: null });
      return EXIT.ok;
    }
    printDocument(output, document, `Redis key "${controller.key}"`);
    const report = await controller.status();
    printFleet(output, report, Date.now());
    output.event('summary', { command: 'mode get', key: controller.key, document, applied: report.applied.length, pending: report.pending.length, lost: report.lost });
    return EXIT.ok;
  }

  const mode = modeArgument(argument);
  // Every option is checked before anything is opened.
  let guarded: GuardedSwitchOptions = { ...switchOptions(options), ...preconditions(options) };
  const fallback = fallbackOptions(options);
  const needsTarget = options.has('require-verify-within');
  const needsBoth = options.has('max-backlog');
  const target = needsTarget || needsBoth ? await context.connect('target', 2) : undefined;
  const source = needsBoth || (needsTarget && options.string('table') === undefined) ? await context.connect('source', 2) : undefined;
  const guard = new CutoverGuard({ controller, ...(source === undefined ? {} : { source: source.pool }), ...(target === undefined ? {} : { target: target.pool }) });
  if (needsTarget && options.string('table') === undefined && source !== undefined) guarded = { ...guarded, tables: await concernedTables(options, source) };
  let result;
  try {
    result = await guard.switchMode(mode, { ...guarded, ...(fallback === undefined ? {} : { fallback }) });
  } catch (error) {
    if (error instanceof CutoverRefusedError) {
      printChecks(output, error.checks);
      output.error(`dualwrite mode: ${error.message}`);
      output.event('summary', { command: 'mode set', outcome: 'refused', checks: error.checks });
      return MODE_EXIT.refused;
    }
    if (error instanceof SwitchNotAppliedError) {
      printFleet(output, error.report, Date.now());
      output.error(`dualwrite mode: ${error.message}`);
      output.event('summary', { command: 'mode set', outcome: 'not_applied', revision: error.report.revision, pending: error.report.pending.map((ack) => ack.instanceId) });
      return MODE_EXIT.notApplied;
    }
    throw error;
  }
  printChecks(output, result.checks);
  const table = options.string('table');
  output.print(`${result.forced ? 'FORCED: ' : ''}switched ${table === undefined ? 'the pool' : table} to ${mode} (revision ${result.report.revision})`);
  if (options.flag('wait')) printFleet(output, result.report, Date.now());
  let outcome;
  if (result.fallback !== undefined) {
    output.notice(`watching the new primary for ${describeMs(options.integer('watch-ms') ?? 0)} (Ctrl-C stops watching; the switch stays)`);
    outcome = await result.fallback.done;
    output.print(outcome.result === 'fell_back' ? `FELL BACK to the previous mode (revision ${outcome.revision ?? '?'}): ${outcome.reason}` : `watch ended (${outcome.result}): ${outcome.reason}`);
  }
  output.event('summary', {
    command: 'mode set',
    outcome: result.forced ? 'forced' : 'switched',
    mode,
    table: table ?? null,
    revision: result.report.revision,
    applied: result.report.applied.map((ack) => ack.instanceId),
    pending: result.report.pending.map((ack) => ack.instanceId),
    checks: result.checks,
    ...(outcome === undefined ? {} : { watch: outcome }),
  });
  return outcome?.result === 'fell_back' ? MODE_EXIT.fellBack : EXIT.ok;
}


/** `mode routing` on Redis: a new revision with the shares, published and audited; `--wait` waits for the fleet. */
async function runRedisRouting(context: CommandContext, controller: RedisModeController, routing: ReadRoutingSettings): Promise<number> {
  const { options, output } = context;
  const timeoutMs = options.integer('timeout-ms');
  let report;
  try {
    report = await controller.setReadRouting(routing, { source: actor(options), wait: options.flag('wait'), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  } catch (error) {
    if (!(error instanceof SwitchNotAppliedError)) throw error;
    printFleet(output, error.report, Date.now());
    output.error(`dualwrite mode: ${error.message}`);
    output.event('summary', { command: 'mode routing', outcome: 'not_applied', revision: error.report.revision, pending: error.report.pending.map((ack) => ack.instanceId) });
    return MODE_EXIT.notApplied;
  }
  const document = await controller.get();
  output.print(`read routing set to ${JSON.stringify(document?.readRouting ?? routing)} (revision ${report.revision}; mode stays ${report.mode})`);
  if (options.flag('wait')) printFleet(output, report, Date.now());
  output.event('summary', { command: 'mode routing', outcome: 'switched', readRouting: document?.readRouting ?? routing, revision: report.revision, applied: report.applied.map((ack) => ack.instanceId), pending: report.pending.map((ack) => ack.instanceId) });
  return EXIT.ok;
}

/** `mode routing` on a flag file: rewritten atomically; no acknowledgements. */
async function runFileRouting(context: CommandContext, routing: ReadRoutingSettings, path: string): Promise<number> {
  const { options, output } = context;
  if (options.has('wait')) throw new UsageError('--wait needs --redis: a flag file has no acknowledgements to wait for', NAME);
  const document = await writeFlagFileRouting(path, routing, { source: actor(options) });
  output.print(`read routing set to ${JSON.stringify(document.readRouting)} in ${path} (revision ${document.revision}; mode stays ${document.mode}); each process applies it when it re-reads the file`);
  output.event('summary', { command: 'mode routing', outcome: 'switched', readRouting: document.readRouting, revision: document.revision, file: path });
  return EXIT.ok;
}

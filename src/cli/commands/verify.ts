/**
 * `dualwrite verify`: compares the source and the target and streams every confirmed difference; exits 0 when
 * identical, 1 when differences were found, 2 on error, 130 when interrupted. Three modes, chosen by the flags
 * (checked here before anything connects):
 * - full (default; library `verify()`), resumable with `--job` — ./verify-full;
 * - incremental, `--since` + `--changed-column` (library `verifyIncremental()`) — ./verify-since;
 * - the keys of the pool's repair log, `--from-repair-log` (library `verifyKeys()`) — ./verify-logged.
 *
 * `--normalize RULES` (every mode, ./verify-normalize) compares changed column types by a normal form;
 * `--source-replica` / `--target-replica` (full mode only) move the first pass to replicas.
 *
 * @module
 */
import { DEFAULT_REPAIR_LOG_TABLE } from '../../migrate/repair-log-drain.js';
import { repairLogTableSql } from '../../migrate/repair-log-read.js';
import type { NormalizationProfile } from '../../migrate/normalize.js';
import { DEFAULT_VERIFY_CHECKPOINT_TABLE } from '../../migrate/verify-checkpoints.js';
import { UsageError, type ParsedOptions } from '../args.js';
import { redact, replicaUrl, sideUrl, urlDatabase, type Side } from '../connection.js';
import type { Command, CommandContext } from './command.js';
import { DEFAULT_CHUNK_ROWS, verifyFull } from './verify-full.js';
import { verifyLogged } from './verify-logged.js';
import { NORMALIZE_RULES_HELP, normalizationProfile } from './verify-normalize.js';
import { parseSince, verifySince } from './verify-since.js';

/** Settings of every mode. */
interface CommonSettings {
  /** The normalisation profile of `--normalize`, or undefined (exact comparison). */
  readonly normalize: NormalizationProfile | undefined;
}

/** The mode a `verify` command line asks for, with its settings (and those of every mode). */
export type VerifyMode = CommonSettings & VerifyModeKind;

/** The modes and their own settings. */
type VerifyModeKind =
  | {
      readonly kind: 'full';
      /** Source rows per checksum chunk. */
      readonly chunkRows: number;
      /** The job whose checkpoints make the run resumable, or undefined (nothing is written). */
      readonly job: string | undefined;
      /** Forget the job's checkpoints first. */
      readonly restart: boolean;
      /** Least time between two checkpoint saves of a table (library default when undefined). */
      readonly checkpointEveryMs: number | undefined;
      /** The sides whose replica (`--source-replica`, `--target-replica`) the first pass reads. */
      readonly replicas: Readonly<Record<Side, boolean>>;
    }
  | {
      readonly kind: 'incremental';
      /** UTC text `YYYY-MM-DD hh:mm:ss[.ffffff]`. */
      readonly since: string;
      /** The updated_at-style column. */
      readonly changedColumn: string;
      /** Walk the target's keys for rows deleted on the source. */
      readonly reversePass: boolean;
      /** Milliseconds subtracted from nextSince. */
      readonly overlapMs: number;
      /** Keys per read (library default when undefined). */
      readonly batchKeys: number | undefined;
    }
  | {
      readonly kind: 'repair-log';
      /** The log table's name as given. */
      readonly logTable: string;
      /** Keys per read (library default when undefined). */
      readonly batchKeys: number | undefined;
      /** Source rows per checksum chunk, for tables a log row names without keys. */
      readonly chunkRows: number;
    };

const VERB = 'verify';

/** The `verify` command. */
export const verifyCommand: Command = {
  name: VERB,
  summary: 'compare source and target chunk by chunk (or only changed rows, or the repair log’s keys); print every row that differs',
  description: [
    'Compares each table with a checksum per chunk of the primary key on both sides at once, drills down only into chunks ' +
      'that differ, and re-reads each differing key before reporting it, so a write in flight is not reported.',
    'Each difference is printed as soon as it is confirmed: missing (on the source only), extra (on the target only) or ' +
      'different (with the columns that differ). Exit code 0: identical; 1: differences found, or something asked could not be ' +
      'compared (a table missing or defined differently on the target, a repair-log row naming no table); 2: error; 130: interrupted.',
    `Resumable (--job NAME): each table's progress is saved in \`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\` on the target; a run that is ` +
      'stopped (Ctrl-C) or killed is continued by the next run with the same --job, after the last chunk whose differences were all ' +
      'printed (a table line then says where it resumed; its counts include the earlier run’s); a run that completes deletes the ' +
      'job’s checkpoints. Without --job, verify keeps no checkpoint.',
    'A full verify that completes records its outcome (tables, rows checked, differences, identical) in `dualwrite_verify_runs` on ' +
      'the target, which `dualwrite mode set --require-verify-within` reads before a cut-over; --no-record skips it. An interrupted ' +
      'run records nothing.',
    'Incremental (--since TIME --changed-column COLUMN): compares only the source rows whose COLUMN (an updated_at-style DATETIME or ' +
      'TIMESTAMP, ideally indexed, present in every table checked) is at or after TIME, then walks every key of the target to find rows ' +
      'deleted on the source (--no-reverse-pass skips that walk). It prints nextSince, the source server’s UTC time when the run ' +
      'started (the earliest over the tables): pass it as --since to the next run. Rows changed by transactions open at the start ' +
      'can carry an older time: --overlap-ms subtracts a margin from nextSince. Differences found are not seen again by a run from ' +
      'nextSince: repair them. It keeps no checkpoint: a stopped run is run again with the same --since.',
    'Repair log (--from-repair-log): the dual-write pool records each write the secondary side did not get in its repair log, on the ' +
      'primary side of the mode it was in (the source in source_first, the target in target_first). This reads the pending rows ' +
      '(repaired_at IS NULL) of the log on both sides, so every failure still recorded is covered whichever mode it came from, and ' +
      'checks exactly the keys they name, each once; a log row that names a table without keys gets that table verified whole, and ' +
      '--tables narrows to some tables. It marks nothing (`dualwrite repair --drain-log` repairs and marks the rows).',
    'Changed column types (--normalize RULES, every mode): compared exactly, a column whose type changed between the sides differs in ' +
      'every row. Each rule compares some types by a normal form each server computes from its own column type: float-digits=N ' +
      '(FLOAT/DOUBLE rounded to N significant digits), decimals (DECIMAL by value, whatever the scale), temporal (TIMESTAMP/DATETIME ' +
      'as UTC instants; datetime-zone=ZONE: the zone of the DATETIME values, default +00:00), trailing-spaces (CHAR/VARCHAR/TEXT ' +
      'without trailing spaces), letter-case (text in lower case), json (JSON as documents). A full verify prints, per table, the ' +
      'columns whose values differed in some chunks only before normalisation. In the config file, "normalize" holds the same text ' +
      'or the library’s profile object, e.g. { "floatDigits": 7, "decimals": "value" }.',
    'Replicas (--source-replica URL, --target-replica URL, full verify only): the first pass (chunk boundaries, checksums, ' +
      'drill-downs) reads the replica, so its load stays off the primary; every key found different there is re-read on the ' +
      'primaries (--source, --target) before it is printed, so a lagging replica costs re-reads (shown as in-flight differences ' +
      'resolved on re-read), never a false report. The replica must hold the database under the same name as its primary. ' +
      'sourceReplica/targetReplica in the config file are ignored (with a notice) by the other modes, which read the primaries only.',
  ],
  options: [
    { name: 'chunk-rows', type: 'integer', placeholder: 'N', configKey: 'verifyChunkRows', description: `source rows per checksum chunk (default: ${DEFAULT_CHUNK_ROWS}); with --since or --from-repair-log: keys read per statement (default: 500)` },
    { name: 'job', type: 'string', placeholder: 'NAME', description: `make the run resumable: checkpoints in \`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\` on the target (without --job no checkpoint is written)` },
    { name: 'no-record', type: 'boolean', configKey: 'recordVerifyRuns', description: 'full verify: do not record the completed run in `dualwrite_verify_runs` on the target (recorded by default, for mode set --require-verify-within)' },
    { name: 'restart', type: 'boolean', description: 'with --job: forget the job’s checkpoints and compare every table from the start' },
    { name: 'checkpoint-every-ms', type: 'integer', placeholder: 'MS', min: 0, description: 'with --job: least time between two checkpoint saves of a table (default: 1000; a kill loses about this much work)' },
    { name: 'since', type: 'string', placeholder: 'TIME', description: "incremental: rows whose --changed-column is at or after TIME, UTC 'YYYY-MM-DD hh:mm:ss[.ffffff]' (or ISO 8601 with Z or an offset)" },
    { name: 'changed-column', type: 'string', placeholder: 'COLUMN', description: 'incremental: the updated_at-style DATETIME/TIMESTAMP column compared with --since' },
    { name: 'no-reverse-pass', type: 'boolean', description: 'incremental: skip the walk of the target’s keys that finds rows deleted on the source' },
    { name: 'overlap-ms', type: 'integer', placeholder: 'MS', min: 0, description: 'incremental: subtract MS from the nextSince printed, to cover write transactions open at the start (default: 0)' },
    { name: 'from-repair-log', type: 'boolean', description: 'check exactly the keys in the pending rows of the pool’s repair log (on both sides); marks nothing' },
    { name: 'repair-log-table', type: 'string', placeholder: 'NAME', description: `with --from-repair-log: the log’s name, when the pool’s repairLogTable changed it (default: ${DEFAULT_REPAIR_LOG_TABLE})` },
    { name: 'normalize', type: 'rules', placeholder: 'RULES', configKey: 'normalize', description: `compare changed column types by a normal form; comma-separated rules: ${NORMALIZE_RULES_HELP}` },
    { name: 'source-replica', type: 'string', placeholder: 'URL', configKey: 'sourceReplica', description: 'full verify: read chunk boundaries, checksums and drill-downs from this replica of --source (same database name); differences are re-read on --source' },
    { name: 'target-replica', type: 'string', placeholder: 'URL', configKey: 'targetReplica', description: 'full verify: the same for a replica of --target' },
  ],
  examples: [
    '# compare every table',
    'dualwrite verify --source mysql://app:secret@old-db/shop --target mysql://app:secret@new-db/shop',
    '# some tables, every differing key as a JSON line (exit code 1 when any)',
    'dualwrite verify --config migrate.json --tables orders,order_items --json > differences.jsonl',
    '# a long verify that can be stopped and continued: run the same line again after Ctrl-C or a crash',
    'dualwrite verify --config migrate.json --job nightly',
    '# only rows changed since the last run (and rows deleted on the source); prints the next --since',
    "dualwrite verify --config migrate.json --tables orders --changed-column updated_at --since '2026-11-20 10:00:00'",
    '# exactly the keys of the writes the pool could not replay',
    'dualwrite verify --config migrate.json --from-repair-log',
    '# a target whose FLOAT columns became DOUBLE and whose CHAR columns became VARCHAR',
    'dualwrite verify --config migrate.json --normalize float-digits=7,trailing-spaces',
    '# keep the first pass off the source primary: read its replica, re-read differences on the primary',
    'dualwrite verify --config migrate.json --source-replica mysql://app:secret@old-db-replica/shop',
  ],
  interruptible: true,
  run,
};

async function run(context: CommandContext): Promise<number> {
  const mode = verifyMode(context.options);
  if (mode.kind !== 'full') {
    for (const side of ['source', 'target'] as const) {
      // Given on the command line, verifyMode refused it: this one came from the config file.
      if (context.options.has(`${side}-replica`)) context.output.notice(`verify: the config file's ${side}Replica is not used: ${modeName(mode.kind)} reads the primaries only`);
    }
  }
  switch (mode.kind) {
    case 'full':
      return verifyFull(context, mode);
    case 'incremental':
      return verifySince(context, mode);
    case 'repair-log':
      return verifyLogged(context, mode);
  }
}

/**
 * The mode and settings the options ask for.
 *
 * @throws {@link UsageError} for options that belong to another mode, or a mode's missing half
 */
export function verifyMode(options: ParsedOptions): VerifyMode {
  const given = (name: string): boolean => options.has(name);
  const fail = (message: string): never => {
    throw new UsageError(message, VERB);
  };
  const since = options.string('since');
  const changedColumn = options.string('changed-column');
  const fromLog = options.flag('from-repair-log');
  const job = options.string('job');
  const chunkRows = options.integer('chunk-rows');

  if (fromLog && (since !== undefined || changedColumn !== undefined)) {
    fail(`--from-repair-log and --${since !== undefined ? 'since' : 'changed-column'} exclude each other: --from-repair-log checks the keys the pool logged, --since/--changed-column the rows changed since a time; give one of them`);
  }
  if (since !== undefined && changedColumn === undefined) {
    fail('--since needs --changed-column: name the updated_at-style column compared with it, e.g. --changed-column updated_at --since \'2026-11-20 10:00:00\'');
  }
  if (changedColumn !== undefined && since === undefined) {
    fail('--changed-column needs --since: give the UTC time to check from (e.g. the nextSince printed by the previous run), or drop --changed-column for a full verify');
  }
  const incremental = since !== undefined;
  for (const name of ['no-reverse-pass', 'overlap-ms']) {
    if (given(name) && !incremental) fail(`--${name} belongs to an incremental verify: give it with --since and --changed-column`);
  }
  if (given('repair-log-table') && !fromLog) fail('--repair-log-table names the log read by --from-repair-log: give it with --from-repair-log');
  if (job !== undefined && (incremental || fromLog)) {
    fail(`--job makes a full verify resumable; ${incremental ? 'an incremental verify (--since)' : 'a verify of the repair log (--from-repair-log)'} keeps no checkpoint: drop --job (a stopped run is simply run again)`);
  }
  for (const name of ['restart', 'checkpoint-every-ms']) {
    if (given(name) && job === undefined) fail(`--${name} belongs to a resumable verify: give it with --job NAME`);
  }
  if (job !== undefined && job.length > 64) fail(`--job must be at most 64 characters, got ${job.length}`);
  const rules = options.rules('normalize');
  const normalize = rules === undefined ? undefined : normalizationProfile(rules, VERB);
  const replicas = { source: false, target: false };
  for (const side of ['source', 'target'] as const) {
    const flag = `${side}-replica`;
    if (!given(flag)) continue;
    if (incremental || fromLog) {
      if (options.fromConfig(flag)) continue; // a config file shared with full verifies: ignored, with a notice
      fail(`--${flag} belongs to a full verify: ${modeName(incremental ? 'incremental' : 'repair-log')} reads the primaries only; drop --${flag}`);
    }
    checkReplicaDatabase(options, side);
    replicas[side] = true;
  }

  if (incremental) {
    return {
      kind: 'incremental',
      since: parseSince(since, VERB),
      changedColumn: changedColumn as string,
      reversePass: !options.flag('no-reverse-pass'),
      overlapMs: options.integer('overlap-ms') ?? 0,
      batchKeys: chunkRows,
      normalize,
    };
  }
  if (fromLog) {
    const logTable = options.string('repair-log-table') ?? DEFAULT_REPAIR_LOG_TABLE;
    try {
      repairLogTableSql(logTable, '--repair-log-table');
    } catch {
      fail(`--repair-log-table must be a table name of letters, digits, _ and $, optionally qualified as db.table, got ${JSON.stringify(logTable)}`);
    }
    return { kind: 'repair-log', logTable, batchKeys: chunkRows, chunkRows: chunkRows ?? DEFAULT_CHUNK_ROWS, normalize };
  }
  return { kind: 'full', chunkRows: chunkRows ?? DEFAULT_CHUNK_ROWS, job, restart: options.flag('restart'), checkpointEveryMs: options.integer('checkpoint-every-ms'), replicas, normalize };
}

/** A mode as messages name it. */
function modeName(kind: VerifyMode['kind']): string {
  return kind === 'incremental' ? 'an incremental verify (--since)' : kind === 'repair-log' ? 'a verify of the repair log (--from-repair-log)' : 'a full verify';
}

/**
 * Refuses a replica URL whose database is not the side's: verify reads the replica with the side's database name
 * (it compares the tables of the source's schema, and replication keeps names), so another name would read other
 * tables, or fail.
 */
function checkReplicaDatabase(options: ParsedOptions, side: Side): void {
  const replica = replicaUrl(options, side, VERB) as string;
  const primary = sideUrl(options, side, VERB);
  if (primary === undefined) return; // connecting says the side is missing
  const [replicaDatabase, primaryDatabase] = [urlDatabase(replica), urlDatabase(primary)];
  if (replicaDatabase === primaryDatabase) return;
  throw new UsageError(
    `--${side}-replica ${redact(replica)} names the database \`${replicaDatabase}\`, but --${side} names \`${primaryDatabase}\`: verify reads the replica's copy ` +
      `under the ${side}'s own name, so put \`${primaryDatabase}\` in the path of --${side}-replica (a replica that renames databases cannot be used)`,
    VERB,
  );
}

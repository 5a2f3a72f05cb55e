/**
 * The verify jobs part of `dualwrite status`: the checkpoints `dualwrite verify --job` (library `verify()` with a
 * `job`) keeps in `dualwrite_verify_state` on the target. A run that completes deletes its job's checkpoints, so every
 * job found here was stopped or killed and is continued by the next run with the same job. Read with plain SELECTs:
 * the library's `VerifyCheckpointStore` creates the table on first use, and status writes nothing.
 *
 * @module
 */
import { queryExact, quoteIdentifier, type ExactQueryable, type ExactValue } from '../../migrate/codec.js';
import { decodeKeyTuple } from '../../migrate/key-json.js';
import { DEFAULT_VERIFY_CHECKPOINT_TABLE, type VerifyCheckpoint } from '../../migrate/verify-checkpoints.js';
import type { Connected } from '../connection.js';
import { count, showKey, type Output } from '../output.js';

/** One table's checkpoint of an unfinished verify job, with when it was saved. */
export interface VerifyJobCheckpoint extends VerifyCheckpoint {
  /** When the checkpoint was saved, UTC `YYYY-MM-DD hh:mm:ss`. */
  readonly updatedAt: string;
}

/** What status found of the verify jobs. */
export interface VerifyJobsStatus {
  /** False when the target has no state table (no `verify --job` ever ran there). */
  readonly stateTable: boolean;
  /** The checkpoints of the tables `wanted`, by job then schema and table. */
  readonly checkpoints: readonly VerifyJobCheckpoint[];
}

const COUNTS = ['rowsChecked', 'chunks', 'chunksDiffered', 'missing', 'extra', 'different'] as const;

/**
 * Reads every verify job's checkpoints on the target, keeping the tables `wanted` accepts; reads nothing else and
 * creates nothing.
 *
 * @param exists - whether a table of the target's database exists (status's own check)
 */
export async function readVerifyJobs(target: Connected, wanted: (table: string) => boolean, exists: (pool: ExactQueryable, schema: string, table: string) => Promise<boolean>): Promise<VerifyJobsStatus> {
  if (!(await exists(target.pool, target.database, DEFAULT_VERIFY_CHECKPOINT_TABLE))) return { stateTable: false, checkpoints: [] };
  const rows = await queryExact(
    target.pool,
    'SELECT job, table_schema, table_name, last_key, done, rows_checked, chunks, chunks_differed, missing, extra, different, ' +
      `DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s') FROM ${quoteIdentifier(DEFAULT_VERIFY_CHECKPOINT_TABLE)} ORDER BY job, table_schema, table_name`,
  );
  const checkpoints = rows.map((row): VerifyJobCheckpoint => {
    const [job, schema, table, lastKey, done, ...rest] = row.map(text);
    const numbers = rest.slice(0, COUNTS.length).map(Number);
    return {
      job: job as string,
      schema: schema as string,
      table: table as string,
      after: row[3] === null || row[3] === undefined ? null : decodeKeyTuple(lastKey as string),
      done: done === '1',
      ...(Object.fromEntries(COUNTS.map((name, i) => [name, numbers[i] ?? 0])) as Record<(typeof COUNTS)[number], number>),
      updatedAt: rest[COUNTS.length] as string,
    };
  });
  return { stateTable: true, checkpoints: checkpoints.filter((checkpoint) => wanted(checkpoint.table)) };
}

/** Prints the verify jobs (human lines, or a `verify_checkpoint` JSON line per table). */
export function printVerifyJobs(output: Output, target: Connected, status: VerifyJobsStatus, filtered: boolean): void {
  const where = `\`${target.database}\`.\`${DEFAULT_VERIFY_CHECKPOINT_TABLE}\``;
  if (!status.stateTable) {
    output.print(`verify jobs: none (no state table ${where} on the target: no verify --job has run there)`);
    return;
  }
  if (status.checkpoints.length === 0) {
    output.print(`verify jobs: none unfinished${filtered ? ' for these tables' : ''} (a verify --job run that completes deletes its checkpoints)`);
    return;
  }
  for (const [job, checkpoints] of groupByJob(status.checkpoints)) {
    const done = checkpoints.filter((checkpoint) => checkpoint.done).length;
    const saved = checkpoints.reduce((latest, checkpoint) => (checkpoint.updatedAt > latest ? checkpoint.updatedAt : latest), '');
    output.print(
      `verify job "${job}": unfinished (stopped, or still running), ${done} of ${checkpoints.length} table${checkpoints.length === 1 ? '' : 's'} with checkpoints done, last saved ${saved} UTC ` +
        `(checkpoints in ${where}; run the same verify --job ${job} to continue, or add --restart to start over)`,
    );
    for (const checkpoint of checkpoints) {
      output.event('verify_checkpoint', { ...checkpoint });
      output.print(`  ${line(checkpoint)}`);
    }
  }
}

/** The jobs and their checkpoints, in the order read. */
function groupByJob(checkpoints: readonly VerifyJobCheckpoint[]): Map<string, VerifyJobCheckpoint[]> {
  const jobs = new Map<string, VerifyJobCheckpoint[]>();
  for (const checkpoint of checkpoints) {
    const list = jobs.get(checkpoint.job);
    if (list === undefined) jobs.set(checkpoint.job, [checkpoint]);
    else list.push(checkpoint);
  }
  return jobs;
}

function line(checkpoint: VerifyJobCheckpoint): string {
  const state = checkpoint.done ? 'done' : checkpoint.after === null ? 'started' : 'in progress';
  const found = checkpoint.missing + checkpoint.extra + checkpoint.different;
  const differences =
    found === 0
      ? 'no difference'
      : `${count(found)} difference${found === 1 ? '' : 's'} (${count(checkpoint.missing)} missing, ${count(checkpoint.extra)} extra, ${count(checkpoint.different)} different)`;
  return (
    `${checkpoint.table}: ${state}, ${count(checkpoint.rowsChecked)} rows checked in ${count(checkpoint.chunks)} chunk${checkpoint.chunks === 1 ? '' : 's'}, ${differences}` +
    `${checkpoint.done ? '' : `, next after key ${showKey(checkpoint.after)}`}; saved ${checkpoint.updatedAt} UTC`
  );
}

/** A value of the state table as text. */
function text(value: ExactValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.toString('utf8');
}

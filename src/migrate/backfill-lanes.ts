/**
 * Backfill's lanes: how one table's chunks are read, written and committed on one or two pairs of connections,
 * and where the checkpoint may point meanwhile. Why this is as safe as one chunk at a time is in the notes of
 * `./backfill.ts`; one chunk's own steps are in `./backfill-chunk.ts`.
 *
 * @module
 */
import type { ChunkCopier, ReadChunk } from './backfill-chunk.js';
import type { Checkpoint, CheckpointStore } from './checkpoints.js';
import type { AdaptiveChunkSizer } from './chunk-size.js';
import type { ExactQueryable } from './codec.js';
import type { KeyTuple } from './keyset.js';
import { firstPause, type ThrottleSignal } from './throttle.js';

/** A checked-out connection (a mysql2/promise `PoolConnection` fits). */
export interface LaneConnection extends ExactQueryable {
  /** Returns the connection to its pool. */
  release(): void;
}

/** A pool lanes check their connections out of (a mysql2/promise `Pool` fits). */
export interface LanePool {
  /** Checks a connection out. */
  getConnection(): Promise<LaneConnection>;
}

/** What the lanes of every table share: the job, its checkpoints, throttles and stop signal. */
export interface LaneContext {
  /** The job whose checkpoints are written. */
  readonly job: string;
  /** The source database (checkpoints are kept by its name). */
  readonly sourceSchema: string;
  /** Where checkpoints are written (inside each chunk's target transaction). */
  readonly store: CheckpointStore;
  /** Asked before each chunk's read. */
  readonly throttle: readonly ThrottleSignal[];
  /** How long to wait before asking paused throttle signals again, in milliseconds. */
  readonly throttlePollMs: number;
  /** Once aborted, no chunk starts. */
  readonly stop: AbortSignal;
}

/** What {@link copyChunks} works with: one table's copier, lanes and report. */
export interface TableRun {
  /** The table's name on the source. */
  readonly name: string;
  /** Reads and writes its chunks. */
  readonly copier: ChunkCopier;
  /** Sizes its chunks. */
  readonly sizer: AdaptiveChunkSizer;
  /** One source and one target connection per lane. */
  readonly lanes: readonly Lane[];
  /** Updated as chunks commit. */
  readonly report: { rowsRead: number; rowsInserted: number; chunks: number; pausedMs: number; rowsCopied: number; done: boolean };
  /** Reports progress: after each chunk, and while paused with the throttle's reason. */
  readonly progress: (chunkRows: number, paused?: string) => void;
  /** The key after which the copy starts. */
  readonly after: KeyTuple | null;
}

/** A source and a target connection that copy one chunk at a time. */
export interface Lane {
  /** Reads a chunk and holds its locks until the chunk is committed on the target. */
  readonly source: LaneConnection;
  /** Writes the chunk and its checkpoint. */
  readonly target: LaneConnection;
}

/** A chunk read, numbered in key order. */
interface NumberedChunk {
  readonly index: number;
  readonly chunk: ReadChunk;
  /** The key the copy has reached once this chunk is committed. */
  readonly reached: KeyTuple | null;
}

/**
 * Copies a table's chunks until its last chunk, `context.stop` or a failure, on each lane at the same time:
 * reads one after another in key order, writes and commits side by side, the checkpoint always covering the
 * chunks committed without a gap (see the module notes). Resolves once every lane has finished its chunk;
 * rejects with the first failure then.
 */
export async function copyChunks(context: LaneContext, run: TableRun): Promise<void> {
  const { copier, sizer, report } = run;
  const waitToStart = async (): Promise<boolean> => {
    const pausedAt = Date.now();
    const go = await waitWhileThrottled(context, (reason) => run.progress(0, reason));
    report.pausedMs += Date.now() - pausedAt;
    return go;
  };

  // Reads: one at a time, each after the last key of the one before; throttle signals are asked before each.
  let after = run.after;
  let lastRead = false;
  let failed = false;
  let count = 0;
  let reads: Promise<unknown> = Promise.resolve();
  const readNext = (source: LaneConnection): Promise<NumberedChunk | null> => {
    const turn = reads.then(async (): Promise<NumberedChunk | null> => {
      if (lastRead || failed || !(await waitToStart())) return null;
      const chunk = await copier.read(source, after, sizer.next);
      lastRead = chunk.rows < chunk.limit;
      if (chunk.lastKey !== null) after = chunk.lastKey;
      return { index: count++, chunk, reached: after };
    });
    reads = turn.catch(() => undefined);
    return turn;
  };

  // Commits: one at a time. A chunk committed while one before it is still being written is remembered, and the
  // checkpoint moves over it once the gap closes; it never names a key past an uncommitted chunk.
  const committed = new Map<number, { reached: KeyTuple | null; rows: number; last: boolean }>();
  let claimed = 0; // chunks [0, claimed) are committed and covered by the checkpoint
  let claimedAfter = run.after;
  let claimedRows = report.rowsCopied;
  let commits: Promise<unknown> = Promise.resolve();
  const commit = (target: LaneConnection, numbered: NumberedChunk): Promise<void> => {
    const turn = commits.then(async () => {
      const { index, chunk, reached } = numbered;
      committed.set(index, { reached, rows: chunk.rows, last: chunk.rows < chunk.limit });
      let through = claimed;
      let key = claimedAfter;
      let rows = claimedRows;
      let done = false;
      for (let entry = committed.get(through); entry !== undefined; entry = committed.get(++through)) {
        key = entry.reached;
        rows += entry.rows;
        done = entry.last;
      }
      const checkpoint: Checkpoint | null = through === claimed ? null : { job: context.job, schema: context.sourceSchema, table: run.name, after: key, rowsCopied: rows, done };
      try {
        await copier.commit(target, chunk, checkpoint, context.store);
      } catch (error) {
        committed.delete(index);
        throw error;
      }
      for (let i = claimed; i < through; i++) committed.delete(i);
      claimed = through;
      claimedAfter = key;
      claimedRows = rows;
      report.done = done;
    });
    commits = turn.catch(() => undefined);
    return turn;
  };

  const lane = async ({ source, target }: Lane): Promise<void> => {
    try {
      for (let next = await readNext(source); next !== null; next = await readNext(source)) {
        const { chunk } = next;
        const inserted = await copier.insert(target, chunk);
        await commit(target, next);
        sizer.record(chunk.rows, Date.now() - chunk.startedAt);
        report.chunks += 1;
        report.rowsRead += chunk.rows;
        report.rowsInserted += inserted;
        report.rowsCopied += chunk.rows;
        run.progress(chunk.rows);
      }
    } catch (error) {
      failed = true; // the other lanes stop after their chunk
      throw error;
    }
  };
  const settled = await Promise.allSettled(run.lanes.map(lane));
  const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}

/** Waits while a throttle signal says pause; false when `stop` fired meanwhile. */
async function waitWhileThrottled(context: LaneContext, onPause: (reason: string) => void): Promise<boolean> {
  if (context.throttle.length === 0) return !context.stop.aborted;
  for (;;) {
    if (context.stop.aborted) return false;
    const decision = await firstPause(context.throttle);
    if (decision === null) return true;
    onPause(decision.reason ?? 'throttled');
    await sleep(context.throttlePollMs, context.stop);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Checks out the connections of one table at a time: two tables each holding some of their connections while
 * waiting for the rest could otherwise wait on each other forever in a pool with none to spare. A failure
 * releases what was checked out.
 */
export function checkOutSerially(source: LanePool, target: LanePool): (lanes: number) => Promise<Lane[]> {
  let queue: Promise<unknown> = Promise.resolve();
  return (count) => {
    const turn = queue.then(async () => {
      const held: LaneConnection[] = [];
      try {
        const lanes: Lane[] = [];
        while (lanes.length < count) {
          const laneSource = await source.getConnection();
          held.push(laneSource);
          const laneTarget = await target.getConnection();
          held.push(laneTarget);
          lanes.push({ source: laneSource, target: laneTarget });
        }
        return lanes;
      } catch (error) {
        for (const connection of held) connection.release();
        throw error;
      }
    });
    queue = turn.catch(() => undefined);
    return turn;
  };
}

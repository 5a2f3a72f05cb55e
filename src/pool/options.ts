/**
 * Options of the dual-write pool, their defaults, and their validation.
 *
 * @module
 */
import type { Pool, PoolOptions } from 'mysql2';
import { InvalidOptionError } from '../errors.js';
import { checkProfile, type NormalizationProfile } from '../migrate/normalize.js';
import type { FlagProvider } from '../mode/flag-provider.js';
import { isMode, type Mode } from '../mode/modes.js';
import type { TelemetryOption } from '../telemetry/options.js';

/**
 * One side of the migration: mysql2 pool options (or a connection URI), in which case the dual-write pool
 * creates the mysql2 pool and owns it; or a mysql2 pool the application already has, callback-style
 * (`mysql2.createPool`) or promise-style (`mysql2/promise` `createPool`, whose `.pool` is used).
 */
export type SideOption =
  | PoolOptions
  | string
  | Pool
  | {
      /** A mysql2 callback pool the application already has (e.g. the `pool` of a mysql2/promise pool). */
      readonly pool: Pool;
    };

/**
 * What the pool does with a write whose effect a plain statement replay would not reproduce exactly, but
 * whose affected rows it can find: INSERT IGNORE, ON DUPLICATE KEY UPDATE on a table with several unique keys,
 * REPLACE, INSERT … SELECT, UPDATE/DELETE … LIMIT without ORDER BY, UUID()/RAND() that cannot be pinned, subqueries.
 * - `row_image` (default): lock the rows on the primary side, run the statement, and copy the resulting rows
 *   (and deletions) to the secondary side by primary key. The two sides stay identical.
 * - `reject`: refuse the statement with an `UnsafeStatementError` before it runs anywhere.
 * - `record`: run it on the primary side only and write it to the repair log for the repair tool.
 */
export type UnsafeStatementPolicy = 'row_image' | 'reject' | 'record';

/**
 * What the pool does with a write it cannot replay exactly at all (a stored procedure CALL, LOAD DATA, a stored
 * function in a write, a multi-statement text, a statement the analyzer does not understand, a table without a
 * primary key that needs a row image).
 * - `reject` (default): refuse it with an `UnsafeStatementError`; nothing runs.
 * - `record`: run it on the primary side only and write it to the repair log (table-level when the rows are unknown).
 */
export type UnreplayableStatementPolicy = 'reject' | 'record';

/**
 * What the pool does with DDL (CREATE/ALTER/DROP/RENAME/TRUNCATE of permanent objects) in a dual-write mode.
 * - `refuse` (default): a `DdlRefusedError`; nothing runs.
 * - `both`: run it on the primary side, then on the secondary side (a failure there goes to the repair log).
 * Temporary tables always go to both sides of a checked-out connection: they are session state.
 */
export type DdlPolicy = 'refuse' | 'both';

/** Circuit breaker settings for the secondary side. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive replay failures after which the pool stops waiting on the secondary side.
   * @defaultValue 5
   */
  readonly failureThreshold?: number;
  /**
   * How long the circuit stays open before one write probes the secondary side again, in milliseconds;
   * doubled after each failed probe up to {@link CircuitBreakerOptions.maxOpenMs}.
   * @defaultValue 1000
   */
  readonly openMs?: number;
  /**
   * Upper bound of the open period, in milliseconds.
   * @defaultValue 30000
   */
  readonly maxOpenMs?: number;
}

/**
 * Read routing of pool-level reads (`pool.query()` / `pool.execute()` of a statement that writes nothing) in the
 * dual-write modes: gray reads served by the secondary side, and shadow reads compared between the sides. The two
 * shares are defaults: a flag provider's `readRouting` settings, when present, take precedence (so the fleet's
 * config center steers them). See docs/read-routing.md.
 */
export interface ReadRoutingOptions {
  /**
   * Percentage (0–100) of eligible reads served by the secondary side (the target in `source_first`, the source in
   * `target_first`), when the flag state gives no `readRouting.grayReadPercent`.
   * @defaultValue 0
   */
  readonly grayReadPercent?: number;
  /**
   * Percentage (0–100) of eligible reads also run on the secondary side and compared with the primary's answer,
   * when the flag state gives no `readRouting.shadowReadPercent`.
   * @defaultValue 0
   */
  readonly shadowReadPercent?: number;
  /**
   * The routing key of the read being issued (a tenant or user id), for reads outside a `runWithReadKey()` scope
   * or inside one without a key: the same key stays on the same side while the share does not change. Return
   * `undefined` for no key (the read is then routed at random). Called for each routed read: keep it cheap.
   */
  readonly key?: () => string | undefined;
  /**
   * How long after a write issued in the same request (a `runWithReadKey()` scope) its reads stay on the primary
   * side, in milliseconds, counted from the end of the last write (writes in flight keep them there too). 0 turns
   * the window off (writes in flight still count).
   * @defaultValue 1000
   */
  readonly readYourWritesMs?: number;
  /**
   * Most shadow reads running at once; a read sampled beyond it is not shadowed (counted in
   * `shadowReadsDropped`). Keep it below the secondary pool's `connectionLimit`: shadow reads share that pool with
   * the replays of dual writes.
   * @defaultValue 4
   */
  readonly maxShadowReadsInFlight?: number;
  /**
   * How shadow-read results are normalised before they are compared: the verifier's profile names
   * (`floatDigits`, `decimals`, `temporal`, `trailingSpaces`, `letterCase`, `json`), applied to the values mysql2
   * returns. Without rules values are compared exactly.
   * @defaultValue `{}`
   */
  readonly normalization?: NormalizationProfile;
  /**
   * Most rows listed in each part (missing, extra, different) of a mismatch's diff.
   * @defaultValue 10
   */
  readonly diffRows?: number;
}

/** {@link DualPoolOptions.staleWrites}: refuse or allow `*_only` writes while the flag state is stale. */
export type StaleWritesPolicy = 'refuse' | 'allow';

/** Options of `createPool` (both the callback and the promise flavour). */
export interface DualPoolOptions {
  /** The database being migrated away from. */
  readonly source: SideOption;
  /** The database being migrated to. */
  readonly target: SideOption;
  /**
   * The mode to start in, when no `flags` provider is given (with one, the provider's current mode is used).
   * @defaultValue `'source_only'`
   */
  readonly mode?: Mode;
  /**
   * Where the mode comes from at run time. Without one the pool creates an in-memory provider, which
   * `setMode()` changes.
   */
  readonly flags?: FlagProvider;
  /**
   * How long a write waits for its replay on the secondary side before the replay counts as failed (and goes to
   * the repair log), in milliseconds. Bounds how long a slow secondary holds the primary side's row locks. DDL
   * replays (`ddl: 'both'`) are not bounded by it: they hold no primary lock, and a schema change can take long.
   * @defaultValue 2000
   */
  readonly replayTimeoutMs?: number;
  /**
   * Replay an autocommit write while the primary side still holds its row locks (inside a short transaction
   * committed after the replay), so that conflicting writes of concurrent callers land on the secondary side in
   * the order the primary side applied them. `false` commits the write first and replays it after, which saves
   * two round trips per write but opens a window: two callers writing the same row within a replay's time can
   * leave the secondary side with the older value (a different number of affected rows is still detected and
   * recorded; the verifier finds the rest), and a process crash between the commit and a failed replay's
   * repair-log row loses that row. Row images and `strict` always run with the locks held.
   * @defaultValue true
   */
  readonly replayWhileLocked?: boolean;
  /**
   * Intent rows: close the crash window of the dual write. The replay of a write is held in a secondary
   * transaction; an intent row naming the rows written goes to the repair log inside the primary side's
   * transaction; the primary side commits, then the secondary side, and the intent row is deleted in a batch a
   * few milliseconds later. A process killed (or a primary COMMIT lost) anywhere in between leaves either nothing
   * on either side or a pending repair-log row, so `dualwrite repair --drain-log` alone makes the sides equal —
   * no verify needed to find what a crash left.
   *
   * Cost: one more INSERT inside every dual write's (or transaction's) primary transaction, a batched DELETE off
   * the caller's path, and the secondary side holds its row locks until after the primary side's COMMIT (one more
   * round trip). Use it when process crashes or primary failovers during the dual write must not need a verify
   * to be found. Applies to writes replayed while locked (the default); `replayWhileLocked: false` and DDL keep
   * their window (see docs/intents.md).
   * @defaultValue false
   */
  readonly intents?: boolean;
  /** See {@link UnsafeStatementPolicy}. @defaultValue `'row_image'` */
  readonly unsafeStatements?: UnsafeStatementPolicy;
  /** See {@link UnreplayableStatementPolicy}. @defaultValue `'reject'` */
  readonly unreplayableStatements?: UnreplayableStatementPolicy;
  /** See {@link DdlPolicy}. @defaultValue `'refuse'` */
  readonly ddl?: DdlPolicy;
  /**
   * Most rows a row-image replay locks and copies for one statement; a statement that would touch more is handled
   * as unreplayable (see `unreplayableStatements`) instead of locking a large part of a table.
   * @defaultValue 10000
   */
  readonly maxRowImageRows?: number;
  /**
   * Fail the caller when the secondary side fails (`ReplayFailedError`), instead of recording the failure in the
   * repair log and answering with the primary side's result.
   * @defaultValue false
   */
  readonly strict?: boolean;
  /**
   * The repair-log table, created on first use in the primary side's default database (or `db.table`).
   * @defaultValue `'dualwrite_repair_log'`
   */
  readonly repairLogTable?: string;
  /** Circuit breaker for the secondary side, or `false` to always try the replay. */
  readonly circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * How long table metadata (columns, keys, auto-increment column) is cached, in milliseconds.
   * @defaultValue 300000
   */
  readonly schemaTtlMs?: number;
  /**
   * How long a mode switch waits for writes in flight under the old mode before it is reported as slow, in milliseconds.
   * @defaultValue 5000
   */
  readonly drainTimeoutMs?: number;
  /**
   * Clock for pinning NOW()/CURRENT_TIMESTAMP to the same value on both sides, in milliseconds since the epoch.
   * @defaultValue `Date.now`
   */
  readonly now?: () => number;
  /**
   * What the pool does with a write in a `*_only` mode (the written table's effective mode) while the flag state in
   * force is stale (`flagState.stale`: the provider lost its source, e.g. Redis, for longer than it trusts it).
   * - `refuse` (default): a `FlagsStaleError`; nothing runs. The fleet may have switched meanwhile, and a write
   *   to one side only could land on a side the others no longer treat as primary.
   * - `allow`: write as usual (verify and repair close any gap later).
   * Writes in the dual-write modes and reads are never refused for staleness. See docs/modes.md.
   */
  readonly staleWrites?: StaleWritesPolicy;
  /** Gray reads and shadow reads, see {@link ReadRoutingOptions}. */
  readonly readRouting?: ReadRoutingOptions;
  /**
   * OpenTelemetry spans and metrics through `@opentelemetry/api` (an optional peer dependency, loaded only when
   * this is on): `true` for the global tracer and meter, or a `TelemetryOptions` object. See docs/observability.md.
   * @defaultValue `false`
   */
  readonly telemetry?: TelemetryOption;
}

/** {@link ReadRoutingOptions} with every default filled in (`key` stays optional). */
export interface ResolvedReadRouting {
  /** {@link ReadRoutingOptions.grayReadPercent}. */
  readonly grayReadPercent: number;
  /** {@link ReadRoutingOptions.shadowReadPercent}. */
  readonly shadowReadPercent: number;
  /** {@link ReadRoutingOptions.key}. */
  readonly key: (() => string | undefined) | undefined;
  /** {@link ReadRoutingOptions.readYourWritesMs}. */
  readonly readYourWritesMs: number;
  /** {@link ReadRoutingOptions.maxShadowReadsInFlight}. */
  readonly maxShadowReadsInFlight: number;
  /** {@link ReadRoutingOptions.normalization}. */
  readonly normalization: NormalizationProfile;
  /** {@link ReadRoutingOptions.diffRows}. */
  readonly diffRows: number;
}

/** {@link DualPoolOptions} with every default filled in. */
export interface ResolvedOptions {
  /** {@link DualPoolOptions.replayTimeoutMs}. */
  readonly replayTimeoutMs: number;
  /** {@link DualPoolOptions.replayWhileLocked}. */
  readonly replayWhileLocked: boolean;
  /** {@link DualPoolOptions.intents}. */
  readonly intents: boolean;
  /** {@link DualPoolOptions.unsafeStatements}. */
  readonly unsafeStatements: UnsafeStatementPolicy;
  /** {@link DualPoolOptions.unreplayableStatements}. */
  readonly unreplayableStatements: UnreplayableStatementPolicy;
  /** {@link DualPoolOptions.ddl}. */
  readonly ddl: DdlPolicy;
  /** {@link DualPoolOptions.maxRowImageRows}. */
  readonly maxRowImageRows: number;
  /** {@link DualPoolOptions.strict}. */
  readonly strict: boolean;
  /** {@link DualPoolOptions.repairLogTable}. */
  readonly repairLogTable: string;
  /** {@link DualPoolOptions.circuitBreaker}, every field filled in, or `false`. */
  readonly circuitBreaker: Required<CircuitBreakerOptions> | false;
  /** {@link DualPoolOptions.schemaTtlMs}. */
  readonly schemaTtlMs: number;
  /** {@link DualPoolOptions.drainTimeoutMs}. */
  readonly drainTimeoutMs: number;
  /** {@link DualPoolOptions.now}. */
  readonly now: () => number;
  /** {@link DualPoolOptions.staleWrites}. */
  readonly staleWrites: StaleWritesPolicy;
  /** {@link DualPoolOptions.readRouting}. */
  readonly readRouting: ResolvedReadRouting;
}

/** The option values dualwrite uses when none is given. */
export const DEFAULT_POOL_OPTIONS: ResolvedOptions = Object.freeze({
  replayTimeoutMs: 2000,
  replayWhileLocked: true,
  intents: false,
  unsafeStatements: 'row_image',
  unreplayableStatements: 'reject',
  ddl: 'refuse',
  maxRowImageRows: 10_000,
  strict: false,
  repairLogTable: 'dualwrite_repair_log',
  circuitBreaker: Object.freeze({ failureThreshold: 5, openMs: 1000, maxOpenMs: 30_000 }),
  schemaTtlMs: 300_000,
  drainTimeoutMs: 5000,
  now: Date.now,
  staleWrites: 'refuse',
  readRouting: Object.freeze({
    grayReadPercent: 0,
    shadowReadPercent: 0,
    key: undefined,
    readYourWritesMs: 1000,
    maxShadowReadsInFlight: 4,
    normalization: Object.freeze({}),
    diffRows: 10,
  }),
});

/**
 * Checks every option and fills in defaults.
 *
 * @throws {@link InvalidOptionError} naming the first bad option, its value, and what is accepted
 */
export function resolveOptions(options: DualPoolOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createPool options', options, 'an object with at least `source` and `target`');
  }
  for (const side of ['source', 'target'] as const) {
    const value: unknown = options[side];
    if (value === undefined || value === null || (typeof value !== 'object' && typeof value !== 'string')) {
      throw new InvalidOptionError(`createPool ${side}`, value, 'mysql2 pool options, a connection URI, or an existing mysql2 pool');
    }
  }
  if (options.mode !== undefined && !isMode(options.mode)) {
    throw new InvalidOptionError('createPool mode', options.mode, "one of 'source_only', 'source_first', 'target_first', 'target_only'");
  }
  const d = DEFAULT_POOL_OPTIONS;
  const breaker = options.circuitBreaker;
  return {
    replayTimeoutMs: positive('replayTimeoutMs', options.replayTimeoutMs, d.replayTimeoutMs),
    replayWhileLocked: options.replayWhileLocked ?? d.replayWhileLocked,
    intents: flag('intents', options.intents, d.intents),
    unsafeStatements: oneOf('unsafeStatements', options.unsafeStatements, ['row_image', 'reject', 'record'], d.unsafeStatements),
    unreplayableStatements: oneOf('unreplayableStatements', options.unreplayableStatements, ['reject', 'record'], d.unreplayableStatements),
    ddl: oneOf('ddl', options.ddl, ['refuse', 'both'], d.ddl),
    maxRowImageRows: positive('maxRowImageRows', options.maxRowImageRows, d.maxRowImageRows),
    strict: options.strict ?? d.strict,
    repairLogTable: tableName(options.repairLogTable ?? d.repairLogTable),
    circuitBreaker:
      breaker === false
        ? false
        : {
            failureThreshold: positive('circuitBreaker.failureThreshold', breaker?.failureThreshold, 5),
            openMs: positive('circuitBreaker.openMs', breaker?.openMs, 1000),
            maxOpenMs: positive('circuitBreaker.maxOpenMs', breaker?.maxOpenMs, 30_000),
          },
    schemaTtlMs: positive('schemaTtlMs', options.schemaTtlMs, d.schemaTtlMs),
    drainTimeoutMs: positive('drainTimeoutMs', options.drainTimeoutMs, d.drainTimeoutMs),
    now: options.now ?? d.now,
    staleWrites: oneOf('staleWrites', options.staleWrites, ['refuse', 'allow'], d.staleWrites),
    readRouting: resolveReadRouting(options.readRouting, d.readRouting),
  };
}

function resolveReadRouting(given: ReadRoutingOptions | undefined, d: ResolvedReadRouting): ResolvedReadRouting {
  if (given === undefined) return d;
  if (given === null || typeof given !== 'object') throw new InvalidOptionError('createPool readRouting', given, 'an object of read-routing settings (see ReadRoutingOptions)');
  if (given.key !== undefined && typeof given.key !== 'function') {
    throw new InvalidOptionError('createPool readRouting.key', given.key, 'a function returning the routing key (a string) of the read being issued, or undefined');
  }
  const windowMs = given.readYourWritesMs ?? d.readYourWritesMs;
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
    throw new InvalidOptionError('createPool readRouting.readYourWritesMs', windowMs, 'a number of milliseconds of at least 0');
  }
  return {
    grayReadPercent: percent('readRouting.grayReadPercent', given.grayReadPercent, d.grayReadPercent),
    shadowReadPercent: percent('readRouting.shadowReadPercent', given.shadowReadPercent, d.shadowReadPercent),
    key: given.key,
    readYourWritesMs: windowMs,
    maxShadowReadsInFlight: whole('readRouting.maxShadowReadsInFlight', given.maxShadowReadsInFlight, d.maxShadowReadsInFlight),
    normalization: given.normalization === undefined ? d.normalization : checkProfile(given.normalization, 'createPool readRouting.normalization'),
    diffRows: whole('readRouting.diffRows', given.diffRows, d.diffRows),
  };
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(`createPool ${name}`, value, 'true or false');
  return value;
}

function percent(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) throw new InvalidOptionError(`createPool ${name}`, value, 'a percentage from 0 to 100');
  return value;
}

function whole(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionError(`createPool ${name}`, value, 'a whole number of at least 1');
  return value;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`createPool ${name}`, value, 'a positive number');
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new InvalidOptionError(`createPool ${name}`, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return value;
}

function tableName(value: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)?$/.test(value)) {
    throw new InvalidOptionError('createPool repairLogTable', value, 'a table name of letters, digits, _ and $, optionally qualified as db.table');
  }
  return value;
}

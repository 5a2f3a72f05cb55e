/**
 * `RedisModeController`: the operator's side of the Redis flags — read the
 * mode, switch it, and see which instances have applied it.
 *
 * @module
 */
import { DualWriteError, InvalidOptionError } from '../errors.js';
import { parseMode, type Mode } from './modes.js';
import { checkRedisConnection, openRedis, redisFlagKeys, type RedisClientLike, type RedisConnection, type RedisFlagKeys } from './redis-client.js';
import { parseFlagDocument, type FlagDocument } from './redis-flag-document.js';
import type { InstanceAck } from './redis-flag-provider.js';

/** Options of {@link RedisModeController}. */
export type RedisModeControllerOptions = RedisConnection & {
  /** The flag key, as given to the providers. @defaultValue `'dualwrite:flags'` */
  readonly key?: string;
  /** Clock, in milliseconds since the epoch. @defaultValue `Date.now` */
  readonly now?: () => number;
};

/** Options of {@link RedisModeController.switchMode}. */
export interface SwitchModeOptions {
  /** Who switches, for the audit (stored as the document's `source`). */
  readonly source?: string;
  /** Resolve only when every live instance has applied the new revision. @defaultValue false */
  readonly wait?: boolean;
  /** With `wait`: give up after this long (rejecting with {@link SwitchNotAppliedError}). @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** With `wait`: how often to look at the acknowledgements. @defaultValue 100 */
  readonly pollMs?: number;
}

/** Which instances have applied a revision. */
export interface SwitchReport {
  /** The revision in question. */
  readonly revision: number;
  /** The mode stored now (the mode of `revision` unless a later switch followed). */
  readonly mode: Mode;
  /** Live instances that have applied it (or a later revision). */
  readonly applied: readonly InstanceAck[];
  /** Live instances that have not. */
  readonly pending: readonly InstanceAck[];
  /**
   * Registered instances whose acknowledgement expired (no heartbeat for their
   * `instanceTtlMs`): dead, or cut off from Redis. They are not waited for, and
   * are forgotten once reported.
   */
  readonly lost: readonly string[];
  /** Whether `pending` is empty. */
  readonly complete: boolean;
}

/**
 * A switch was written but not every live instance applied it within the timeout.
 * The new mode stays written (the instances still follow it); `report.pending` names the laggards.
 *
 * Code `ER_DUALWRITE_SWITCH_NOT_APPLIED`.
 */
export class SwitchNotAppliedError extends DualWriteError {
  /** The acknowledgements at the timeout. */
  readonly report: SwitchReport;

  /**
   * @param report - the acknowledgements at the timeout
   * @param timeoutMs - how long the switch waited
   */
  constructor(report: SwitchReport, timeoutMs: number) {
    super(
      'ER_DUALWRITE_SWITCH_NOT_APPLIED',
      `The switch to ${report.mode} (revision ${report.revision}) was not applied by ${report.pending.length} live instance(s) within ${timeoutMs} ms: ` +
        `${report.pending.map((ack) => `${ack.instanceId} (still at revision ${ack.revision}, ${ack.mode})`).join(', ')}. ` +
        'The new mode stays written and these instances will follow when they can; check their connection to Redis and their logs, then check again with status().',
    );
    this.report = report;
  }
}

/** Compare-and-set of the document: writes ARGV[2] when the stored revision is ARGV[1], then publishes. */
const WRITE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local revision = 0
if current then
  local ok, document = pcall(cjson.decode, current)
  if ok and type(document) == 'table' and tonumber(document.revision) then revision = tonumber(document.revision) end
end
if revision ~= tonumber(ARGV[1]) then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[1], ARGV[3])
return revision + 1
`;

/**
 * Reads and switches the mode stored in Redis, for operators and tools.
 *
 * A switch writes the document with the next revision (a compare-and-set, so
 * two operators never both win the same revision; fields it does not know are
 * kept), publishes it, and reports which live instances have applied it.
 *
 * @example
 * const controller = new RedisModeController({ connection: process.env.REDIS_URL });
 * const report = await controller.switchMode('source_first', { source: 'ops:alice', wait: true, timeoutMs: 60_000 });
 * await controller.close();
 */
export class RedisModeController {
  readonly #options: RedisModeControllerOptions;
  readonly #keys: RedisFlagKeys;
  readonly #now: () => number;
  #client: Promise<{ client: RedisClientLike; owned: boolean }> | undefined;

  /**
   * @param options - see {@link RedisModeControllerOptions}
   * @throws {@link InvalidOptionError} when neither or both of `redis`/`connection` are given
   */
  constructor(options: RedisModeControllerOptions) {
    checkRedisConnection(options, 'RedisModeController');
    this.#options = options;
    this.#keys = redisFlagKeys(options.key);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The stored document, or `null` when the key does not exist.
   *
   * @throws {@link InvalidModeError} when the stored content is invalid
   */
  async get(): Promise<FlagDocument | null> {
    const text = await (await this.#redis()).get(this.#keys.flags);
    return text === null ? null : parseFlagDocument(text, `Redis key "${this.#keys.flags}"`);
  }

  /**
   * Writes `mode` as the next revision and publishes it.
   *
   * @returns who has applied it (with `wait`: once every live instance has)
   * @throws {@link InvalidModeError} when `mode` is not a mode
   * @throws {@link SwitchNotAppliedError} with `wait`, when live instances have not applied it within `timeoutMs`
   */
  async switchMode(mode: Mode, options: SwitchModeOptions = {}): Promise<SwitchReport> {
    const checked = parseMode(mode, 'RedisModeController.switchMode()');
    const timeoutMs = positive('timeoutMs', options.timeoutMs, 30_000);
    const pollMs = positive('pollMs', options.pollMs, 100);
    const client = await this.#redis();
    let revision = -1;
    while (revision < 0) {
      const text = await client.get(this.#keys.flags);
      let fields: Record<string, unknown> = {};
      let expected = 0;
      if (text !== null) {
        try {
          const stored = JSON.parse(text) as unknown;
          if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) fields = stored as Record<string, unknown>;
        } catch {
          // invalid content is replaced by a valid document
        }
        expected = typeof fields.revision === 'number' && Number.isSafeInteger(fields.revision) ? fields.revision : 0;
      }
      const document: Record<string, unknown> = { ...fields, mode: checked, revision: expected + 1, updatedAt: this.#now() };
      if (options.source !== undefined) document.source = options.source;
      else delete document.source;
      const body = JSON.stringify(document);
      revision = Number(await client.eval(WRITE_SCRIPT, 1, this.#keys.flags, String(expected), body, body));
    }
    const deadline = this.#now() + timeoutMs;
    let report = await this.status(revision);
    while (options.wait === true && !report.complete) {
      if (this.#now() >= deadline) throw new SwitchNotAppliedError(report, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      report = await this.status(revision);
    }
    return report;
  }

  /**
   * Which live instances have applied `revision` (default: the stored one).
   *
   * @throws {@link InvalidOptionError} when the key does not exist and no revision is given
   */
  async status(revision?: number): Promise<SwitchReport> {
    const client = await this.#redis();
    const document = await this.get();
    if (document === null && revision === undefined) {
      throw new InvalidOptionError('RedisModeController.status() revision', revision, `a revision, or a flag document stored under "${this.#keys.flags}" (none is)`);
    }
    const target = revision ?? (document as FlagDocument).revision;
    const ids = (await client.smembers(this.#keys.instances)).sort();
    const acks = ids.length === 0 ? [] : await client.mget(...ids.map((id) => this.#keys.instance(id)));
    const applied: InstanceAck[] = [];
    const pending: InstanceAck[] = [];
    const lost: string[] = [];
    ids.forEach((id, index) => {
      const text = acks[index];
      const ack = text === null || text === undefined ? undefined : readAck(text);
      if (ack === undefined) lost.push(id);
      else if (ack.revision >= target && !ack.stale) applied.push(ack);
      else pending.push(ack);
    });
    for (const id of lost) await client.srem(this.#keys.instances, id);
    return { revision: target, mode: document?.mode ?? 'source_only', applied, pending, lost, complete: pending.length === 0 };
  }

  /** Closes the connection it opened (never a client the caller passed). Idempotent. */
  async close(): Promise<void> {
    const opened = this.#client;
    this.#client = undefined;
    if (opened === undefined) return;
    const { client, owned } = await opened;
    if (owned) await client.quit();
  }

  async #redis(): Promise<RedisClientLike> {
    this.#client ??= openRedis(this.#options, 'RedisModeController');
    return (await this.#client).client;
  }
}

function readAck(text: string): InstanceAck | undefined {
  try {
    const ack = JSON.parse(text) as Partial<InstanceAck>;
    return typeof ack.revision === 'number' && typeof ack.instanceId === 'string' ? (ack as InstanceAck) : undefined;
  } catch {
    return undefined;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !(ms > 0)) throw new InvalidOptionError(`RedisModeController.switchMode() ${name}`, ms, 'a number of milliseconds above 0');
  return ms;
}

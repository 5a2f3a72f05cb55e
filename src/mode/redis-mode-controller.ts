/**
 * `RedisModeController`: the operator's side of the Redis flags — read the
 * mode, switch it, and see which instances have applied it.
 *
 * @module
 */
import { InvalidOptionError, SwitchNotAppliedError } from '../errors.js';
import { parseMode, type Mode } from './modes.js';
import { checkRedisConnection, openRedis, redisFlagKeys, type RedisClientLike, type RedisConnection, type RedisFlagKeys } from './redis-client.js';
import { parseFlagDocument, parseReadRouting, type FlagDocument } from './redis-flag-document.js';
import type { ReadRoutingSettings } from './flag-provider.js';
import type { InstanceAck } from './redis-flag-provider.js';
import { checkTableKey } from './table-modes.js';
import { appendAudit, auditKey, DEFAULT_AUDIT_LENGTH, readAudit, type AuditEntry, type AuditOutcome } from './redis-audit.js';

export { SwitchNotAppliedError } from '../errors.js';

/** Options of {@link RedisModeController}. */
export type RedisModeControllerOptions = RedisConnection & {
  /** The flag key, as given to the providers. @defaultValue `'dualwrite:flags'` */
  readonly key?: string;
  /** Clock, in milliseconds since the epoch. @defaultValue `Date.now` */
  readonly now?: () => number;
  /** Entries kept in the audit list `key:audit` (the oldest are dropped). @defaultValue 1000 */
  readonly auditLength?: number;
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
  /**
   * Switch one table (`schema.table`, as the pool names it) instead of the whole pool: the mode is
   * written to the document's `tableModes`, the pool's `mode` stays.
   */
  readonly table?: string;
  /** Recorded in the audit trail as `forced` instead of `switched` (a guard's failed checks were overridden). */
  readonly forced?: boolean;
  /** Why, for the audit trail (e.g. the failed checks of a forced switch). */
  readonly reason?: string;
}

/** The flag values a switch changes: what {@link RedisModeController.restoreFlags} puts back. */
export interface FlagValues {
  /** The pool's mode. */
  readonly mode: Mode;
  /** Per-table overrides (absent: none). */
  readonly tableModes?: Readonly<Record<string, Mode>>;
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
 * Compare-and-set of the document: writes ARGV[2] when the stored revision is ARGV[1], publishes ARGV[3],
 * and appends the audit entry ARGV[4] to KEYS[2] (bounded by ARGV[5]) in the same step.
 */
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
redis.call('LPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
return revision + 1
`;

/**
 * Reads and switches the mode stored in Redis, for operators and tools.
 *
 * A switch writes the document with the next revision (a compare-and-set, so
 * two operators never both win the same revision; fields it does not know are
 * kept), publishes it, appends an entry to the audit trail (`key:audit`, in the
 * same step), and reports which live instances have applied it. For switches
 * with preconditions and an automatic fall-back, see `CutoverGuard`.
 *
 * @example
 * const controller = new RedisModeController({ connection: process.env.REDIS_URL });
 * const report = await controller.switchMode('source_first', { source: 'ops:alice', wait: true, timeoutMs: 60_000 });
 * await controller.close();
 */
export class RedisModeController {
  readonly #options: RedisModeControllerOptions;
  readonly #keys: RedisFlagKeys;
  readonly #auditKey: string;
  readonly #auditLength: number;
  readonly #now: () => number;
  #client: Promise<{ client: RedisClientLike; owned: boolean }> | undefined;
  #connectionError: Error | undefined;

  /**
   * @param options - see {@link RedisModeControllerOptions}
   * @throws {@link InvalidOptionError} when neither or both of `redis`/`connection` are given, or `auditLength` is not a positive integer
   */
  constructor(options: RedisModeControllerOptions) {
    checkRedisConnection(options, 'RedisModeController');
    this.#options = options;
    this.#keys = redisFlagKeys(options.key);
    this.#auditKey = auditKey(this.#keys.flags);
    this.#now = options.now ?? Date.now;
    const length = options.auditLength ?? DEFAULT_AUDIT_LENGTH;
    if (!Number.isSafeInteger(length) || length < 1) throw new InvalidOptionError('RedisModeController auditLength', length, 'a whole number of entries, at least 1');
    this.#auditLength = length;
  }

  /** The flag key this controller writes. */
  get key(): string {
    return this.#keys.flags;
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
   * Writes `mode` as the next revision (for the whole pool, or for one `table`), publishes it and audits it.
   *
   * @returns who has applied it (with `wait`: once every live instance has)
   * @throws {@link InvalidModeError} when `mode` is not a mode
   * @throws {@link InvalidOptionError} when `table` is not `schema.table`, or a duration is out of range
   * @throws {@link SwitchNotAppliedError} with `wait`, when live instances have not applied it within `timeoutMs`
   */
  async switchMode(mode: Mode, options: SwitchModeOptions = {}): Promise<SwitchReport> {
    const checked = parseMode(mode, 'RedisModeController.switchMode()');
    const table = options.table === undefined ? undefined : checkTableKey(options.table, 'RedisModeController.switchMode() table');
    const report = await this.#write(
      (fields) => {
        if (table === undefined) return { ...fields, mode: checked };
        const tableModes = isRecord(fields.tableModes) ? fields.tableModes : {};
        return { ...fields, tableModes: { ...tableModes, [table]: checked } };
      },
      (previous) => ({
        outcome: options.forced === true ? 'forced' : 'switched',
        from: previous === null ? null : table === undefined ? previous.mode : (previous.tableModes?.[table] ?? previous.mode),
        to: checked,
        table: table ?? null,
        reason: options.reason ?? null,
      }),
      options,
    );
    return report as SwitchReport; // no expected revision: always written
  }

  /**
   * Sets the read-routing shares (gray and shadow reads, docs/read-routing.md) for the fleet: merged into the
   * document's `readRouting`, written as the next revision, published, and audited (`switched`, from and to the mode
   * in force, the new shares in `reason`). The mode and table modes stay.
   *
   * @param routing - the shares to set (0 to 100 each); the shares not given keep their value
   * @param options - as for {@link switchMode} (`table` and `forced` are ignored)
   * @returns who has applied it (with `wait`, once every live instance has)
   * @throws {@link InvalidModeError} when a share is not a number from 0 to 100
   * @throws {@link SwitchNotAppliedError} with `wait`, when a live instance has not applied it in time
   */
  async setReadRouting(routing: ReadRoutingSettings, options: Omit<SwitchModeOptions, 'table' | 'forced'> = {}): Promise<SwitchReport> {
    parseReadRouting(routing, 'RedisModeController.setReadRouting()');
    let merged: ReadRoutingSettings = routing;
    const report = await this.#write(
      (fields) => {
        const current = isRecord(fields.readRouting) ? fields.readRouting : {};
        merged = parseReadRouting({ ...current, ...routing }, 'RedisModeController.setReadRouting()');
        return { ...fields, readRouting: merged };
      },
      (previous) => {
        const mode = previous?.mode ?? 'source_only';
        return { outcome: 'switched', from: mode, to: mode, table: null, reason: options.reason ?? `read routing ${JSON.stringify(merged)}` };
      },
      options,
    );
    return report as SwitchReport; // no expected revision: always written
  }

  /**
   * Puts back the pool's mode and table modes as they were (an automatic fall-back, or an operator's
   * undo); audited as `fell_back` with `reason`. Other fields of the document (read routing) stay.
   *
   * @param values - the mode and table modes to put back
   * @param options - as for {@link switchMode} (`table` and `forced` are ignored); `reason` is recorded;
   *   `onlyIfRevision`: write only while the stored revision is this one (a later switch by someone else wins)
   * @returns who has applied it, or `null` when `onlyIfRevision` did not match (nothing written)
   */
  async restoreFlags(values: FlagValues, options: Omit<SwitchModeOptions, 'table' | 'forced'> & { readonly onlyIfRevision?: number } = {}): Promise<SwitchReport | null> {
    const mode = parseMode(values.mode, 'RedisModeController.restoreFlags() mode');
    const tableModes = values.tableModes === undefined ? {} : { ...values.tableModes };
    for (const [table, tableMode] of Object.entries(tableModes)) {
      checkTableKey(table, 'RedisModeController.restoreFlags() tableModes');
      parseMode(tableMode, `RedisModeController.restoreFlags() tableModes["${table}"]`);
    }
    return this.#write(
      (fields) => {
        const next: Record<string, unknown> = { ...fields, mode };
        if (Object.keys(tableModes).length === 0) delete next.tableModes;
        else next.tableModes = tableModes;
        return next;
      },
      (previous) => ({ outcome: 'fell_back', from: previous?.mode ?? null, to: mode, table: null, reason: options.reason ?? null }),
      options,
      options.onlyIfRevision,
    );
  }

  /**
   * Appends an entry to the audit trail without switching (a refused attempt). `at` defaults to now.
   */
  async recordAudit(entry: Omit<AuditEntry, 'at'> & { readonly at?: number }): Promise<void> {
    await appendAudit(await this.#redis(), this.#auditKey, { ...entry, at: entry.at ?? this.#now() }, this.#auditLength);
  }

  /**
   * The newest entries of the audit trail, newest first.
   *
   * @param limit - how many @defaultValue 50
   * @throws {@link InvalidOptionError} when `limit` is not a positive integer
   */
  async audit(limit = 50): Promise<AuditEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError('RedisModeController.audit() limit', limit, 'a whole number of entries, at least 1');
    return readAudit(await this.#redis(), this.#auditKey, limit);
  }

  /**
   * Which live instances have applied `revision` (default: the stored one), with their acknowledgements
   * (including the counters instances tracked with `trackApplied` report).
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

  /** Compare-and-set loop: `change` builds the next document's fields from the stored ones; audited in the same step. */
  async #write(
    change: (fields: Record<string, unknown>) => Record<string, unknown>,
    entry: (previous: FlagDocument | null) => { outcome: AuditOutcome; from: Mode | null; to: Mode; table: string | null; reason: string | null },
    options: SwitchModeOptions,
    onlyIfRevision?: number,
  ): Promise<SwitchReport | null> {
    const timeoutMs = positive('timeoutMs', options.timeoutMs, 30_000);
    const pollMs = positive('pollMs', options.pollMs, 100);
    const client = await this.#redis();
    let revision = -1;
    while (revision < 0) {
      const text = await client.get(this.#keys.flags);
      let fields: Record<string, unknown> = {};
      let expected = 0;
      let previous: FlagDocument | null = null;
      if (text !== null) {
        try {
          const stored = JSON.parse(text) as unknown;
          if (isRecord(stored)) fields = stored;
          previous = parseFlagDocument(text, `Redis key "${this.#keys.flags}"`);
        } catch {
          // invalid content is replaced by a valid document
        }
        expected = typeof fields.revision === 'number' && Number.isSafeInteger(fields.revision) ? fields.revision : 0;
      }
      if (onlyIfRevision !== undefined && expected !== onlyIfRevision) return null;
      const now = this.#now();
      const document: Record<string, unknown> = { ...change(fields), revision: expected + 1, updatedAt: now };
      if (typeof document.mode !== 'string') document.mode = previous?.mode ?? 'source_only'; // a table switch on an empty key
      if (options.source !== undefined) document.source = options.source;
      else delete document.source;
      const body = JSON.stringify(document);
      const audit: AuditEntry = { at: now, actor: options.source ?? null, ...entry(previous), revision: expected + 1 };
      revision = Number(await client.eval(WRITE_SCRIPT, 2, this.#keys.flags, this.#auditKey, String(expected), body, body, JSON.stringify(audit), String(this.#auditLength)));
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

  /** The last connection error of a client this controller opened (ioredis reports them as events), if any. */
  get connectionError(): Error | undefined {
    return this.#connectionError;
  }

  async #redis(): Promise<RedisClientLike> {
    this.#client ??= openRedis(this.#options, 'RedisModeController').then((opened) => {
      // Without a listener ioredis prints each connection error to stderr; the commands reject anyway.
      if (opened.owned) opened.client.on('error', (error) => (this.#connectionError = error instanceof Error ? error : new Error(String(error))));
      return opened;
    });
    return (await this.#client).client;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/**
 * The audit trail of mode switches kept in Redis beside the flag document: a list under
 * `key:audit`, newest first, trimmed to a bounded length. Entries are JSON objects
 * ({@link AuditEntry}); unknown fields are kept, so later versions can add some.
 *
 * @module
 */
import type { Mode } from './modes.js';
import type { RedisClientLike } from './redis-client.js';

/** How a switch attempt ended, as the audit trail records it. */
export type AuditOutcome =
  /** Written (its preconditions passed, or none were asked for). */
  | 'switched'
  /** Written although a precondition failed (`force`); `reason` lists the failed checks. */
  | 'forced'
  /** Not written: a precondition failed; `reason` lists the failed checks. */
  | 'refused'
  /** An automatic fall-back to the previous mode after a guarded switch; `reason` says which threshold. */
  | 'fell_back';

/** One entry of the audit trail. */
export interface AuditEntry {
  /** When, in milliseconds since the epoch (the writer's clock). */
  readonly at: number;
  /** Who: the actor or source given to the switch (`null` when none was given). */
  readonly actor: string | null;
  /** How it ended. */
  readonly outcome: AuditOutcome;
  /** The mode before (of the table, for a table switch: its override, else the pool's mode); `null` when no document existed. */
  readonly from: Mode | null;
  /** The mode asked for. */
  readonly to: Mode;
  /** The table (`schema.table`) of a per-table switch, `null` for the whole pool. */
  readonly table: string | null;
  /** The revision written (`null` for a refused attempt). */
  readonly revision: number | null;
  /** Why: the failed checks of a refused or forced switch, the threshold of a fall-back. */
  readonly reason: string | null;
}

/** Default bound of the audit list. */
export const DEFAULT_AUDIT_LENGTH = 1000;

/** The audit list's key for a flag key. */
export function auditKey(flagKey: string): string {
  return `${flagKey}:audit`;
}

/** LPUSH then LTRIM, in one step. */
const APPEND_SCRIPT = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`;

/** Appends `entry` (newest first), keeping at most `maxLength` entries. */
export async function appendAudit(client: RedisClientLike, key: string, entry: AuditEntry, maxLength: number): Promise<void> {
  await client.eval(APPEND_SCRIPT, 1, key, JSON.stringify(entry), String(maxLength));
}

/** The newest `limit` entries, newest first; entries that are not JSON objects are skipped. */
export async function readAudit(client: RedisClientLike, key: string, limit: number): Promise<AuditEntry[]> {
  const raw = await client.eval("return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)", 1, key, String(limit));
  const entries: AuditEntry[] = [];
  for (const text of Array.isArray(raw) ? raw : []) {
    try {
      const entry = JSON.parse(String(text)) as unknown;
      if (typeof entry === 'object' && entry !== null && !Array.isArray(entry) && typeof (entry as { to?: unknown }).to === 'string') entries.push(entry as AuditEntry);
    } catch {
      // an entry written by something else: not ours to show
    }
  }
  return entries;
}

/**
 * The ledger of a workload running in a process that may be killed (scenario 7): the child writes every ledger entry,
 * and every write it is about to send, as one JSON line to a journal file, synchronously, before it goes on. What the
 * child's callers were told is therefore exactly what is in the file when the process dies; the parent reads the file
 * into a {@link Ledger}, and a write that was sent but whose outcome never reached the journal becomes a write of
 * unknown outcome (either state allowed, never guessed).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Ledger, type LedgerTable, type RowState } from './ledger.js';
import type { Attempt, WriteJournal } from './workload.js';

type Change = { table: LedgerTable; key: string; state: RowState | null };
type Unkeyed = { table: LedgerTable; tag: string; state: RowState };

/** One journal line. */
type Entry =
  | { readonly t: 'ack'; readonly changes: readonly Change[] }
  | { readonly t: 'unknown'; readonly what: string; readonly code: string; readonly message: string; readonly changes: readonly Change[]; readonly unkeyed: readonly Unkeyed[] }
  | { readonly t: 'rollback'; readonly what: string; readonly error: { code: string; message: string } | null; readonly inserted: readonly { table: LedgerTable; key: string }[]; readonly tags: readonly string[] }
  | { readonly t: 'attempt'; readonly caller: number; readonly attempt: Attempt }
  | { readonly t: 'done'; readonly caller: number };

/** The child's side: a {@link Ledger} that also journals each entry, and the {@link WriteJournal} hooks. */
export class JournalLedger extends Ledger implements WriteJournal {
  readonly #fd: number;

  /** @param path - the journal file (appended to) */
  constructor(path: string) {
    super();
    this.#fd = openSync(path, 'a');
  }

  #write(entry: Entry): void {
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
  }

  override acknowledge(changes: readonly Change[]): void {
    this.#write({ t: 'ack', changes });
    super.acknowledge(changes);
  }

  override unknownOutcome(what: string, code: string, message: string, changes: readonly Change[], unkeyed: readonly Unkeyed[] = []): void {
    this.#write({ t: 'unknown', what, code, message: message.slice(0, 200), changes, unkeyed });
    super.unknownOutcome(what, code, message, changes, unkeyed);
  }

  override rollBack(what: string, error: { code: string; message: string } | null, inserted: readonly { table: LedgerTable; key: string }[], tags: readonly string[]): void {
    this.#write({ t: 'rollback', what, error: error === null ? null : { code: error.code, message: error.message.slice(0, 200) }, inserted, tags });
    super.rollBack(what, error, inserted, tags);
  }

  /** {@link WriteJournal.attempt}. */
  attempt(caller: number, attempt: Attempt): void {
    this.#write({ t: 'attempt', caller, attempt });
  }

  /** {@link WriteJournal.done}. */
  done(caller: number): void {
    this.#write({ t: 'done', caller });
  }

  /** Closes the journal file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/** What {@link readJournal} found. */
export interface JournalRead {
  /** Writes acknowledged to the child's callers. */
  readonly acknowledged: number;
  /** Writes in flight when the process died (now of unknown outcome in the ledger). */
  readonly inFlight: number;
}

/**
 * Reads a dead child's journal into `ledger`. A last line cut short by the kill is ignored (its write is still in
 * flight: its `attempt` line came before it).
 */
export function readJournal(path: string, ledger: Ledger): JournalRead {
  const lines = readFileSync(path, 'utf8').split('\n');
  const pending = new Map<number, Attempt>();
  let acknowledged = 0;
  lines.forEach((line, i) => {
    if (line === '') return;
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch (error) {
      if (i === lines.length - 1) return; // the write the kill interrupted
      throw new Error(`journal ${path} line ${i + 1} is not JSON: ${String(error)}`);
    }
    if (entry.t === 'ack') {
      ledger.acknowledge(entry.changes);
      acknowledged++;
    } else if (entry.t === 'unknown') ledger.unknownOutcome(entry.what, entry.code, entry.message, entry.changes, entry.unkeyed);
    else if (entry.t === 'rollback') ledger.rollBack(entry.what, entry.error, entry.inserted, entry.tags);
    else if (entry.t === 'attempt') pending.set(entry.caller, entry.attempt);
    else pending.delete(entry.caller);
  });
  for (const attempt of pending.values()) {
    ledger.unknownOutcome(attempt.what, 'KILLED', 'the application process was killed before its caller heard back', attempt.changes, attempt.unkeyed);
  }
  return { acknowledged, inFlight: pending.size };
}

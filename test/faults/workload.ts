/**
 * The scenario workload: concurrent callers on a dual-write pool (promise API) doing inserts with generated IDs,
 * updates, deletes and multi-statement transactions (most committed, some rolled back) on two tables, each write
 * recorded in a {@link Ledger}. Seeded: the same seed gives every caller the same choices (the interleaving, and
 * therefore the generated IDs, are the servers').
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { DualPromisePool } from '../../src/promise.js';
import { seeded } from '../support/random.js';
import { Ledger, type LedgerTable, type RowState } from './ledger.js';

/** The environment variable that picks the seed: a number, or `random`. */
export const SEED_ENV = 'DUALWRITE_SCENARIO_SEED';

/**
 * The seed of a scenario: `DUALWRITE_SCENARIO_SEED` when set (`random` draws one), else `fixed`. Printed, so a
 * failure can be replayed with `DUALWRITE_SCENARIO_SEED=<seed>`.
 */
export function scenarioSeed(scenario: string, fixed: number): number {
  const asked = process.env[SEED_ENV]?.trim();
  let seed = fixed;
  if (asked === 'random') seed = Math.floor(Math.random() * 2 ** 31);
  else if (asked !== undefined && asked !== '') {
    seed = Number(asked);
    if (!Number.isSafeInteger(seed)) throw new Error(`${SEED_ENV}=${JSON.stringify(asked)} is neither an integer nor 'random'.`);
  }
  process.stdout.write(`[${scenario}] seed ${seed} (replay with ${SEED_ENV}=${seed})\n`);
  return seed;
}

/** Creates the workload's tables on both sides (directly, not through the pool). */
export async function createWorkloadTables(sides: readonly Pool[]): Promise<void> {
  for (const side of sides) {
    await side.query('CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, qty INT NOT NULL) ENGINE=InnoDB');
    await side.query(
      'CREATE TABLE notes (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, order_id BIGINT UNSIGNED NOT NULL, tag VARCHAR(64) NOT NULL, body VARCHAR(255) NOT NULL) ENGINE=InnoDB',
    );
  }
}

/** Reads a workload table from one side as the ledger compares it: id → values as text. */
export async function readSide(side: Pool, table: LedgerTable): Promise<Map<string, RowState>> {
  const sql = table === 'orders' ? 'SELECT id, tag, CAST(qty AS CHAR) AS qty FROM orders' : 'SELECT id, CAST(order_id AS CHAR) AS order_id, tag, body FROM notes';
  const [rows] = await side.query<RowDataPacket[]>({ sql, supportBigNumbers: true, bigNumberStrings: true });
  return new Map(
    rows.map((row) => {
      const { id, ...rest } = row;
      return [String(id), Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)]))];
    }),
  );
}

/** Options of {@link startWorkload}. */
export interface WorkloadOptions {
  /** Seed of the callers' choices. */
  readonly seed: number;
  /** Concurrent callers. Default 16. */
  readonly callers?: number;
  /** Share of transactions rolled back on purpose. Default 0.25. */
  readonly rollbackShare?: number;
  /**
   * Share of writes that are multi-statement transactions, drawn before the usual mix (a transaction-heavy run).
   * Default: unset, the usual mix (a quarter transactions) with the same random choices as before.
   */
  readonly transactionShare?: number;
  /** Prefix of the callers' unique tags: set it when several workloads write the same tables. Default `c`. */
  readonly tagPrefix?: string;
  /** The ledger to record in (e.g. one that also writes each entry to a journal). Default: a new one. */
  readonly ledger?: Ledger;
  /** Told how long each write took its caller: an autocommit statement, or a transaction from checkout to COMMIT. */
  readonly onLatency?: (kind: 'statement' | 'transaction', ms: number) => void;
  /** Told of each write about to be sent, and when its caller has recorded the outcome (see {@link WriteJournal}). */
  readonly journal?: WriteJournal;
}

/**
 * What a write may change if its process dies before its caller hears back: told before an autocommit statement is
 * sent, and before a transaction's COMMIT (a transaction that dies before COMMIT is rolled back by the server).
 */
export interface Attempt {
  /** What is attempted (`insert orders`, `transaction commit`, …). */
  readonly what: string;
  /** Keyed changes (updates, deletes, a transaction's rows). */
  readonly changes: readonly { table: LedgerTable; key: string; state: RowState | null }[];
  /** Inserts whose generated ID is not known yet, by tag. */
  readonly unkeyed: readonly { table: LedgerTable; tag: string; state: RowState }[];
}

/** Hooks around each write, for a workload whose process may be killed (scenario 7). */
export interface WriteJournal {
  /** Caller `caller` is about to send `attempt`. */
  attempt(caller: number, attempt: Attempt): void;
  /** Caller `caller` has recorded the outcome of its last attempt in the ledger. */
  done(caller: number): void;
}

/** A running workload. */
export interface Workload {
  /** What the callers were told. */
  readonly ledger: Ledger;
  /** Writes that completed (acknowledged, or rolled back on purpose) so far: the progress measure. */
  readonly completed: number;
  /** Things a caller saw that no fault explains (a wrong affectedRows, …): must stay empty. */
  readonly anomalies: readonly string[];
  /**
   * Holds every caller before its next write; resolves once none has a write (or a checked-out connection) in
   * flight. Load resumes with {@link Workload.resume}.
   */
  pause(): Promise<void>;
  /** Lets paused callers go on. */
  resume(): void;
  /** Stops the callers after their current write; resolves when all have stopped. */
  stop(): Promise<void>;
}

interface Owned {
  readonly table: LedgerTable;
  readonly key: string;
  readonly state: RowState;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown };
  return typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : String(error);
}

/** Starts the callers; see {@link Workload}. */
export function startWorkload(pool: DualPromisePool, options: WorkloadOptions): Workload {
  const ledger = options.ledger ?? new Ledger();
  const anomalies: string[] = [];
  const rollbackShare = options.rollbackShare ?? 0.25;
  const { journal, onLatency } = options;
  const tagPrefix = options.tagPrefix ?? 'c';
  /** Runs one autocommit write, telling the journal and timing it. */
  const timed = async <T>(c: number, attempt: Attempt, write: () => Promise<T>): Promise<T> => {
    journal?.attempt(c, attempt);
    const started = performance.now();
    const result = await write();
    onLatency?.('statement', performance.now() - started);
    return result;
  };
  let stopping = false;
  let completed = 0;
  let counter = 0;
  /** Set while paused: callers wait on it before their next write. */
  let gate: { readonly promise: Promise<void>; readonly open: () => void } | null = null;
  let running = 0;
  let held = 0;

  const caller = async (c: number): Promise<void> => {
    const random = seeded((options.seed ^ Math.imul(c + 1, 0x9e3779b1)) >>> 0);
    const owned: Owned[] = [];
    const tag = (): string => `${tagPrefix}${c}-${++counter}`;
    const qty = (): string => String(Math.floor(random() * 1_000_000));
    const pickOwned = (table?: LedgerTable): Owned | undefined => {
      const candidates = table === undefined ? owned : owned.filter((o) => o.table === table);
      return candidates[Math.floor(random() * candidates.length)];
    };
    const disown = (o: Owned): void => {
      owned.splice(owned.indexOf(o), 1);
    };
    const expectRows = (what: string, header: ResultSetHeader, rows: number): void => {
      if (header.affectedRows !== rows) anomalies.push(`caller ${c}: ${what} affected ${header.affectedRows} rows, expected ${rows}`);
    };

    running++;
    while (!stopping) {
      while (gate !== null && !stopping) {
        held++;
        await gate.promise;
        held--;
      }
      if (stopping) break;
      const transactionFirst = options.transactionShare !== undefined && random() < options.transactionShare;
      const roll = transactionFirst ? 1 : random();
      let failed = false;
      if (roll < 0.3) {
        // Autocommit multi-row INSERT with generated IDs.
        const rows = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ tag: tag(), qty: qty() }));
        try {
          const attempt = { what: 'insert orders', changes: [], unkeyed: rows.map((state) => ({ table: 'orders' as const, tag: state.tag, state })) };
          const [header] = await timed(c, attempt, () => pool.query<ResultSetHeader>('INSERT INTO orders (tag, qty) VALUES ?', [rows.map((r) => [r.tag, Number(r.qty)])]));
          expectRows('INSERT orders', header, rows.length);
          const changes = rows.map((state, i) => ({ table: 'orders' as const, key: String(header.insertId + i), state }));
          ledger.acknowledge(changes);
          owned.push(...changes);
        } catch (error) {
          failed = true;
          ledger.unknownOutcome('insert orders', codeOf(error), messageOf(error), [], rows.map((state) => ({ table: 'orders' as const, tag: state.tag, state })));
        }
      } else if (roll < 0.45) {
        const order = pickOwned('orders');
        const state = { order_id: order?.key ?? '0', tag: tag(), body: `note ${qty()}` };
        try {
          const attempt = { what: 'insert notes', changes: [], unkeyed: [{ table: 'notes' as const, tag: state.tag, state }] };
          const [header] = await timed(c, attempt, () => pool.execute<ResultSetHeader>('INSERT INTO notes (order_id, tag, body) VALUES (?, ?, ?)', [state.order_id, state.tag, state.body]));
          expectRows('INSERT notes', header, 1);
          const change = { table: 'notes' as const, key: String(header.insertId), state };
          ledger.acknowledge([change]);
          owned.push(change);
        } catch (error) {
          failed = true;
          ledger.unknownOutcome('insert notes', codeOf(error), messageOf(error), [], [{ table: 'notes', tag: state.tag, state }]);
        }
      } else if (roll < 0.65 && owned.some((o) => o.table === 'orders')) {
        const order = pickOwned('orders') as Owned;
        const state = { tag: tag(), qty: qty() };
        disown(order);
        try {
          const attempt = { what: 'update orders', changes: [{ table: 'orders' as const, key: order.key, state }], unkeyed: [] };
          const [header] = await timed(c, attempt, () => pool.execute<ResultSetHeader>('UPDATE orders SET tag = ?, qty = ? WHERE id = ?', [state.tag, state.qty, order.key]));
          expectRows('UPDATE orders', header, 1);
          ledger.acknowledge([{ table: 'orders', key: order.key, state }]);
          owned.push({ table: 'orders', key: order.key, state });
        } catch (error) {
          failed = true;
          ledger.unknownOutcome('update orders', codeOf(error), messageOf(error), [{ table: 'orders', key: order.key, state }]);
        }
      } else if (roll < 0.75 && owned.length > 0) {
        const row = pickOwned() as Owned;
        disown(row);
        try {
          const attempt = { what: `delete ${row.table}`, changes: [{ table: row.table, key: row.key, state: null }], unkeyed: [] };
          const [header] = await timed(c, attempt, () => pool.query<ResultSetHeader>(`DELETE FROM ${row.table} WHERE id = ?`, [row.key]));
          expectRows(`DELETE ${row.table}`, header, 1);
          ledger.acknowledge([{ table: row.table, key: row.key, state: null }]);
        } catch (error) {
          failed = true;
          ledger.unknownOutcome(`delete ${row.table}`, codeOf(error), messageOf(error), [{ table: row.table, key: row.key, state: null }]);
        }
      } else {
        failed = !(await transaction(c, random, tag, qty, pickOwned, disown, owned));
      }
      journal?.done(c);
      if (failed) await sleep(10 + Math.floor(random() * 20));
      else completed++;
    }
    running--;
  };

  /** A multi-statement transaction; false when it failed for the caller. */
  const transaction = async (
    c: number,
    random: () => number,
    tag: () => string,
    qty: () => string,
    pickOwned: (table?: LedgerTable) => Owned | undefined,
    disown: (o: Owned) => void,
    owned: Owned[],
  ): Promise<boolean> => {
    const orders = [0, 1].map(() => ({ tag: tag(), qty: qty() }));
    const noteTag = tag();
    const updated = pickOwned('orders');
    const update = updated === undefined ? undefined : { tag: tag(), qty: qty() };
    if (updated !== undefined) disown(updated);
    const rollBack = random() < rollbackShare;
    const inserted: { table: LedgerTable; key: string; state: RowState }[] = [];
    const tags = [...orders.map((o) => o.tag), noteTag, ...(update ? [update.tag] : [])];
    let phase: 'open' | 'commit' = 'open';
    let connection: Awaited<ReturnType<DualPromisePool['getConnection']>> | undefined;
    const started = performance.now();
    try {
      connection = await pool.getConnection();
      await connection.beginTransaction();
      const [header] = await connection.query<ResultSetHeader>('INSERT INTO orders (tag, qty) VALUES ?', [orders.map((o) => [o.tag, Number(o.qty)])]);
      orders.forEach((state, i) => inserted.push({ table: 'orders', key: String(header.insertId + i), state }));
      const note = { order_id: String(header.insertId), tag: noteTag, body: `tx note ${qty()}` };
      const [noteHeader] = await connection.execute<ResultSetHeader>('INSERT INTO notes (order_id, tag, body) VALUES (?, ?, ?)', [note.order_id, note.tag, note.body]);
      inserted.push({ table: 'notes', key: String(noteHeader.insertId), state: note });
      if (updated !== undefined && update !== undefined) {
        const [u] = await connection.execute<ResultSetHeader>('UPDATE orders SET tag = ?, qty = ? WHERE id = ?', [update.tag, update.qty, updated.key]);
        if (u.affectedRows !== 1) anomalies.push(`caller ${c}: UPDATE orders in a transaction affected ${u.affectedRows} rows, expected 1`);
      }
      if (rollBack) {
        await connection.rollback().catch(() => undefined); // rolled back either way: a lost connection rolls back too
        ledger.rollBack('transaction rollback', null, inserted, tags);
        if (updated !== undefined) owned.push(updated);
        return true;
      }
      phase = 'commit';
      const changes = [...inserted, ...(updated !== undefined && update !== undefined ? [{ table: 'orders' as const, key: updated.key, state: update }] : [])];
      journal?.attempt(c, { what: 'transaction commit', changes, unkeyed: [] });
      await connection.commit();
      onLatency?.('transaction', performance.now() - started);
      ledger.acknowledge(changes);
      owned.push(...changes);
      return true;
    } catch (error) {
      if (phase === 'open') {
        // COMMIT was never sent: the transaction cannot have committed.
        await connection?.rollback().catch(() => undefined);
        ledger.rollBack('transaction', { code: codeOf(error), message: messageOf(error) }, inserted, tags);
        if (updated !== undefined) owned.push(updated);
      } else {
        const changes = [...inserted, ...(updated !== undefined && update !== undefined ? [{ table: 'orders' as const, key: updated.key, state: update }] : [])];
        ledger.unknownOutcome('transaction commit', codeOf(error), messageOf(error), changes);
      }
      return false;
    } finally {
      connection?.release();
    }
  };

  const callers = Array.from({ length: options.callers ?? 16 }, (_, c) => caller(c));
  let stopped: Promise<void> | undefined;
  return {
    ledger,
    get completed() {
      return completed;
    },
    anomalies,
    pause: async () => {
      if (gate === null) {
        let open = (): void => undefined;
        const promise = new Promise<void>((resolve) => (open = resolve));
        gate = { promise, open };
      }
      while (held < running) await sleep(5);
    },
    resume: () => {
      const paused = gate;
      gate = null;
      paused?.open();
    },
    stop: () => {
      stopping = true;
      const paused = gate;
      gate = null;
      paused?.open();
      return (stopped ??= Promise.all(callers).then(() => undefined));
    },
  };
}

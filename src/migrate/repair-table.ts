/**
 * The engine of repair: {@link TableRepairer} repairs batches of keys of one table between an authoritative side
 * and the other side, as the notes of ./repair describe (locking, the multi-row writes and their one-row fallback on
 * a unique-key collision, the audit rows, the read-back and the repair-loop check).
 *
 * @module
 */
import { InvalidOptionError, RepairSchemaMismatchError } from '../errors.js';
import { loadServerSettings, loadTable } from '../schema/index.js';
import type { ColumnMetadata, TableMetadata, UniqueKey } from '../schema/types.js';
import { exactValueSize, quoteIdentifier, type ExactQueryable, type ExactRow, type ExactValue } from './codec.js';
import { copyColumns, readExactRows } from './copy.js';
import { encodeKeyJson } from './key-json.js';
import { keyValueSql, primaryKeyColumns, type KeyTuple, type SqlFragment } from './keyset.js';
import { auditTableSql, repairAuditDdl, repairAuditInserts, type RepairAuditEntry } from './repair-audit.js';
import { compareKey, RepairLoopChecker, type KeyDifference } from './repair-loops.js';
import { RepairRows } from './repair-rows.js';
import { withRepairSessions } from './repair-session.js';
import type { RepairKeysResult, RepairLoop, RepairPool, RepairSide, Settings } from './repair-settings.js';
import { RepairStatements } from './repair-statements.js';
import type { VerifyConnection } from './verify.js';

const LOCK_ATTEMPTS = 3;
const MAX_FOLLOW_UP_DEPTH = 3;
/** Loop checks waiting out their delay at once, beside the batches. */
const MAX_LOOP_CHECKS_IN_FLIGHT = 4;
/** Rows of one multi-row write, and bytes of its values (well under the default `max_allowed_packet` of 16 MiB). */
const MAX_STATEMENT_ROWS = 1000;
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
const ER_DUP_ENTRY = 1062;
const ER_DUP_ENTRY_WITH_KEY_NAME = 1586;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

function errno(error: unknown): number | undefined {
  const value = (error as { errno?: unknown } | null)?.errno;
  return typeof value === 'number' ? value : undefined;
}

function isDuplicate(error: unknown): boolean {
  const code = errno(error);
  return code === ER_DUP_ENTRY || code === ER_DUP_ENTRY_WITH_KEY_NAME;
}

/** Splits rows to write into chunks of at most {@link MAX_STATEMENT_ROWS} rows and about {@link MAX_STATEMENT_BYTES} of values. */
function chunks(states: readonly KeyState[]): KeyState[][] {
  const out: KeyState[][] = [];
  let current: KeyState[] = [];
  let bytes = 0;
  for (const state of states) {
    const size = (state.after ?? []).reduce<number>((sum, value) => sum + exactValueSize(value), 0);
    if (current.length > 0 && (current.length >= MAX_STATEMENT_ROWS || bytes + size > MAX_STATEMENT_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(state);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The changes of one batch, applied to the counts only once both sides committed. */
interface BatchOutcome {
  inserted: number;
  updated: number;
  deleted: number;
  replaced: number;
  collidingDeleted: number;
  unchanged: number;
  sqlStatements: number;
  /** Keys read back before the commit: rows written, and rows of the batch deleted as another row's collision. */
  readonly changed: KeyTuple[];
  /** Keys of colliding rows deleted that were not in the batch (repaired next). */
  readonly followUps: KeyTuple[];
  /** The audit rows, each with the position in the batch of the key whose repair wrote it. */
  readonly audit: { readonly index: number; readonly entry: RepairAuditEntry }[];
  /** Written keys that did not read back as the authoritative row (checked again after the commit). */
  suspects: KeyDifference[];
}

/** What a batch knows of one key while it writes: both rows, and whether its write is done. */
interface KeyState {
  /** Position of the key in the batch: the audit rows are written in this order. */
  readonly index: number;
  readonly key: KeyTuple;
  /** The authoritative row (null: absent). */
  readonly after: ExactRow | null;
  /** The repaired side's row as it is now (null: absent, or deleted as a colliding row). */
  before: ExactRow | null;
  done: boolean;
}

/**
 * Repairs keys of one table between two pools (see the module notes); one instance per table and run, so the
 * metadata is read and the audit table created once. Call {@link TableRepairer.finish} after the last
 * {@link TableRepairer.repair}: repair-loop checks run in the background.
 */
export class TableRepairer {
  readonly #auth: RepairPool;
  readonly #other: RepairPool;
  readonly #authTable: TableMetadata;
  readonly #otherTable: TableMetadata;
  readonly #settings: Settings;
  readonly #side: RepairSide | null;
  readonly #auditSql: string;
  readonly #authRows: RepairRows;
  readonly #otherRows: RepairRows;
  readonly #statements: RepairStatements;
  /** Rows present on both sides are written with the update by insert (false when the other side has triggers). */
  readonly #updateByInsert: boolean;
  /** The other side's unique keys other than the primary key, with the positions of their columns in the rows. */
  readonly #uniqueKeys: readonly { readonly key: UniqueKey; readonly positions: readonly number[] }[];
  readonly #checker: RepairLoopChecker;
  readonly #loops: RepairLoop[] = [];
  #counts = { keys: 0, inserted: 0, updated: 0, deleted: 0, replaced: 0, collidingDeleted: 0, unchanged: 0, sqlStatements: 0 };

  constructor(init: {
    auth: RepairPool;
    other: RepairPool;
    authTable: TableMetadata;
    otherTable: TableMetadata;
    settings: Settings;
    side: RepairSide | null;
    auditSql: string;
    otherHasTriggers: boolean;
  }) {
    this.#auth = init.auth;
    this.#other = init.other;
    this.#authTable = init.authTable;
    this.#otherTable = init.otherTable;
    this.#settings = init.settings;
    this.#side = init.side;
    this.#auditSql = init.auditSql;
    this.#authRows = new RepairRows(init.authTable);
    this.#otherRows = new RepairRows(init.otherTable);
    this.#statements = new RepairStatements(this.#otherRows, init.otherTable);
    this.#updateByInsert = !init.otherHasTriggers;
    this.#uniqueKeys = init.otherTable.uniqueKeys
      .filter((key) => !key.primary && !key.hasExpressionParts && key.columns.length > 0)
      .map((key) => ({ key, positions: key.columns.map((name) => this.#otherRows.position(name)) }))
      .filter((entry) => entry.positions.every((p) => p >= 0));
    this.#checker = new RepairLoopChecker({
      auth: { pool: init.auth, table: init.authTable, rows: this.#authRows },
      other: { pool: init.other, table: init.otherTable, rows: this.#otherRows },
      delayMs: init.settings.loopDelayMs,
      attempts: init.settings.loopAttempts,
      maxInFlight: MAX_LOOP_CHECKS_IN_FLIGHT,
      onLoops: (loops) => this.#reportLoops(loops),
    });
  }

  /** Loads both sides' metadata, checks that they match, and creates the audit table (not in a dry run). */
  static async create(init: {
    auth: RepairPool;
    other: RepairPool;
    authSchema: string;
    otherSchema: string;
    table: string;
    settings: Settings;
    side: RepairSide | null;
  }): Promise<TableRepairer> {
    const [authSettings, otherSettings] = await Promise.all([loadServerSettings(init.auth), loadServerSettings(init.other)]);
    const [authTable, otherTable] = await Promise.all([
      loadTable(init.auth, init.authSchema, init.table, authSettings),
      loadTable(init.other, init.otherSchema, init.table, otherSettings),
    ]);
    primaryKeyColumns(authTable); // refuses a table without a primary key, or with ENUM/SET key columns
    const names = (table: TableMetadata): string => copyColumns(table).map((column) => column.name.toLowerCase()).join(', ');
    const key = (table: TableMetadata): string => table.primaryKey.map((column) => column.toLowerCase()).join(', ');
    if (names(authTable) !== names(otherTable) || key(authTable) !== key(otherTable)) {
      throw new RepairSchemaMismatchError(
        init.table,
        `the authoritative side has columns (${names(authTable)}) and primary key (${key(authTable)}), the other side columns (${names(otherTable)}) and primary key (${key(otherTable)})`,
      );
    }
    const auditSql = auditTableSql(init.settings.auditTable, init.otherSchema);
    const [[triggers]] = await Promise.all([
      init.other.query('SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?', [otherTable.schema, otherTable.name]),
      init.settings.dryRun ? null : init.other.query(repairAuditDdl(auditSql)),
    ]);
    const count = Array.isArray(triggers) ? (triggers[0] as { n?: unknown } | undefined)?.n : undefined;
    return new TableRepairer({ ...init, authTable, otherTable, auditSql, otherHasTriggers: Number(count ?? 0) > 0 });
  }

  /** The table's name. */
  get table(): string {
    return this.#authTable.name;
  }

  /** Counts and loops so far (all of them once {@link TableRepairer.finish} resolved). */
  result(): RepairKeysResult {
    return { table: this.table, dryRun: this.#settings.dryRun, ...this.#counts, loops: this.#loops.length, repairLoops: [...this.#loops] };
  }

  /**
   * Turns key records into tuples in primary-key order.
   *
   * @throws {@link InvalidOptionError} when a key lacks a primary-key column
   */
  tuples(keys: readonly Readonly<Record<string, ExactValue>>[]): KeyTuple[] {
    const keyColumns = this.#authRows.keyColumns;
    const seen = new Set<string>();
    const out: KeyTuple[] = [];
    for (const record of keys) {
      const lower = new Map(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
      const tuple = keyColumns.map((column) => {
        const value = Object.hasOwn(record, column.name) ? record[column.name] : lower.get(column.name.toLowerCase());
        if (value === undefined) throw new InvalidOptionError(`repair key of \`${this.table}\``, record, `a value for every primary-key column (${keyColumns.map((c) => c.name).join(', ')})`);
        return value;
      });
      const id = encodeKeyJson(tuple);
      if (!seen.has(id)) {
        seen.add(id);
        out.push(tuple);
      }
    }
    return out;
  }

  /**
   * Repairs `keys`, batch by batch; the repair-loop checks of the batches go on in the background.
   *
   * @throws the error of a failed batch (after its retries), or of a failed loop check
   */
  async repair(keys: readonly KeyTuple[], depth = 0): Promise<void> {
    for (let i = 0; i < keys.length; i += this.#settings.batchKeys) {
      const failure = this.#checker.failure;
      if (failure !== null) throw failure.error;
      const batch = keys.slice(i, i + this.#settings.batchKeys);
      const outcome = await this.#batchWithRetry(batch);
      this.#counts.keys += batch.length;
      for (const name of ['inserted', 'updated', 'deleted', 'replaced', 'collidingDeleted', 'unchanged', 'sqlStatements'] as const) this.#counts[name] += outcome[name];
      if (outcome.suspects.length > 0) await this.#checker.add(outcome.suspects);
      // A dry run deleted nothing, so the colliding rows' keys would be planned from a state that a real run changes.
      if (this.#settings.dryRun || outcome.followUps.length === 0) continue;
      if (depth < MAX_FOLLOW_UP_DEPTH) await this.repair(outcome.followUps, depth + 1);
      // Rows deleted as colliding that are not repaired again: checked like repaired rows, so none is lost unreported.
      else await this.#checker.addUnread(outcome.followUps);
    }
  }

  /**
   * Waits for the repair-loop checks still running; call it after the last {@link TableRepairer.repair}.
   *
   * @throws the error of a failed loop check
   */
  finish(): Promise<void> {
    return this.#checker.finish();
  }

  async #batchWithRetry(keys: readonly KeyTuple[]): Promise<BatchOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#batch(keys);
      } catch (error) {
        const code = errno(error);
        if (attempt >= LOCK_ATTEMPTS || (code !== ER_LOCK_DEADLOCK && code !== ER_LOCK_WAIT_TIMEOUT)) throw error;
      }
    }
  }

  /** One batch on two checked-out connections, in the sessions ./repair-session describes. */
  async #batch(keys: readonly KeyTuple[]): Promise<BatchOutcome> {
    const auth = await this.#auth.getConnection();
    let other: VerifyConnection;
    try {
      other = await this.#other.getConnection();
    } catch (error) {
      auth.release();
      throw error;
    }
    try {
      return await withRepairSessions(auth, other, () => this.#transactions(auth, other, keys));
    } finally {
      auth.release();
      other.release();
    }
  }

  async #transactions(auth: VerifyConnection, other: VerifyConnection, keys: readonly KeyTuple[]): Promise<BatchOutcome> {
    const dry = this.#settings.dryRun;
    const outcome: BatchOutcome = { inserted: 0, updated: 0, deleted: 0, replaced: 0, collidingDeleted: 0, unchanged: 0, sqlStatements: 0, changed: [], followUps: [], audit: [], suspects: [] };
    if (!dry) await auth.query({ sql: 'START TRANSACTION' });
    try {
      const after = await this.#authRows.readByKeys(auth, this.#authTable, keys, !dry);
      if (!dry) await other.query({ sql: 'START TRANSACTION' });
      try {
        const before = await this.#otherRows.readByKeys(other, this.#otherTable, keys, !dry);
        const states = new Map<string, KeyState>(keys.map((key, index) => {
          const id = encodeKeyJson(key);
          return [id, { index, key, after: after.get(id) ?? null, before: before.get(id) ?? null, done: false }];
        }));
        await this.#write(other, [...states.values()], states, outcome);
        // The writes went by kind; the audit follows the batch's key order (a key's colliding rows just before it).
        const audit = outcome.audit.map((entry, i) => ({ entry, i })).sort((a, b) => a.entry.index - b.entry.index || a.i - b.i).map(({ entry }) => entry.entry);
        for (const statement of repairAuditInserts(this.#auditSql, this.#otherTable.schema, this.#side, audit)) await this.#run(other, statement, outcome);
        if (!dry) {
          outcome.suspects = await this.#readBack(other, states, outcome.changed);
          await other.query({ sql: 'COMMIT' });
        }
      } catch (error) {
        if (!dry) await other.query({ sql: 'ROLLBACK' }).catch(() => undefined);
        throw error;
      }
      if (!dry) await auth.query({ sql: 'COMMIT' });
    } catch (error) {
      if (!dry) await auth.query({ sql: 'ROLLBACK' }).catch(() => undefined);
      throw error;
    }
    return outcome;
  }

  /**
   * Writes a batch: rows absent on the authoritative side are deleted first (which frees their unique values), then
   * rows present on both sides are updated, then missing rows inserted — each group with multi-row statements.
   */
  async #write(other: ExactQueryable, states: readonly KeyState[], byId: Map<string, KeyState>, outcome: BatchOutcome): Promise<void> {
    const deletes: KeyState[] = [];
    const updates: KeyState[] = [];
    const inserts: KeyState[] = [];
    for (const state of states) {
      if (state.after === null && state.before === null) {
        outcome.unchanged++;
        state.done = true;
      } else if (state.after === null) deletes.push(state);
      else if (state.before === null) inserts.push(state);
      else if (this.#otherRows.sameRow(state.before, state.after)) {
        outcome.unchanged++;
        state.done = true;
      } else updates.push(state);
    }
    if (deletes.length > 0) {
      await this.#run(other, this.#statements.delete(deletes.map((state) => state.key)), outcome);
      for (const state of deletes) this.#record(state, 'delete', outcome);
    }
    await this.#writeGroup(other, updates, 'update', byId, outcome);
    await this.#writeGroup(other, inserts, 'insert', byId, outcome);
  }

  /**
   * Writes rows that were all present (`update`) or all absent (`insert`) on the repaired side when read: one
   * multi-row statement per bounded chunk (two rows or more; the update by insert only on a table without
   * triggers). A chunk that fails on a unique key is rolled back by the server and written row by row, where each
   * collision is resolved (see {@link TableRepairer.#repairRow}). A dry run cannot fail, so it reads each row's
   * collisions first and writes the chunk row by row when one collides.
   */
  async #writeGroup(other: ExactQueryable, group: readonly KeyState[], kind: 'update' | 'insert', byId: Map<string, KeyState>, outcome: BatchOutcome): Promise<void> {
    const oneByOne = async (states: readonly KeyState[]): Promise<void> => {
      for (const state of states) if (!state.done) await this.#repairRow(other, state, byId, outcome);
    };
    if (group.length < 2 || (kind === 'update' && !this.#updateByInsert)) return oneByOne(group);
    for (const chunk of chunks(group)) {
      // A row deleted meanwhile as another row's collision is inserted now: written one by one, as it is.
      if (chunk.length < 2 || chunk.some((state) => state.done || (kind === 'update') !== (state.before !== null))) {
        await oneByOne(chunk);
        continue;
      }
      const rows = chunk.map((state) => state.after as ExactRow);
      const statement = kind === 'update' ? this.#statements.updateByInsert(rows) : this.#statements.insert(rows);
      if (this.#settings.dryRun) {
        if (this.#uniqueKeys.length > 0 && (await this.#anyColliding(other, chunk))) await oneByOne(chunk);
        else {
          await this.#run(other, statement, outcome);
          for (const state of chunk) this.#record(state, kind, outcome);
        }
        continue;
      }
      try {
        await this.#run(other, statement, outcome);
      } catch (error) {
        if (!isDuplicate(error)) throw error;
        await oneByOne(chunk);
        continue;
      }
      for (const state of chunk) this.#record(state, kind, outcome);
    }
  }

  async #anyColliding(other: ExactQueryable, chunk: readonly KeyState[]): Promise<boolean> {
    for (const state of chunk) if ((await this.#colliding(other, state.after as ExactRow, state.key, false)).length > 0) return true;
    return false;
  }

  /** Counts and audits a row written as planned, and marks it done. */
  #record(state: KeyState, action: 'insert' | 'update' | 'delete' | 'replace', outcome: BatchOutcome): void {
    if (action === 'insert') outcome.inserted++;
    else if (action === 'update') outcome.updated++;
    else if (action === 'delete') outcome.deleted++;
    else outcome.replaced++;
    outcome.changed.push(state.key);
    outcome.audit.push({
      index: state.index,
      entry: {
        table: this.table,
        key: this.#otherRows.record(state.key),
        action,
        before: state.before === null ? null : this.#otherRows.image(state.before),
        after: state.after === null ? null : this.#otherRows.image(state.after),
      },
    });
    state.done = true;
  }

  /** Sends a statement that changes the other side (to `onSql`; to the server unless dry). */
  async #run(connection: ExactQueryable, statement: SqlFragment, outcome: { sqlStatements: number }): Promise<void> {
    this.#settings.onSql?.(statement.sql, statement.values);
    outcome.sqlStatements++;
    if (!this.#settings.dryRun) await connection.query({ sql: statement.sql, values: statement.values.length === 0 ? undefined : [...statement.values] });
  }

  /**
   * Repairs one row with one-row statements: a plain INSERT or UPDATE (never `INSERT … ON DUPLICATE KEY UPDATE`,
   * which with a second unique key could update another row), and on a unique-key collision the delete of the
   * colliding rows and of the row, then its insert (`replace`). A colliding row of the batch not yet written is
   * inserted later instead of updated, one already handled is read back with the written rows, and one outside
   * the batch is repaired next (a follow-up).
   */
  async #repairRow(connection: ExactQueryable, state: KeyState, byId: Map<string, KeyState>, outcome: BatchOutcome): Promise<void> {
    const { key, before, after } = state;
    if (after === null && before === null) {
      outcome.unchanged++;
      state.done = true;
      return;
    }
    if (after === null) {
      await this.#run(connection, this.#statements.delete([key]), outcome);
      this.#record(state, 'delete', outcome);
      return;
    }
    if (before !== null && this.#otherRows.sameRow(before, after)) {
      outcome.unchanged++;
      state.done = true;
      return;
    }
    const write = before === null ? this.#statements.insert([after]) : this.#statements.update(after, key);
    let colliding: ExactRow[] = [];
    if (this.#settings.dryRun) {
      colliding = await this.#colliding(connection, after, key, false);
      if (colliding.length === 0) await this.#run(connection, write, outcome);
    } else {
      try {
        await this.#run(connection, write, outcome);
      } catch (error) {
        if (!isDuplicate(error)) throw error;
        colliding = await this.#colliding(connection, after, key, true);
        if (colliding.length === 0) throw error;
      }
    }
    if (colliding.length === 0) {
      this.#record(state, before === null ? 'insert' : 'update', outcome);
      return;
    }
    for (const row of colliding) {
      const collidedKey = this.#otherRows.keyOf(row);
      await this.#run(connection, this.#statements.delete([collidedKey]), outcome);
      outcome.collidingDeleted++;
      outcome.audit.push({ index: state.index, entry: { table: this.table, key: this.#otherRows.record(collidedKey), action: 'delete_colliding', before: this.#otherRows.image(row), after: null } });
      const collided = byId.get(encodeKeyJson(collidedKey));
      if (collided === undefined) outcome.followUps.push(collidedKey);
      // A row of the batch already handled now reads back as missing (a suspect: both rows cannot be held at once).
      else if (collided.done) outcome.changed.push(collidedKey);
      else collided.before = null; // written later, as an insert
    }
    if (before !== null) await this.#run(connection, this.#statements.delete([key]), outcome);
    await this.#run(connection, this.#statements.insert([after]), outcome);
    this.#record(state, 'replace', outcome);
  }

  /**
   * Rows of the other side, other than the row of `key`, holding a value of a unique key (other than the primary
   * key) that `row` holds too: the rows a write of `row` collides with. NULLs never collide; a prefix key part
   * compares its prefix; values compare in the column's collation, as the unique index does.
   */
  async #colliding(connection: ExactQueryable, row: ExactRow, key: KeyTuple, lock: boolean): Promise<ExactRow[]> {
    const values: unknown[] = [];
    const terms: string[] = [];
    for (const { key: unique, positions } of this.#uniqueKeys) {
      const parts = positions.map((position) => row[position] ?? null);
      if (parts.some((value) => value === null)) continue;
      const conditions = positions.map((position, i) => {
        const column = this.#otherRows.columns[position] as ColumnMetadata;
        const literal = keyValueSql(column, parts[i] ?? null);
        values.push(...literal.values);
        const prefix = unique.prefixLengths[i];
        const ref = quoteIdentifier(column.name);
        return prefix === null || prefix === undefined ? `${ref} = ${literal.sql}` : `LEFT(${ref}, ${prefix}) = LEFT(${literal.sql}, ${prefix})`;
      });
      terms.push(`(${conditions.join(' AND ')})`);
    }
    if (terms.length === 0) return [];
    const read = await readExactRows(connection, this.#otherTable, `WHERE ${terms.join(' OR ')}${lock ? ' FOR UPDATE' : ''}`, values);
    const own = encodeKeyJson(key);
    return read.rows.filter((candidate) => encodeKeyJson(this.#otherRows.keyOf(candidate)) !== own);
  }

  /**
   * Reads the written rows back inside the batch's transaction (the authoritative rows are still locked, so nothing
   * else can have changed them) and returns those that are not the authoritative row: the suspects of a repair loop.
   */
  async #readBack(other: ExactQueryable, states: ReadonlyMap<string, KeyState>, changed: readonly KeyTuple[]): Promise<KeyDifference[]> {
    const unique = [...new Map(changed.map((key) => [encodeKeyJson(key), key])).values()];
    const rows = await this.#otherRows.readByKeys(other, this.#otherTable, unique, false);
    return unique.flatMap((key) => {
      const id = encodeKeyJson(key);
      const difference = compareKey(this.#otherRows, key, states.get(id)?.after ?? null, rows.get(id) ?? null);
      return difference === null ? [] : [difference];
    });
  }

  /** Records and audits repair loops (the audit row in a transaction of its own). */
  async #reportLoops(differing: readonly KeyDifference[]): Promise<void> {
    const audit: RepairAuditEntry[] = [];
    for (const entry of differing) {
      const key = this.#otherRows.record(entry.key);
      this.#loops.push({ table: this.table, key, kind: entry.kind, ...(entry.columns === undefined ? {} : { columns: entry.columns }) });
      audit.push({
        table: this.table,
        key,
        action: 'repair_loop',
        before: entry.otherRow === null ? null : this.#otherRows.image(entry.otherRow),
        after: entry.authRow === null ? null : this.#otherRows.image(entry.authRow),
      });
    }
    for (const insert of repairAuditInserts(this.#auditSql, this.#otherTable.schema, this.#side, audit)) await this.#other.query(insert.sql, insert.values);
  }
}

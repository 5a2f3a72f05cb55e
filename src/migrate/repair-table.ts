/**
 * The engine of repair: {@link TableRepairer} repairs batches of keys of one table between an authoritative side
 * and the other side, as the notes of ./repair describe (locking, the write per key, unique-key collisions, the
 * audit rows, the repair-loop check). Also the types shared by `repairKeys`, `repair` and `drainRepairLog`.
 *
 * @module
 */
import { InvalidOptionError, RepairSchemaMismatchError } from '../errors.js';
import { loadServerSettings, loadTable } from '../schema/index.js';
import type { ColumnMetadata, TableMetadata, UniqueKey } from '../schema/types.js';
import { quoteIdentifier, withSessionTimeZone, withSessionVariable, type ExactQueryable, type ExactRow, type ExactValue } from './codec.js';
import { copyColumns, readExactRows } from './copy.js';
import { encodeKeyJson } from './key-json.js';
import { keyValueSql, primaryKeyColumns, qualifiedTableName, type KeyTuple, type SqlFragment } from './keyset.js';
import { auditTableSql, DEFAULT_REPAIR_AUDIT_TABLE, repairAuditDdl, repairAuditInsert, type RepairAuditEntry } from './repair-audit.js';
import type { DifferenceKind, VerifyConnection, VerifyPool } from './verify.js';

/** A pool as repair uses it (a mysql2/promise `Pool` fits): metadata reads, and connections to check out. */
export type RepairPool = VerifyPool;

/** A side's name, written in the audit. */
export type RepairSide = 'source' | 'target';


/** How {@link repairKeys} re-checks the keys it repaired. */
export interface RepairLoopCheckOptions {
  /**
   * Milliseconds before a key found still different is read again.
   * @defaultValue 200
   */
  readonly delayMs?: number;
  /**
   * Delayed re-reads before a key still different is reported as a repair loop (0: report after the first read).
   * @defaultValue 2
   */
  readonly attempts?: number;
}

/** Options shared by {@link repairKeys} and {@link repair}. */
export interface RepairSettingsOptions {
  /**
   * Read and plan only: nothing is written and no table is created; `onSql` receives every statement the repair
   * would run.
   * @defaultValue false
   */
  readonly dryRun?: boolean;
  /**
   * The audit table, created on first use on the repaired (non-authoritative) side, in the repaired table's
   * database unless qualified as `db.table`.
   * @defaultValue `'dualwrite_repair_audit'`
   */
  readonly auditTable?: string;
  /** Receives every statement that changes the repaired side (its text and values), run or — in a dry run — not. */
  readonly onSql?: (sql: string, values: readonly unknown[]) => void;
  /**
   * Keys per batch (one transaction on each side; the authoritative rows stay locked for the batch).
   * @defaultValue 100
   */
  readonly batchKeys?: number;
  /** How repaired keys are re-checked for repair loops. */
  readonly loopCheck?: RepairLoopCheckOptions;
}


/** A key still different after its repair. */
export interface RepairLoop {
  /** The table. */
  readonly table: string;
  /** The primary key. */
  readonly key: Readonly<Record<string, ExactValue>>;
  /** Seen from the other side: `missing` there, `extra` there, or `different`. */
  readonly kind: DifferenceKind;
  /** For `different`: the columns that still differ. */
  readonly columns?: readonly string[];
}

/** What a repair did (or, in a dry run, would do). */
export interface RepairCounts {
  /** Distinct keys handled (colliding rows' keys repaired afterwards included). */
  readonly keys: number;
  /** Rows inserted on the other side. */
  readonly inserted: number;
  /** Rows updated. */
  readonly updated: number;
  /** Rows deleted (absent on the authoritative side). */
  readonly deleted: number;
  /** Rows written by delete + insert after a unique-key collision. */
  readonly replaced: number;
  /** Other rows deleted because they held a unique value a repaired row needed. */
  readonly collidingDeleted: number;
  /** Keys already equal (or absent on both sides) at repair time: nothing written. */
  readonly unchanged: number;
  /** Keys still different after their repair (see {@link RepairLoop}); not counted as failures. */
  readonly loops: number;
  /** Statements sent to `onSql` (writes and audit inserts). */
  readonly sqlStatements: number;
}

/** What {@link repairKeys} did. */
export interface RepairKeysResult extends RepairCounts {
  /** The table. */
  readonly table: string;
  /** True for a dry run. */
  readonly dryRun: boolean;
  /** The repair loops found (empty in a dry run, which checks nothing again). */
  readonly repairLoops: readonly RepairLoop[];
}

const DEFAULT_BATCH_KEYS = 100;
const DEFAULT_LOOP_DELAY_MS = 200;
const DEFAULT_LOOP_ATTEMPTS = 2;
const LOCK_ATTEMPTS = 3;
const MAX_FOLLOW_UP_DEPTH = 3;
const ER_DUP_ENTRY = 1062;
const ER_DUP_ENTRY_WITH_KEY_NAME = 1586;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

/** Settings shared by every table of a run, checked. */
export interface Settings {
  readonly dryRun: boolean;
  readonly auditTable: string;
  readonly onSql: ((sql: string, values: readonly unknown[]) => void) | undefined;
  readonly batchKeys: number;
  readonly loopDelayMs: number;
  readonly loopAttempts: number;
}

export function checkSettings(options: RepairSettingsOptions, owner: string): Settings {
  const batchKeys = options.batchKeys ?? DEFAULT_BATCH_KEYS;
  if (!Number.isSafeInteger(batchKeys) || batchKeys < 1) throw new InvalidOptionError(`${owner} batchKeys`, batchKeys, 'a positive integer number of keys');
  const loopDelayMs = options.loopCheck?.delayMs ?? DEFAULT_LOOP_DELAY_MS;
  if (!Number.isFinite(loopDelayMs) || loopDelayMs < 0) throw new InvalidOptionError(`${owner} loopCheck.delayMs`, loopDelayMs, 'a number of milliseconds, 0 or more');
  const loopAttempts = options.loopCheck?.attempts ?? DEFAULT_LOOP_ATTEMPTS;
  if (!Number.isSafeInteger(loopAttempts) || loopAttempts < 0) throw new InvalidOptionError(`${owner} loopCheck.attempts`, loopAttempts, 'an integer, 0 or more');
  const auditTable = options.auditTable ?? DEFAULT_REPAIR_AUDIT_TABLE;
  auditTableSql(auditTable, 'x'); // checks the name
  if (options.onSql !== undefined && typeof options.onSql !== 'function') throw new InvalidOptionError(`${owner} onSql`, options.onSql, 'a function');
  return { dryRun: options.dryRun === true, auditTable, onSql: options.onSql, batchKeys, loopDelayMs, loopAttempts };
}

/** Two exact values are equal: same text, same bytes, or both NULL. */
function sameValue(a: ExactValue, b: ExactValue): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const bytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return bytes(a).equals(bytes(b));
}

function errno(error: unknown): number | undefined {
  const value = (error as { errno?: unknown } | null)?.errno;
  return typeof value === 'number' ? value : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
  /** Keys whose rows were written (re-checked for loops). */
  readonly changed: KeyTuple[];
  /** Keys of colliding rows deleted that were not in the batch (repaired next). */
  readonly followUps: KeyTuple[];
  readonly audit: RepairAuditEntry[];
}

/**
 * Repairs keys of one table between two pools (see the module notes); one instance per table and run, so the
 * metadata is read and the audit table created once.
 */
export class TableRepairer {
  readonly #auth: RepairPool;
  readonly #other: RepairPool;
  readonly #authTable: TableMetadata;
  readonly #otherTable: TableMetadata;
  readonly #settings: Settings;
  readonly #side: RepairSide | null;
  readonly #auditSql: string;
  readonly #columns: readonly ColumnMetadata[];
  readonly #keyColumns: readonly ColumnMetadata[];
  /** Position of each primary-key column in the rows read. */
  readonly #keyPositions: readonly number[];
  /** The other side's unique keys other than the primary key, with the positions of their columns in the rows. */
  readonly #uniqueKeys: readonly { readonly key: UniqueKey; readonly positions: readonly number[] }[];
  readonly #loops: RepairLoop[] = [];
  #counts = { keys: 0, inserted: 0, updated: 0, deleted: 0, replaced: 0, collidingDeleted: 0, unchanged: 0, sqlStatements: 0 };

  constructor(init: { auth: RepairPool; other: RepairPool; authTable: TableMetadata; otherTable: TableMetadata; settings: Settings; side: RepairSide | null; auditSql: string }) {
    this.#auth = init.auth;
    this.#other = init.other;
    this.#authTable = init.authTable;
    this.#otherTable = init.otherTable;
    this.#settings = init.settings;
    this.#side = init.side;
    this.#auditSql = init.auditSql;
    this.#columns = copyColumns(init.authTable);
    this.#keyColumns = primaryKeyColumns(init.authTable);
    const position = (name: string): number => this.#columns.findIndex((column) => column.name.toLowerCase() === name.toLowerCase());
    this.#keyPositions = this.#keyColumns.map((column) => position(column.name));
    this.#uniqueKeys = init.otherTable.uniqueKeys
      .filter((key) => !key.primary && !key.hasExpressionParts && key.columns.length > 0)
      .map((key) => ({ key, positions: key.columns.map(position) }))
      .filter((entry) => entry.positions.every((p) => p >= 0));
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
    if (!init.settings.dryRun) await init.other.query(repairAuditDdl(auditSql));
    return new TableRepairer({ ...init, authTable, otherTable, auditSql });
  }

  /** The table's name. */
  get table(): string {
    return this.#authTable.name;
  }

  /** Counts and loops so far. */
  result(): RepairKeysResult {
    return { table: this.table, dryRun: this.#settings.dryRun, ...this.#counts, loops: this.#loops.length, repairLoops: [...this.#loops] };
  }

  /** The loops found so far. */
  get loops(): readonly RepairLoop[] {
    return this.#loops;
  }

  /**
   * Turns key records into tuples in primary-key order.
   *
   * @throws {@link InvalidOptionError} when a key lacks a primary-key column
   */
  tuples(keys: readonly Readonly<Record<string, ExactValue>>[]): KeyTuple[] {
    const seen = new Set<string>();
    const out: KeyTuple[] = [];
    for (const record of keys) {
      const lower = new Map(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
      const tuple = this.#keyColumns.map((column) => {
        const value = Object.hasOwn(record, column.name) ? record[column.name] : lower.get(column.name.toLowerCase());
        if (value === undefined) throw new InvalidOptionError(`repair key of \`${this.table}\``, record, `a value for every primary-key column (${this.#keyColumns.map((c) => c.name).join(', ')})`);
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

  /** Repairs `keys`, batch by batch. */
  async repair(keys: readonly KeyTuple[], depth = 0): Promise<void> {
    for (let i = 0; i < keys.length; i += this.#settings.batchKeys) {
      const batch = keys.slice(i, i + this.#settings.batchKeys);
      const outcome = await this.#batchWithRetry(batch);
      this.#counts.keys += batch.length;
      for (const name of ['inserted', 'updated', 'deleted', 'replaced', 'collidingDeleted', 'unchanged', 'sqlStatements'] as const) this.#counts[name] += outcome[name];
      if (!this.#settings.dryRun && outcome.changed.length > 0) await this.#checkLoops(outcome.changed);
      // A dry run deleted nothing, so the colliding rows' keys would be planned from a state that a real run changes.
      if (!this.#settings.dryRun && outcome.followUps.length > 0 && depth < MAX_FOLLOW_UP_DEPTH) await this.repair(outcome.followUps, depth + 1);
    }
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

  /** One batch on two checked-out connections, in the sessions the module notes describe. */
  async #batch(keys: readonly KeyTuple[]): Promise<BatchOutcome> {
    return this.#withConnections((auth, other) =>
      withSessionTimeZone(auth, '+00:00', () =>
        withSessionTimeZone(other, '+00:00', () => withSessionVariable(other, 'foreign_key_checks', '0', () => this.#transactions(auth, other, keys))),
      ),
    );
  }

  async #withConnections<T>(work: (auth: VerifyConnection, other: VerifyConnection) => Promise<T>): Promise<T> {
    const auth = await this.#auth.getConnection();
    let other: VerifyConnection;
    try {
      other = await this.#other.getConnection();
    } catch (error) {
      auth.release();
      throw error;
    }
    try {
      return await work(auth, other);
    } finally {
      auth.release();
      other.release();
    }
  }

  async #transactions(auth: VerifyConnection, other: VerifyConnection, keys: readonly KeyTuple[]): Promise<BatchOutcome> {
    const dry = this.#settings.dryRun;
    const outcome: BatchOutcome = { inserted: 0, updated: 0, deleted: 0, replaced: 0, collidingDeleted: 0, unchanged: 0, sqlStatements: 0, changed: [], followUps: [], audit: [] };
    if (!dry) await auth.query({ sql: 'START TRANSACTION' });
    try {
      const after = await this.#readByKeys(auth, this.#authTable, keys, !dry);
      if (!dry) await other.query({ sql: 'START TRANSACTION' });
      try {
        const before = await this.#readByKeys(other, this.#otherTable, keys, !dry);
        const inBatch = new Set(keys.map((key) => encodeKeyJson(key)));
        for (const key of keys) {
          const id = encodeKeyJson(key);
          await this.#repairRow(other, key, before.get(id) ?? null, after.get(id) ?? null, outcome, (collided) => {
            const collidedId = encodeKeyJson(collided);
            if (inBatch.has(collidedId)) before.set(collidedId, null);
            else outcome.followUps.push(collided);
          });
        }
        if (outcome.audit.length > 0) await this.#run(other, repairAuditInsert(this.#auditSql, this.#otherTable.schema, this.#side, outcome.audit), outcome);
        if (!dry) await other.query({ sql: 'COMMIT' });
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

  /** Sends a statement that changes the other side (to `onSql`; to the server unless dry). */
  async #run(connection: ExactQueryable, statement: SqlFragment, outcome: { sqlStatements: number }): Promise<void> {
    this.#settings.onSql?.(statement.sql, statement.values);
    outcome.sqlStatements++;
    if (!this.#settings.dryRun) await connection.query({ sql: statement.sql, values: statement.values.length === 0 ? undefined : [...statement.values] });
  }

  /** `(a = … AND b = …)` for one key of `table`. */
  #keyPredicate(table: TableMetadata, key: KeyTuple): SqlFragment {
    const columns = primaryKeyColumns(table);
    const values: unknown[] = [];
    const terms = columns.map((column, i) => {
      const literal = keyValueSql(column, key[i] ?? null);
      values.push(...literal.values);
      return `${quoteIdentifier(column.name)} = ${literal.sql}`;
    });
    return { sql: `(${terms.join(' AND ')})`, values };
  }

  #keyOf(row: ExactRow): KeyTuple {
    return this.#keyPositions.map((position) => row[position] ?? null);
  }

  #image(row: ExactRow): Record<string, ExactValue> {
    return Object.fromEntries(this.#columns.map((column, i) => [column.name, row[i] ?? null]));
  }

  #record(key: KeyTuple): Record<string, ExactValue> {
    return Object.fromEntries(this.#keyColumns.map((column, i) => [column.name, key[i] ?? null]));
  }

  /**
   * The rows of `keys` on one side, by the exact JSON of the key asked for. The rows of a batch are read with one
   * statement; when a row comes back under a key text other than the one asked for (`'1.5'` for a DECIMAL key
   * stored as `1.50`, or another letter case under a case-insensitive collation), the keys are read one by one so
   * that every row is matched to the key that found it.
   */
  async #readByKeys(connection: ExactQueryable, table: TableMetadata, keys: readonly KeyTuple[], lock: boolean): Promise<Map<string, ExactRow | null>> {
    const tail = lock ? ' FOR UPDATE' : '';
    const predicates = keys.map((key) => this.#keyPredicate(table, key));
    const read = await readExactRows(connection, table, `WHERE ${predicates.map((p) => p.sql).join(' OR ')}${tail}`, predicates.flatMap((p) => p.values));
    const byKey = new Map<string, ExactRow | null>(keys.map((key) => [encodeKeyJson(key), null]));
    let matched = 0;
    for (const row of read.rows) {
      const id = encodeKeyJson(this.#keyOf(row));
      if (byKey.has(id)) {
        byKey.set(id, row);
        matched++;
      }
    }
    if (matched === read.rows.length) return byKey;
    for (const [i, key] of keys.entries()) {
      const predicate = predicates[i] as SqlFragment;
      const one = await readExactRows(connection, table, `WHERE ${predicate.sql}${tail}`, predicate.values);
      byKey.set(encodeKeyJson(key), one.rows[0] ?? null);
    }
    return byKey;
  }

  #sameRow(a: ExactRow, b: ExactRow): boolean {
    return a.length === b.length && a.every((value, i) => sameValue(value, b[i] ?? null));
  }

  /** Differing column names of two rows. */
  #differingColumns(a: ExactRow, b: ExactRow): string[] {
    return this.#columns.filter((_, i) => !sameValue(a[i] ?? null, b[i] ?? null)).map((column) => column.name);
  }

  #insert(row: ExactRow): SqlFragment {
    const names = this.#columns.map((column) => quoteIdentifier(column.name));
    return { sql: `INSERT INTO ${qualifiedTableName(this.#otherTable)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`, values: [...row] };
  }

  #update(row: ExactRow, key: KeyTuple): SqlFragment {
    const where = this.#keyPredicate(this.#otherTable, key);
    return {
      sql: `UPDATE ${qualifiedTableName(this.#otherTable)} SET ${this.#columns.map((column) => `${quoteIdentifier(column.name)} = ?`).join(', ')} WHERE ${where.sql}`,
      values: [...row, ...where.values],
    };
  }

  #delete(key: KeyTuple): SqlFragment {
    const where = this.#keyPredicate(this.#otherTable, key);
    return { sql: `DELETE FROM ${qualifiedTableName(this.#otherTable)} WHERE ${where.sql}`, values: where.values };
  }

  async #repairRow(
    connection: ExactQueryable,
    key: KeyTuple,
    before: ExactRow | null,
    after: ExactRow | null,
    outcome: BatchOutcome,
    onCollided: (key: KeyTuple) => void,
  ): Promise<void> {
    const record = this.#record(key);
    const entry = (action: RepairAuditEntry['action']): RepairAuditEntry => ({
      table: this.table,
      key: record,
      action,
      before: before === null ? null : this.#image(before),
      after: after === null ? null : this.#image(after),
    });
    if (after === null && before === null) {
      outcome.unchanged++;
      return;
    }
    if (after === null) {
      await this.#run(connection, this.#delete(key), outcome);
      outcome.deleted++;
      outcome.changed.push(key);
      outcome.audit.push(entry('delete'));
      return;
    }
    if (before !== null && this.#sameRow(before, after)) {
      outcome.unchanged++;
      return;
    }
    const write = before === null ? this.#insert(after) : this.#update(after, key);
    let colliding: ExactRow[] = [];
    if (this.#settings.dryRun) {
      colliding = await this.#colliding(connection, after, key, false);
      if (colliding.length === 0) await this.#run(connection, write, outcome);
    } else {
      try {
        await this.#run(connection, write, outcome);
      } catch (error) {
        const code = errno(error);
        if (code !== ER_DUP_ENTRY && code !== ER_DUP_ENTRY_WITH_KEY_NAME) throw error;
        colliding = await this.#colliding(connection, after, key, true);
        if (colliding.length === 0) throw error;
      }
    }
    if (colliding.length === 0) {
      if (before === null) outcome.inserted++;
      else outcome.updated++;
      outcome.changed.push(key);
      outcome.audit.push(entry(before === null ? 'insert' : 'update'));
      return;
    }
    for (const row of colliding) {
      const collidedKey = this.#keyOf(row);
      await this.#run(connection, this.#delete(collidedKey), outcome);
      outcome.collidingDeleted++;
      outcome.audit.push({ table: this.table, key: this.#record(collidedKey), action: 'delete_colliding', before: this.#image(row), after: null });
      onCollided(collidedKey);
    }
    if (before !== null) await this.#run(connection, this.#delete(key), outcome);
    await this.#run(connection, this.#insert(after), outcome);
    outcome.replaced++;
    outcome.changed.push(key);
    outcome.audit.push(entry('replace'));
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
        const column = this.#columns[position] as ColumnMetadata;
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
    return read.rows.filter((candidate) => encodeKeyJson(this.#keyOf(candidate)) !== own);
  }

  /** Re-reads repaired keys on both sides; reports (and audits) those still different after the re-checks. */
  async #checkLoops(keys: readonly KeyTuple[]): Promise<void> {
    let pending = keys;
    type Candidate = { key: KeyTuple; kind: DifferenceKind; columns?: string[]; authRow: ExactRow | null; otherRow: ExactRow | null };
    let differing: Candidate[] = [];
    for (let attempt = 0; ; attempt++) {
      differing = await this.#withConnections(async (auth, other) => {
        const [authRows, otherRows] = await Promise.all([this.#readByKeys(auth, this.#authTable, pending, false), this.#readByKeys(other, this.#otherTable, pending, false)]);
        return pending.flatMap((key): Candidate[] => {
          const id = encodeKeyJson(key);
          const authRow = authRows.get(id) ?? null;
          const otherRow = otherRows.get(id) ?? null;
          if (authRow === null && otherRow === null) return [];
          if (authRow === null) return [{ key, kind: 'extra' as const, authRow, otherRow }];
          if (otherRow === null) return [{ key, kind: 'missing' as const, authRow, otherRow }];
          const columns = this.#differingColumns(authRow, otherRow);
          return columns.length === 0 ? [] : [{ key, kind: 'different' as const, columns, authRow, otherRow }];
        });
      });
      if (differing.length === 0 || attempt >= this.#settings.loopAttempts) break;
      pending = differing.map((entry) => entry.key);
      await sleep(this.#settings.loopDelayMs);
    }
    if (differing.length === 0) return;
    const audit: RepairAuditEntry[] = [];
    for (const entry of differing) {
      const key = this.#record(entry.key);
      this.#loops.push({ table: this.table, key, kind: entry.kind, ...(entry.columns === undefined ? {} : { columns: entry.columns }) });
      audit.push({
        table: this.table,
        key,
        action: 'repair_loop',
        before: entry.otherRow === null ? null : this.#image(entry.otherRow),
        after: entry.authRow === null ? null : this.#image(entry.authRow),
      });
    }
    const insert = repairAuditInsert(this.#auditSql, this.#otherTable.schema, this.#side, audit);
    await this.#other.query(insert.sql, insert.values);
  }
}


/**
 * An INDEPENDENT row-by-row comparison of the SOURCE and TARGET databases.
 *
 * Tests of later features use it to check the library, so it uses no library
 * code: plain mysql2 queries, every value read as the exact bytes the server
 * sends in the text protocol (no number, date or JSON conversion can hide a
 * difference), session `time_zone = '+00:00'` on both sides so TIMESTAMP
 * values are printed alike. Rows are matched by primary key (else a NOT NULL
 * unique key, else all columns as a multiset), row counts are compared with
 * COUNT(*), and invisible columns are included.
 */
import { createConnection, type Connection, type FieldPacket, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';

/** A side to compare: a mysql2/promise pool or connection on the database, or a URL with the database in its path. */
export type CompareSide = string | Pool | Connection;

/** A row's key, column → display text. */
export type RowKey = Record<string, string>;

/** One column that differs in one row. */
export interface ValueDifference {
  column: string;
  /** Display text of the source value (`NULL`, `'text'`, or `0x…` for bytes that are not printable UTF-8). */
  source: string;
  /** Display text of the target value. */
  target: string;
}

/** A row present on both sides with different values. */
export interface RowDifference {
  key: RowKey;
  columns: ValueDifference[];
}

/** How one table compares. */
export interface TableComparison {
  table: string;
  existsOnSource: boolean;
  existsOnTarget: boolean;
  /** Columns rows are matched by. */
  keyColumns: string[];
  /** Where `keyColumns` came from. */
  keyKind: 'primary' | 'unique' | 'all-columns';
  /** COUNT(*) on each side (null when the table is missing there). */
  sourceCount: number | null;
  targetCount: number | null;
  columnsOnlyOnSource: string[];
  columnsOnlyOnTarget: string[];
  /** Other schema differences (primary key columns differ, …). */
  schemaDifferences: string[];
  /** Keys of rows on the source and not on the target. */
  missing: RowKey[];
  /** Keys of rows on the target and not on the source. */
  extra: RowKey[];
  /** Rows on both sides whose values differ. */
  different: RowDifference[];
  identical: boolean;
}

/** How the compared tables compare. */
export interface Comparison {
  identical: boolean;
  tables: TableComparison[];
}

type Bytes = Buffer | null;

interface SideTable {
  columns: string[];
  primaryKey: string[];
  uniqueNotNull: string[] | null;
  count: number;
  rows: Bytes[][];
}

interface Session {
  connection: Connection;
  database: string;
  close(): Promise<void>;
}

/**
 * Compares `table` (a name, a list, or every base table of either side when omitted)
 * between the two sides.
 */
export async function compareTables(source: CompareSide, target: CompareSide, table?: string | readonly string[]): Promise<Comparison> {
  const [src, tgt] = await Promise.all([openSession(source), openSession(target)]);
  try {
    const tables =
      table === undefined
        ? [...new Set([...(await listTables(src)), ...(await listTables(tgt))])].sort()
        : typeof table === 'string'
          ? [table]
          : [...table];
    const results: TableComparison[] = [];
    for (const name of tables) results.push(await compareTable(src, tgt, name));
    return { identical: results.every((result) => result.identical), tables: results };
  } finally {
    await Promise.allSettled([src.close(), tgt.close()]);
  }
}

/**
 * Throws an assertion error listing the first differences unless both sides hold
 * exactly the same rows in `tables` (default: every table).
 */
export async function expectSidesIdentical(source: CompareSide, target: CompareSide, tables?: string | readonly string[]): Promise<void> {
  const comparison = await compareTables(source, target, tables);
  if (comparison.identical) return;
  const error = new Error(`source and target differ:\n${formatComparison(comparison)}`);
  error.name = 'AssertionError';
  throw error;
}

/** Readable text of the differences (at most `maxLines` lines of detail). */
export function formatComparison(comparison: Comparison, maxLines = 25): string {
  const lines: string[] = [];
  let hidden = 0;
  const add = (line: string): void => {
    if (lines.length < maxLines) lines.push(line);
    else hidden++;
  };
  const keyText = (key: RowKey): string =>
    Object.entries(key)
      .map(([column, value]) => `${column}=${value}`)
      .join(', ');
  for (const t of comparison.tables) {
    if (t.identical) continue;
    lines.push(
      `table \`${t.table}\` (matched by ${t.keyKind} ${t.keyColumns.join(', ') || '-'}): source ${t.sourceCount ?? 'missing'} rows, target ${t.targetCount ?? 'missing'} rows`,
    );
    if (!t.existsOnSource) add('  table missing on source');
    if (!t.existsOnTarget) add('  table missing on target');
    if (t.columnsOnlyOnSource.length) add(`  columns only on source: ${t.columnsOnlyOnSource.join(', ')}`);
    if (t.columnsOnlyOnTarget.length) add(`  columns only on target: ${t.columnsOnlyOnTarget.join(', ')}`);
    for (const difference of t.schemaDifferences) add(`  ${difference}`);
    for (const key of t.missing) add(`  missing on target: ${keyText(key)}`);
    for (const key of t.extra) add(`  extra on target: ${keyText(key)}`);
    for (const row of t.different) {
      add(`  different at ${keyText(row.key)}: ${row.columns.map((c) => `${c.column} source ${c.source} ≠ target ${c.target}`).join('; ')}`);
    }
  }
  if (hidden) lines.push(`  … and ${hidden} more`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

async function openSession(side: CompareSide): Promise<Session> {
  let connection: Connection;
  let close: () => Promise<void>;
  if (typeof side === 'string') {
    const own = await createConnection({ uri: side });
    connection = own;
    close = () => own.end();
  } else if ('getConnection' in side && typeof side.getConnection === 'function') {
    const pooled: PoolConnection = await side.getConnection();
    connection = pooled;
    close = () => Promise.resolve(pooled.release());
  } else {
    connection = side;
    close = () => Promise.resolve();
  }
  try {
    const [rows] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS db, @@session.time_zone AS tz');
    const database = rows[0]?.db as string | null;
    const previousZone = rows[0]?.tz as string;
    if (!database) throw new Error('compareTables: the connection has no current database; give a pool/URL with the database in it');
    await connection.query("SET time_zone = '+00:00'");
    const finish = close;
    return {
      connection,
      database,
      close: async () => {
        await connection.query('SET time_zone = ?', [previousZone]).catch(() => undefined);
        await finish();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listTables(session: Session): Promise<string[]> {
  const [rows] = await session.connection.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
    [session.database],
  );
  return rows.map((row) => String(row.name));
}

const quote = (identifier: string): string => `\`${identifier.replaceAll('`', '``')}\``;

async function readSide(session: Session, table: string): Promise<SideTable | null> {
  const { connection, database } = session;
  const [columnRows] = await connection.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [database, table],
  );
  if (columnRows.length === 0) return null;
  const columns = columnRows.map((row) => String(row.name));
  const notNull = new Set(columnRows.filter((row) => row.nullable === 'NO').map((row) => String(row.name)));
  const [indexRows] = await connection.query<RowDataPacket[]>(
    'SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [database, table],
  );
  const indexes = new Map<string, string[]>();
  for (const row of indexRows) {
    const list = indexes.get(String(row.idx)) ?? [];
    list.push(String(row.col));
    indexes.set(String(row.idx), list);
  }
  const primaryKey = indexes.get('PRIMARY') ?? [];
  const uniqueNotNull = [...indexes.entries()].find(([name, cols]) => name !== 'PRIMARY' && cols.every((col) => notNull.has(col)))?.[1] ?? null;
  const order = primaryKey.length ? primaryKey : (uniqueNotNull ?? columns);
  const from = `${quote(database)}.${quote(table)}`;
  const [countRows] = await connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${from}`);
  const [rows] = (await connection.query({
    sql: `SELECT ${columns.map(quote).join(', ')} FROM ${from} ORDER BY ${order.map(quote).join(', ')}`,
    rowsAsArray: true,
    // Exact bytes of the text protocol: nothing is parsed, so nothing is rounded or shifted.
    typeCast: (field) => field.buffer(),
  })) as [Bytes[][], FieldPacket[]];
  return { columns, primaryKey, uniqueNotNull, count: Number(countRows[0]?.n), rows };
}

function display(value: Bytes): string {
  if (value === null) return 'NULL';
  const text = value.toString('utf8');
  // eslint-disable-next-line no-control-regex -- control characters make a value "binary" for display
  if (Buffer.from(text, 'utf8').equals(value) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return `'${text}'`;
  return `0x${value.toString('hex')}`;
}

function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

async function compareTable(src: Session, tgt: Session, table: string): Promise<TableComparison> {
  const [s, t] = await Promise.all([readSide(src, table), readSide(tgt, table)]);
  const result: TableComparison = {
    table,
    existsOnSource: s !== null,
    existsOnTarget: t !== null,
    keyColumns: [],
    keyKind: 'all-columns',
    sourceCount: s?.count ?? null,
    targetCount: t?.count ?? null,
    columnsOnlyOnSource: [],
    columnsOnlyOnTarget: [],
    schemaDifferences: [],
    missing: [],
    extra: [],
    different: [],
    identical: false,
  };
  const reference = s ?? t;
  if (reference === null) {
    result.schemaDifferences.push('table missing on both sides');
    return result;
  }
  if (s && t) {
    result.columnsOnlyOnSource = s.columns.filter((column) => !t.columns.includes(column));
    result.columnsOnlyOnTarget = t.columns.filter((column) => !s.columns.includes(column));
    if (s.primaryKey.join(',') !== t.primaryKey.join(',')) {
      result.schemaDifferences.push(`primary key differs: source (${s.primaryKey.join(', ')}) target (${t.primaryKey.join(', ')})`);
    }
  }
  const commonColumns = reference.columns.filter((column) => (s?.columns.includes(column) ?? true) && (t?.columns.includes(column) ?? true));
  if (reference.primaryKey.length && reference.primaryKey.every((column) => commonColumns.includes(column))) {
    result.keyKind = 'primary';
    result.keyColumns = [...reference.primaryKey];
  } else if (reference.uniqueNotNull && reference.uniqueNotNull.every((column) => commonColumns.includes(column))) {
    result.keyKind = 'unique';
    result.keyColumns = [...reference.uniqueNotNull];
  } else {
    result.keyKind = 'all-columns';
    result.keyColumns = [...commonColumns];
  }

  const keyed = (side: SideTable | null): Map<string, { key: RowKey; values: Map<string, Bytes> }[]> => {
    const map = new Map<string, { key: RowKey; values: Map<string, Bytes> }[]>();
    if (!side) return map;
    const positions = new Map(side.columns.map((column, index) => [column, index]));
    for (const row of side.rows) {
      const values = new Map(side.columns.map((column, index) => [column, row[index] ?? null]));
      const keyBytes = result.keyColumns.map((column) => values.get(column) ?? null);
      const id = JSON.stringify(keyBytes.map((value) => (value === null ? null : value.toString('hex'))));
      const key = Object.fromEntries(result.keyColumns.map((column) => [column, display(row[positions.get(column) ?? -1] ?? null)]));
      const list = map.get(id) ?? [];
      list.push({ key, values });
      map.set(id, list);
    }
    return map;
  };
  const sourceRows = keyed(s);
  const targetRows = keyed(t);
  for (const [id, sourceList] of sourceRows) {
    const targetList = targetRows.get(id) ?? [];
    const pairs = Math.min(sourceList.length, targetList.length);
    for (let i = 0; i < pairs; i++) {
      const a = sourceList[i];
      const b = targetList[i];
      if (!a || !b) continue;
      const columns: ValueDifference[] = [];
      for (const column of commonColumns) {
        const x = a.values.get(column) ?? null;
        const y = b.values.get(column) ?? null;
        if (!sameBytes(x, y)) columns.push({ column, source: display(x), target: display(y) });
      }
      if (columns.length) result.different.push({ key: a.key, columns });
    }
    for (const row of sourceList.slice(pairs)) result.missing.push(row.key);
    for (const row of targetList.slice(pairs)) result.extra.push(row.key);
  }
  for (const [id, targetList] of targetRows) {
    if (!sourceRows.has(id)) for (const row of targetList) result.extra.push(row.key);
  }
  result.identical =
    result.existsOnSource &&
    result.existsOnTarget &&
    result.sourceCount === result.targetCount &&
    result.columnsOnlyOnSource.length === 0 &&
    result.columnsOnlyOnTarget.length === 0 &&
    result.schemaDifferences.length === 0 &&
    result.missing.length === 0 &&
    result.extra.length === 0 &&
    result.different.length === 0;
  return result;
}

/**
 * Reads one table's metadata from information_schema: COLUMNS (joined with
 * TABLES for the table type and engine) and STATISTICS, sent together.
 *
 * @module
 */
import { MetadataLoadError, TableNotFoundError } from '../errors.js';
import { nameKey, namesAreCaseInsensitive } from './names.js';
import { numberOrNull, readRows, text, textOrEmpty, type MetadataRow } from './rows.js';
import type { ColumnDefault, ColumnMetadata, GeneratedKind, MetadataQueryable, ServerSettings, TableMetadata, UniqueKey } from './types.js';

/** The server settings {@link loadTable} needs: how to read COLUMN_DEFAULT, and how names compare. */
export type TableLoadSettings = Pick<ServerSettings, 'flavor' | 'lowerCaseTableNames'>;

// The TABLES join repeats the constants so both information_schema tables are
// opened by name instead of scanned (MariaDB: "Scanned 0 databases").
const COLUMNS_SQL = `SELECT
  c.TABLE_SCHEMA AS table_schema,
  c.TABLE_NAME AS table_name,
  t.TABLE_TYPE AS table_type,
  t.ENGINE AS engine,
  c.COLUMN_NAME AS column_name,
  c.ORDINAL_POSITION AS ordinal_position,
  c.COLUMN_DEFAULT AS column_default,
  c.IS_NULLABLE AS is_nullable,
  c.DATA_TYPE AS data_type,
  c.COLUMN_TYPE AS column_type,
  c.DATETIME_PRECISION AS datetime_precision,
  c.CHARACTER_SET_NAME AS character_set_name,
  c.COLLATION_NAME AS collation_name,
  c.EXTRA AS extra,
  c.GENERATION_EXPRESSION AS generation_expression
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?
WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ?
ORDER BY c.ORDINAL_POSITION`;

const STATISTICS_SQL = `SELECT
  TABLE_SCHEMA AS table_schema,
  TABLE_NAME AS table_name,
  INDEX_NAME AS index_name,
  NON_UNIQUE AS non_unique,
  SEQ_IN_INDEX AS seq_in_index,
  COLUMN_NAME AS column_name,
  SUB_PART AS sub_part
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
ORDER BY INDEX_NAME, SEQ_IN_INDEX`;

const CURRENT_TIMESTAMP = /^(?:current_timestamp|now|localtime|localtimestamp)\s*(?:\(\s*\d*\s*\))?$/i;
const ON_UPDATE_CURRENT_TIMESTAMP = /\bon\s+update\s+(?:current_timestamp|now|localtime|localtimestamp)\b/i;
const NUMBER_LITERAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const BIT_OR_HEX_LITERAL = /^(?:b'[01]*'|x'[0-9a-f]*'|0x[0-9a-f]+|0b[01]+)$/i;

/**
 * Reads the metadata of `schema`.`table` in two queries sent at once (one round trip on a pool).
 *
 * @param queryable - a pool or connection on the server to read (see {@link MetadataQueryable})
 * @param schema - database name
 * @param table - table (or view) name
 * @param settings - `flavor` (how COLUMN_DEFAULT is reported) and `lowerCaseTableNames` (how names compare)
 * @throws TableNotFoundError when information_schema does not list the table
 * @throws MetadataLoadError when a query fails (the database error is its `cause`)
 */
export async function loadTable(queryable: MetadataQueryable, schema: string, table: string, settings: TableLoadSettings): Promise<TableMetadata> {
  let columnRows: MetadataRow[];
  let keyRows: MetadataRow[];
  try {
    const [columnsResult, keysResult] = await Promise.all([
      queryable.query(COLUMNS_SQL, [schema, table, schema, table]),
      queryable.query(STATISTICS_SQL, [schema, table]),
    ]);
    columnRows = readRows(columnsResult);
    keyRows = readRows(keysResult);
  } catch (error) {
    throw new MetadataLoadError(`the columns and keys of \`${schema}\`.\`${table}\` from information_schema`, { cause: error });
  }

  // information_schema may compare names case-insensitively even where the server does not
  // (lower_case_table_names = 0): keep only rows of exactly this table.
  const caseInsensitive = namesAreCaseInsensitive(settings.lowerCaseTableNames);
  const wantSchema = nameKey(schema, caseInsensitive);
  const wantTable = nameKey(table, caseInsensitive);
  const isThisTable = (row: MetadataRow): boolean =>
    nameKey(textOrEmpty(row.table_schema), caseInsensitive) === wantSchema && nameKey(textOrEmpty(row.table_name), caseInsensitive) === wantTable;
  columnRows = columnRows.filter(isThisTable);
  keyRows = keyRows.filter(isThisTable);

  const first = columnRows[0];
  if (first === undefined) throw new TableNotFoundError(schema, table);

  const columns = columnRows.map((row) => readColumn(row, settings.flavor));
  const columnsByName = new Map(columns.map((column) => [column.name.toLowerCase(), column]));
  const uniqueKeys = readUniqueKeys(keyRows, columnsByName);
  const primary = uniqueKeys.find((key) => key.primary);
  const namesWhere = (test: (column: ColumnMetadata) => boolean): readonly string[] => Object.freeze(columns.filter(test).map((column) => column.name));

  return Object.freeze({
    schema: textOrEmpty(first.table_schema),
    name: textOrEmpty(first.table_name),
    tableType: textOrEmpty(first.table_type),
    engine: text(first.engine),
    columns: Object.freeze(columns),
    columnsByName,
    primaryKey: primary ? primary.columns : Object.freeze([]),
    autoIncrementColumn: columns.find((column) => column.autoIncrement)?.name ?? null,
    uniqueKeys: Object.freeze(uniqueKeys),
    currentTimestampDefaults: namesWhere((column) => column.defaultCurrentTimestamp),
    onUpdateCurrentTimestamp: namesWhere((column) => column.onUpdateCurrentTimestamp),
    generatedColumns: namesWhere((column) => column.generated !== null),
    loadedAt: Date.now(),
  });
}

function readColumn(row: MetadataRow, flavor: ServerSettings['flavor']): ColumnMetadata {
  const extra = textOrEmpty(row.extra);
  const dataType = textOrEmpty(row.data_type).toLowerCase();
  const nullable = textOrEmpty(row.is_nullable).toUpperCase() === 'YES';
  const generated = generatedKind(extra);
  const columnDefault = text(row.column_default);
  const classified = generated
    ? ({ kind: 'none' } as const)
    : flavor === 'mariadb'
      ? classifyMariadbDefault(columnDefault)
      : classifyMysqlDefault(columnDefault, extra, nullable, dataType);
  const generationExpression = text(row.generation_expression);
  return Object.freeze({
    name: textOrEmpty(row.column_name),
    ordinalPosition: numberOrNull(row.ordinal_position) ?? 0,
    dataType,
    columnType: textOrEmpty(row.column_type),
    nullable,
    columnDefault,
    default: Object.freeze(classified),
    autoIncrement: /\bauto_increment\b/i.test(extra),
    defaultCurrentTimestamp: classified.kind === 'expression' && CURRENT_TIMESTAMP.test(classified.expression),
    onUpdateCurrentTimestamp: ON_UPDATE_CURRENT_TIMESTAMP.test(extra),
    datetimePrecision: numberOrNull(row.datetime_precision),
    generated,
    // MySQL reports '' for ordinary columns.
    generationExpression: generated && generationExpression ? generationExpression : null,
    invisible: /\bINVISIBLE\b/i.test(extra),
    characterSet: text(row.character_set_name),
    collation: text(row.collation_name),
    extra,
  });
}

/** VIRTUAL GENERATED / STORED GENERATED (both flavors), PERSISTENT (older MariaDB). */
function generatedKind(extra: string): GeneratedKind | null {
  const match = /\b(VIRTUAL|STORED|PERSISTENT)\b(?:\s+GENERATED\b)?/i.exec(extra);
  if (!match) return null;
  return match[1]?.toUpperCase() === 'VIRTUAL' ? 'virtual' : 'stored';
}

/**
 * MariaDB ≥ 10.2.7: no default → SQL NULL; DEFAULT NULL → the text `NULL`; string literals
 * quoted and escaped; numbers and bit/hex literals bare; anything else is an expression.
 */
function classifyMariadbDefault(raw: string | null): ColumnDefault {
  if (raw === null) return { kind: 'none' };
  if (raw === 'NULL') return { kind: 'null' };
  if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) return { kind: 'literal', value: unquoteSqlString(raw) };
  if (NUMBER_LITERAL.test(raw) || BIT_OR_HEX_LITERAL.test(raw)) return { kind: 'literal', value: raw };
  return { kind: 'expression', expression: raw };
}

/**
 * MySQL: literals bare; expression defaults flagged DEFAULT_GENERATED in EXTRA (8.0.13+);
 * MySQL 5.7 reports CURRENT_TIMESTAMP bare on temporal columns; NULL means no default,
 * which for a nullable column is DEFAULT NULL.
 */
function classifyMysqlDefault(raw: string | null, extra: string, nullable: boolean, dataType: string): ColumnDefault {
  if (raw === null) return nullable ? { kind: 'null' } : { kind: 'none' };
  if (/\bDEFAULT_GENERATED\b/i.test(extra)) return { kind: 'expression', expression: raw };
  if ((dataType === 'timestamp' || dataType === 'datetime') && CURRENT_TIMESTAMP.test(raw)) return { kind: 'expression', expression: raw };
  return { kind: 'literal', value: raw };
}

const ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' });

/** `'it''s \\ x'` → `it's \ x` (MySQL string literal rules; `\%` and `\_` keep their backslash). */
export function unquoteSqlString(quoted: string): string {
  const body = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? '';
    const next = body[i + 1];
    if (ch === "'" && next === "'") {
      out += "'";
      i++;
    } else if (ch === '\\' && next !== undefined) {
      out += next === '%' || next === '_' ? `\\${next}` : (ESCAPES[next] ?? next);
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

function readUniqueKeys(rows: readonly MetadataRow[], columnsByName: ReadonlyMap<string, ColumnMetadata>): UniqueKey[] {
  const byName = new Map<string, { seq: number; column: string | null; subPart: number | null }[]>();
  for (const row of rows) {
    const name = textOrEmpty(row.index_name);
    let parts = byName.get(name);
    if (!parts) byName.set(name, (parts = []));
    parts.push({ seq: numberOrNull(row.seq_in_index) ?? 0, column: text(row.column_name), subPart: numberOrNull(row.sub_part) });
  }
  const keys: UniqueKey[] = [];
  for (const [name, parts] of byName) {
    parts.sort((a, b) => a.seq - b.seq);
    const named = parts.filter((part): part is { seq: number; column: string; subPart: number | null } => part.column !== null);
    keys.push(
      Object.freeze({
        name,
        primary: name === 'PRIMARY',
        columns: Object.freeze(named.map((part) => part.column)),
        prefixLengths: Object.freeze(named.map((part) => part.subPart)),
        nullable: named.some((part) => columnsByName.get(part.column.toLowerCase())?.nullable ?? false),
        hasExpressionParts: named.length !== parts.length,
      }),
    );
  }
  keys.sort((a, b) => (a.primary !== b.primary ? (a.primary ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return keys;
}

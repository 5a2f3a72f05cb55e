import { createPool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataLoadError, TableNotFoundError } from '../../src/errors.js';
import { loadServerSettings, loadTable, unquoteSqlString, type MetadataQueryable, type ServerSettings } from '../../src/schema/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let settings: ServerSettings;

beforeAll(async () => {
  db = await createTestDatabases('schema_load');
  settings = await loadServerSettings(db.source);
  await db.source.query(`CREATE TABLE order_lines (
    region CHAR(2) NOT NULL,
    line_no INT NOT NULL,
    order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku VARCHAR(32) NULL,
    warehouse INT NULL,
    email VARCHAR(100) NOT NULL,
    note TEXT NULL,
    PRIMARY KEY (line_no, region),
    UNIQUE KEY uk_order (order_no),
    UNIQUE KEY uk_sku_wh (sku, warehouse),
    UNIQUE KEY uk_email (email(20)),
    KEY k_note (note(10))
  )`);
  await db.source.query(`CREATE TABLE times (
    id INT PRIMARY KEY,
    created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    created6 DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    touched6 DATETIME(6) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(6),
    by_now DATETIME(3) DEFAULT NOW(3),
    plain DATETIME NULL
  )`);
  await db.source.query(`CREATE TABLE gen (
    id INT PRIMARY KEY,
    price DECIMAL(10,2) NOT NULL,
    qty INT NOT NULL DEFAULT 1,
    total DECIMAL(12,2) AS (price * qty) VIRTUAL,
    total_stored DECIMAL(12,2) AS (price * qty) STORED,
    total_persistent DECIMAL(12,2) AS (price * qty) PERSISTENT
  )`);
  await db.source.query(`CREATE TABLE defaults (
    id INT PRIMARY KEY,
    s VARCHAR(20) NOT NULL DEFAULT 'it''s \\\\ x',
    s_null VARCHAR(10) DEFAULT 'NULL',
    n INT DEFAULT -5,
    d DOUBLE DEFAULT 1.5e3,
    explicit_null INT DEFAULT NULL,
    implicit_null INT,
    no_default INT NOT NULL,
    bits BIT(3) DEFAULT b'101',
    u CHAR(36) DEFAULT (UUID()),
    hidden INT INVISIBLE DEFAULT 3
  )`);
  await db.source.query('CREATE TABLE nopk (a INT, b INT)');
  await db.source.query('CREATE VIEW v_gen AS SELECT id, total FROM gen');
});

afterAll(async () => {
  await db?.drop();
});

describe('loadTable', () => {
  it('reads the composite primary key in key order, not table order', async () => {
    const meta = await loadTable(db.source, db.name, 'order_lines', settings);
    expect(meta.schema).toBe(db.name);
    expect(meta.name).toBe('order_lines');
    expect(meta.tableType).toBe('BASE TABLE');
    expect(meta.engine).toBe('InnoDB');
    expect(meta.primaryKey).toEqual(['line_no', 'region']);
    expect(meta.columns.map((c) => c.name)).toEqual(['region', 'line_no', 'order_no', 'sku', 'warehouse', 'email', 'note']);
    expect(meta.columns.map((c) => c.ordinalPosition)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('finds the auto-increment column whatever its name', async () => {
    const meta = await loadTable(db.source, db.name, 'order_lines', settings);
    expect(meta.autoIncrementColumn).toBe('order_no');
    const orderNo = meta.columnsByName.get('order_no');
    expect(orderNo).toMatchObject({ autoIncrement: true, dataType: 'bigint', nullable: false });
    expect(orderNo?.columnType).toMatch(/^bigint(\(20\))? unsigned$/);
    expect(meta.columnsByName.get('ORDER_NO'.toLowerCase())).toBe(orderNo);
  });

  it('lists unique keys, primary first, with column order, nullability and prefixes', async () => {
    const meta = await loadTable(db.source, db.name, 'order_lines', settings);
    expect(meta.uniqueKeys).toEqual([
      { name: 'PRIMARY', primary: true, columns: ['line_no', 'region'], prefixLengths: [null, null], nullable: false, hasExpressionParts: false },
      { name: 'uk_email', primary: false, columns: ['email'], prefixLengths: [20], nullable: false, hasExpressionParts: false },
      { name: 'uk_order', primary: false, columns: ['order_no'], prefixLengths: [null], nullable: false, hasExpressionParts: false },
      { name: 'uk_sku_wh', primary: false, columns: ['sku', 'warehouse'], prefixLengths: [null, null], nullable: true, hasExpressionParts: false },
    ]);
  });

  it('reads text columns with their character set and collation', async () => {
    const meta = await loadTable(db.source, db.name, 'order_lines', settings);
    expect(meta.columnsByName.get('email')).toMatchObject({ characterSet: 'utf8mb4', dataType: 'varchar', columnType: 'varchar(100)' });
    expect(meta.columnsByName.get('email')?.collation).toMatch(/^utf8mb4_/);
    expect(meta.columnsByName.get('line_no')).toMatchObject({ characterSet: null, collation: null });
  });

  it('recognizes DEFAULT CURRENT_TIMESTAMP and ON UPDATE CURRENT_TIMESTAMP in every precision', async () => {
    const meta = await loadTable(db.source, db.name, 'times', settings);
    expect(meta.currentTimestampDefaults).toEqual(['created', 'updated', 'created6', 'by_now']);
    expect(meta.onUpdateCurrentTimestamp).toEqual(['updated', 'touched6']);
    const col = (name: string) => meta.columnsByName.get(name);
    expect(col('created')).toMatchObject({ defaultCurrentTimestamp: true, onUpdateCurrentTimestamp: false, datetimePrecision: 0 });
    expect(col('created6')).toMatchObject({ defaultCurrentTimestamp: true, datetimePrecision: 6 });
    expect(col('created6')?.default).toEqual({ kind: 'expression', expression: expect.stringMatching(/^current_timestamp\(6\)$/i) as unknown });
    expect(col('touched6')).toMatchObject({ defaultCurrentTimestamp: false, onUpdateCurrentTimestamp: true, default: { kind: 'null' } });
    expect(col('by_now')).toMatchObject({ defaultCurrentTimestamp: true, datetimePrecision: 3 });
    expect(col('plain')).toMatchObject({ defaultCurrentTimestamp: false, onUpdateCurrentTimestamp: false, default: { kind: 'null' } });
  });

  it('marks generated columns (VIRTUAL, STORED, PERSISTENT) so replay never writes them', async () => {
    const meta = await loadTable(db.source, db.name, 'gen', settings);
    expect(meta.generatedColumns).toEqual(['total', 'total_stored', 'total_persistent']);
    expect(meta.columnsByName.get('total')).toMatchObject({ generated: 'virtual', default: { kind: 'none' } });
    expect(meta.columnsByName.get('total')?.generationExpression).toMatch(/price.*\*.*qty/);
    expect(meta.columnsByName.get('total_stored')?.generated).toBe('stored');
    expect(meta.columnsByName.get('total_persistent')?.generated).toBe('stored');
    expect(meta.columnsByName.get('qty')).toMatchObject({ generated: null, generationExpression: null, default: { kind: 'literal', value: '1' } });
  });

  it('classifies defaults: literals unquoted, NULL, none, expressions', async () => {
    const meta = await loadTable(db.source, db.name, 'defaults', settings);
    const col = (name: string) => meta.columnsByName.get(name);
    expect(col('s')?.default).toEqual({ kind: 'literal', value: "it's \\ x" });
    expect(col('s_null')?.default).toEqual({ kind: 'literal', value: 'NULL' });
    expect(col('n')?.default).toEqual({ kind: 'literal', value: '-5' });
    expect(col('d')?.default.kind).toBe('literal');
    expect(col('explicit_null')?.default).toEqual({ kind: 'null' });
    expect(col('implicit_null')?.default).toEqual({ kind: 'null' });
    expect(col('no_default')?.default).toEqual({ kind: 'none' });
    expect(col('bits')?.default).toEqual({ kind: 'literal', value: "b'101'" });
    expect(col('u')?.default).toEqual({ kind: 'expression', expression: expect.stringMatching(/^uuid\(\)$/i) as unknown });
    expect(col('u')?.defaultCurrentTimestamp).toBe(false);
    expect(col('hidden')).toMatchObject({ invisible: true, default: { kind: 'literal', value: '3' } });
  });

  it('returns an empty primary key for a table without one (not an error)', async () => {
    const meta = await loadTable(db.source, db.name, 'nopk', settings);
    expect(meta.primaryKey).toEqual([]);
    expect(meta.uniqueKeys).toEqual([]);
    expect(meta.autoIncrementColumn).toBeNull();
  });

  it('reads a view as a table of type VIEW', async () => {
    const meta = await loadTable(db.source, db.name, 'v_gen', settings);
    expect(meta.tableType).toBe('VIEW');
    expect(meta.engine).toBeNull();
    expect(meta.columns.map((c) => c.name)).toEqual(['id', 'total']);
  });

  it('throws TableNotFoundError for a missing table', async () => {
    const error: unknown = await loadTable(db.source, db.name, 'no_such_table', settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TableNotFoundError);
    expect(error).toMatchObject({ code: 'ER_DUALWRITE_TABLE_NOT_FOUND', schema: db.name, table: 'no_such_table', name: 'TableNotFoundError' });
    expect((error as Error).message).toContain(`\`${db.name}\`.\`no_such_table\``);
  });

  it('keeps case-sensitive names apart when lower_case_table_names = 0', async () => {
    if (settings.lowerCaseTableNames !== 0) return;
    await db.source.query('CREATE TABLE Mixed (id INT PRIMARY KEY, upper_only INT)');
    await db.source.query('CREATE TABLE mixed (id INT PRIMARY KEY)');
    const upper = await loadTable(db.source, db.name, 'Mixed', settings);
    const lower = await loadTable(db.source, db.name, 'mixed', settings);
    expect(upper.name).toBe('Mixed');
    expect(upper.columns.map((c) => c.name)).toEqual(['id', 'upper_only']);
    expect(lower.columns.map((c) => c.name)).toEqual(['id']);
    await expect(loadTable(db.source, db.name, 'MIXED', settings)).rejects.toBeInstanceOf(TableNotFoundError);
  });

  it('works with a client that returns rows as arrays', async () => {
    const pool = createPool({ uri: db.sourceUrl, rowsAsArray: true, connectionLimit: 2 });
    try {
      const meta = await loadTable(pool, db.name, 'order_lines', settings);
      expect(meta.primaryKey).toEqual(['line_no', 'region']);
      expect(meta.autoIncrementColumn).toBe('order_no');
      expect((await loadServerSettings(pool)).flavor).toBe(settings.flavor);
    } finally {
      await pool.end();
    }
  });

  it('wraps a database error in MetadataLoadError with the cause', async () => {
    const broken: MetadataQueryable = { query: () => Promise.reject(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' })) };
    const error: unknown = await loadTable(broken, db.name, 'order_lines', settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataLoadError);
    expect(error).toMatchObject({ code: 'ER_DUALWRITE_METADATA_LOAD_FAILED', cause: { code: 'PROTOCOL_CONNECTION_LOST' } });
    expect((error as Error).message).toContain('Connection lost');
  });

  it('returns frozen metadata', async () => {
    const meta = await loadTable(db.source, db.name, 'order_lines', settings);
    expect(Object.isFrozen(meta)).toBe(true);
    expect(Object.isFrozen(meta.columns)).toBe(true);
    expect(Object.isFrozen(meta.columns[0])).toBe(true);
    expect(Object.isFrozen(meta.uniqueKeys[0]?.columns)).toBe(true);
  });
});

describe('unquoteSqlString', () => {
  it('undoes doubled quotes and backslash escapes', () => {
    expect(unquoteSqlString("'it''s'")).toBe("it's");
    expect(unquoteSqlString("'a\\\\b'")).toBe('a\\b');
    expect(unquoteSqlString("'ab\\0\\0'")).toBe('ab\0\0');
    expect(unquoteSqlString("'line\\nbreak'")).toBe('line\nbreak');
    expect(unquoteSqlString("'100\\%'")).toBe('100\\%');
    expect(unquoteSqlString("''")).toBe('');
  });
});

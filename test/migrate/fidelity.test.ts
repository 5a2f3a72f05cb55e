/**
 * The every-type fidelity table of "Lossless by construction" (issue 4): one column of
 * every MySQL/MariaDB type, a few hundred rows on the SOURCE (extremes, random values,
 * random DOUBLE/FLOAT bit patterns, zero dates, a row that is all NULL), copied to the
 * TARGET with readExactRows + insertIgnoreRows, then proved byte-identical by the servers
 * themselves: per-row SHA2 over every column (exact text, HEX for strings and bytes, an
 * explicit NULL marker) computed by each server in primary-key order, plus COUNT(*).
 *
 * Sessions: the SOURCE reads in '-08:00' and the TARGET writes in '+05:30', so a TIMESTAMP
 * moved as session-local text would shift. Both sides use sql_mode 'STRICT_ALL_TABLES' for
 * this table: strict (a changed value is an error) but without NO_ZERO_DATE /
 * NO_ZERO_IN_DATE, so zero dates can be stored on both sides.
 */
import type { PoolConnection, QueryOptions, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExactQueryable } from '../../src/migrate/codec.js';
import { CopyChangedValueError } from '../../src/errors.js';
import { insertIgnoreRows, readExactRows } from '../../src/migrate/copy.js';
import { loadServerSettings, loadTable, type TableMetadata } from '../../src/schema/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded as generator } from '../support/random.js';

/** How the oracle renders a column as exact text: itself, HEX, Unix time, or FLOAT widened to DOUBLE. */
type HashKind = 'text' | 'hex' | 'unix' | 'float';

const COLUMNS: readonly { name: string; ddl: string; hash: HashKind }[] = [
  { name: 'ti', ddl: 'TINYINT', hash: 'text' },
  { name: 'tiu', ddl: 'TINYINT UNSIGNED', hash: 'text' },
  { name: 'si', ddl: 'SMALLINT', hash: 'text' },
  { name: 'siu', ddl: 'SMALLINT UNSIGNED', hash: 'text' },
  { name: 'mi', ddl: 'MEDIUMINT', hash: 'text' },
  { name: 'miu', ddl: 'MEDIUMINT UNSIGNED', hash: 'text' },
  { name: 'i', ddl: 'INT', hash: 'text' },
  { name: 'iu', ddl: 'INT UNSIGNED', hash: 'text' },
  { name: 'bi', ddl: 'BIGINT', hash: 'text' },
  { name: 'biu', ddl: 'BIGINT UNSIGNED', hash: 'text' },
  { name: 'dec', ddl: 'DECIMAL(65,30)', hash: 'text' },
  { name: 'f', ddl: 'FLOAT', hash: 'float' },
  { name: 'd', ddl: 'DOUBLE', hash: 'text' },
  { name: 'b1', ddl: 'BIT(1)', hash: 'hex' },
  { name: 'b64', ddl: 'BIT(64)', hash: 'hex' },
  { name: 'dt', ddl: 'DATE', hash: 'text' },
  { name: 'dtm', ddl: 'DATETIME(6)', hash: 'text' },
  { name: 'ts', ddl: 'TIMESTAMP(6) NULL DEFAULT NULL', hash: 'unix' },
  { name: 'tm', ddl: 'TIME(6)', hash: 'text' },
  { name: 'yr', ddl: 'YEAR', hash: 'text' },
  { name: 'ch', ddl: 'CHAR(20) CHARACTER SET utf8mb4', hash: 'hex' },
  { name: 'vc', ddl: 'VARCHAR(300) CHARACTER SET utf8mb4', hash: 'hex' },
  { name: 'tx', ddl: 'TEXT CHARACTER SET utf8mb4', hash: 'hex' },
  { name: 'l1', ddl: 'VARCHAR(300) CHARACTER SET latin1', hash: 'hex' },
  { name: 'bn', ddl: 'BINARY(16)', hash: 'hex' },
  { name: 'vb', ddl: 'VARBINARY(300)', hash: 'hex' },
  { name: 'bl', ddl: 'BLOB', hash: 'hex' },
  { name: 'en', ddl: "ENUM('a','b','ç','😀')", hash: 'hex' },
  { name: 'st', ddl: "SET('x','y','z','😀')", hash: 'hex' },
  { name: 'js', ddl: 'JSON', hash: 'hex' },
  { name: 'geo', ddl: 'GEOMETRY', hash: 'hex' },
  // Generated columns: never written by the copy, computed by the target, hashed like the rest.
  { name: 'gen_s', ddl: "VARCHAR(400) AS (CONCAT(id, '-', vc)) PERSISTENT", hash: 'hex' },
  { name: 'gen_v', ddl: 'DOUBLE AS (d / 2) VIRTUAL', hash: 'text' },
];

const SQL_MODE = 'STRICT_ALL_TABLES';
const ROWS = 300;

/** Values of one row to insert on the SOURCE, by column (the hex columns as hex text; null for NULL). */
type SeedRow = Record<string, string | number | null>;

/** The INSERT expression of a column: bytes go as hex through UNHEX, geometry as WKT. */
function insertExpression(name: string): string {
  if (name === 'l1') return 'CONVERT(UNHEX(?) USING latin1)';
  if (['b1', 'b64', 'bn', 'vb', 'bl'].includes(name)) return 'UNHEX(?)';
  if (name === 'geo') return 'ST_GeomFromText(?)';
  return '?';
}

const seed = Number(process.env.FIDELITY_SEED ?? Date.now() % 2 ** 31);
const random = generator(seed);
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const bigRandom = (bits: number): bigint => BigInt('0x' + bytes(bits / 8).toString('hex'));

/** A finite DOUBLE from 64 random bits (MySQL cannot store NaN or ±Infinity). */
function randomDouble(): number {
  for (;;) {
    const value = bytes(8).readDoubleLE(0);
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
  }
}

/** A finite FLOAT from 32 random bits. */
function randomFloat(): number {
  for (;;) {
    const value = bytes(4).readFloatLE(0);
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
  }
}

const CHARS = ['a', 'Z', '0', ' ', 'é', 'ß', 'ç', '中', '😀', '𝄞', '🏳️‍🌈', '\u0301', '\u0000', "'", '"', '\\', '\n', '%', '_', '?'];
const text = (max: number): string => Array.from({ length: int(0, max) }, () => pick(CHARS)).join('');
/** Up to `max` code points, for columns whose length counts characters. */
const textOfLength = (max: number): string => [...text(max)].slice(0, max).join('');

const JSON_DOCS = [
  '{"b": 15.0, "a": [1, 2.50, -0.0, 1E+2, {"z": null, "y": "😀"}], "c": {"d": {"e": [true, false]}}}',
  '15.0',
  '[]',
  '{}',
  '"just a string with \\"quotes\\" and \\u00e9"',
  '{"z":1,"a":2,"m":{"k":1.000,"b":-1.5e-10}}',
  '[1.0, 1, 1.00, 100000000000000000000000000001, 0.1]',
];

function randomDate(): string {
  return `${int(1000, 9999)}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
}

function randomTime(): string {
  return `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999999), 6)}`;
}

function randomRow(): SeedRow {
  const row: SeedRow = {
    ti: int(-128, 127),
    tiu: int(0, 255),
    si: int(-32768, 32767),
    siu: int(0, 65535),
    mi: int(-8388608, 8388607),
    miu: int(0, 16777215),
    i: int(-2147483648, 2147483647),
    iu: int(0, 4294967295),
    bi: BigInt.asIntN(64, bigRandom(64)).toString(),
    biu: bigRandom(64).toString(),
    dec: `${random() < 0.5 ? '-' : ''}${bigRandom(112) % 10n ** 35n}.${pad(Number(bigRandom(32) % 10n ** 9n), 9)}${pad(int(0, 999999), 6)}${pad(int(0, 999999999), 9)}${pad(int(0, 999999), 6)}`,
    f: randomFloat(),
    d: randomDouble(),
    b1: pick(['00', '01']),
    b64: bytes(8).toString('hex'),
    dt: randomDate(),
    dtm: `${randomDate()} ${randomTime()}`,
    ts: new Date(int(1, 2147483647) * 1000).toISOString().slice(0, 19).replace('T', ' ') + `.${pad(int(0, 999999), 6)}`,
    tm: `${random() < 0.5 ? '-' : ''}${int(0, 837)}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999999), 6)}`,
    yr: int(1901, 2155),
    ch: textOfLength(20),
    vc: textOfLength(100),
    tx: text(400),
    l1: bytes(int(0, 300)).toString('hex'),
    bn: bytes(int(0, 16)).toString('hex'),
    vb: bytes(int(0, 300)).toString('hex'),
    bl: bytes(int(0, 3000)).toString('hex'),
    en: pick(['a', 'b', 'ç', '😀']),
    st: ['x', 'y', 'z', '😀'].filter(() => random() < 0.5).join(','),
    js: pick(JSON_DOCS),
    geo: pick([
      `POINT(${(random() * 2e6 - 1e6).toFixed(9)} ${(random() * 2e6 - 1e6).toFixed(9)})`,
      `POINT(${int(-180, 180)}.5 ${int(-90, 90)}.25)`,
      'POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))',
      `POLYGON((0 0,${int(1, 99)}.125 0,0 ${random().toFixed(12)},0 0))`,
    ]),
  };
  // NULLs everywhere: about one value in ten.
  for (const name of Object.keys(row)) if (random() < 0.1) row[name] = null;
  return row;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');

/** Rows 1–4: all NULL, minimums, maximums, zero dates and other edge values; then random rows. */
function seedRows(): SeedRow[] {
  const allNull: SeedRow = Object.fromEntries(COLUMNS.filter((c) => !c.name.startsWith('gen_')).map((c) => [c.name, null]));
  const minimums: SeedRow = {
    ...randomRow(),
    ti: -128, tiu: 0, si: -32768, siu: 0, mi: -8388608, miu: 0, i: -2147483648, iu: 0,
    bi: '-9223372036854775808', biu: '0',
    dec: '-99999999999999999999999999999999999.999999999999999999999999999999',
    f: -3.4028234663852886e38, d: -Number.MAX_VALUE,
    b1: '00', b64: '0000000000000000',
    dt: '1000-01-01', dtm: '1000-01-01 00:00:00.000000', ts: '1970-01-01 00:00:01.000000', tm: '-838:59:59.000000', yr: 1901,
    ch: '', vc: '', tx: '', l1: '', bn: '', vb: '', bl: '', en: 'a', st: '', js: '15.0', geo: 'POINT(0 0)',
  };
  const maximums: SeedRow = {
    ...randomRow(),
    ti: 127, tiu: 255, si: 32767, siu: 65535, mi: 8388607, miu: 16777215, i: 2147483647, iu: 4294967295,
    bi: '9223372036854775807', biu: '18446744073709551615',
    dec: '99999999999999999999999999999999999.999999999999999999999999999999',
    f: 3.4028234663852886e38, d: Number.MAX_VALUE,
    b1: '01', b64: 'ffffffffffffffff',
    dt: '9999-12-31', dtm: '9999-12-31 23:59:59.999999', ts: '2038-01-19 03:14:07.999999', tm: '838:59:59.000000', yr: 2155,
    ch: '😀'.repeat(20), vc: '𝄞'.repeat(300), tx: '😀'.repeat(16383), l1: ALL_BYTES, bn: 'ff'.repeat(16), vb: ALL_BYTES, bl: ALL_BYTES.repeat(255),
    en: '😀', st: 'x,y,z,😀', js: JSON_DOCS[0] as string, geo: 'POLYGON((0 0,10 0,10 10,0 10,0 0))',
  };
  const edges: SeedRow = {
    ...randomRow(),
    dec: '0.000000000000000000000000000001',
    f: 1.401298464324817e-45, d: Number.MIN_VALUE,
    dt: '0000-00-00', dtm: '0000-00-00 00:00:00.000000', ts: '0000-00-00 00:00:00.000000', tm: '-00:00:00.000001', yr: 0,
    l1: ALL_BYTES.split(/(..)/).filter(Boolean).reverse().join(''), vb: ALL_BYTES, bn: '00', bl: ALL_BYTES,
  };
  const zeroParts: SeedRow = { ...randomRow(), dt: '2024-00-00', dtm: '2024-02-00 12:00:00.500000', d: 2.2250738585072014e-308, f: 1.1754943508222875e-38, tm: '00:00:00.000000' };
  const rows = [allNull, minimums, maximums, edges, zeroParts];
  while (rows.length < ROWS) rows.push(randomRow());
  return rows;
}

let db: TestDatabases;
let source: PoolConnection;
let target: PoolConnection;
let table: TableMetadata;
let seeded: SeedRow[];
const names = COLUMNS.map((c) => c.name);

beforeAll(async () => {
  db = await createTestDatabases('fidelity');
  const ddl = `CREATE TABLE t (id INT PRIMARY KEY, ${COLUMNS.map((c) => `\`${c.name}\` ${c.ddl}`).join(', ')}) DEFAULT CHARSET=utf8mb4`;
  await Promise.all([db.source.query(ddl), db.target.query(ddl)]);
  source = await db.source.getConnection();
  target = await db.target.getConnection();
  await source.query('SET time_zone = ?, sql_mode = ?', ['+00:00', SQL_MODE]);
  seeded = seedRows();
  const written = COLUMNS.filter((c) => !c.name.startsWith('gen_'));
  const sql = `INSERT INTO t (id, ${written.map((c) => `\`${c.name}\``).join(', ')}) VALUES (?, ${written.map((c) => insertExpression(c.name)).join(', ')})`;
  // The binary protocol sends a JS number as an 8-byte DOUBLE: random bit patterns arrive exactly.
  for (const [index, row] of seeded.entries()) await source.execute(sql, [index + 1, ...written.map((c) => row[c.name] ?? null)]);
  // The SOURCE reads in another zone than the one it was written in: TIMESTAMP must not care.
  await source.query("SET time_zone = '-08:00'");
  await target.query('SET time_zone = ?, sql_mode = ?', ['+05:30', SQL_MODE]);
  table = await loadTable(db.source, db.name, 't', await loadServerSettings(db.source));
}, 120_000);

afterAll(async () => {
  source?.release();
  target?.release();
  await db?.drop();
});

/** Per-row SHA2 over every column, computed by the server, in primary-key order: [id, hash][]. */
async function rowHashes(side: PoolConnection): Promise<[number, string][]> {
  const parts = COLUMNS.map((c) => {
    const ref = `\`${c.name}\``;
    const exact = c.hash === 'hex' ? `HEX(${ref})` : c.hash === 'unix' ? `UNIX_TIMESTAMP(${ref})` : c.hash === 'float' ? `(${ref} + 0e0)` : ref;
    // No exact rendering contains "NULL" (HEX, numbers and dates cannot), so the marker is unambiguous.
    return `IFNULL(${exact}, 'NULL')`;
  });
  const [rows] = await side.query<RowDataPacket[]>({ sql: `SELECT id, SHA2(CONCAT_WS('#', id, ${parts.join(', ')}), 256) AS h FROM t ORDER BY id`, rowsAsArray: true });
  return (rows as unknown as [number, string][]).map(([id, hash]) => [Number(id), String(hash)]);
}

async function count(side: PoolConnection): Promise<number> {
  const [rows] = await side.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM t');
  return Number(rows[0]?.n);
}

/** Ids whose row hash differs, or that exist on one side only. */
async function differingIds(): Promise<number[]> {
  const [a, b] = await Promise.all([rowHashes(source), rowHashes(target)]);
  const other = new Map(b);
  const ids = new Set([...a.map(([id]) => id), ...b.map(([id]) => id)]);
  const mine = new Map(a);
  return [...ids].filter((id) => mine.get(id) !== other.get(id)).sort((x, y) => x - y);
}

/** `target` with its INSERT statements counted. */
function counting(): { runner: ExactQueryable; inserts: () => number } {
  let inserts = 0;
  const runner: ExactQueryable = {
    query: (options) => {
      if (options.sql.startsWith('INSERT')) inserts++;
      return target.query(options as QueryOptions);
    },
  };
  return { runner, inserts: () => inserts };
}

/** Copies every row in keyset chunks (read under a shared lock, written, then committed); returns rows inserted. */
async function copyAll(runner: ExactQueryable, chunk = 64): Promise<number> {
  let last: string | null = null;
  let inserted = 0;
  for (;;) {
    await source.beginTransaction();
    try {
      const where = last === null ? '' : 'WHERE id > ?';
      const read = await readExactRows(source, table, `${where} ORDER BY id LIMIT ${chunk} LOCK IN SHARE MODE`, last === null ? [] : [last]);
      inserted += await insertIgnoreRows(runner, table, read.columns, read.rows, { batchRows: 25, batchBytes: 16 * 1024 });
      await source.commit();
      if (read.rows.length < chunk) return inserted;
      last = String(read.rows.at(-1)?.[0]);
    } catch (error) {
      await source.rollback();
      throw error;
    }
  }
}

describe('every-type fidelity: SOURCE → TARGET with readExactRows + insertIgnoreRows', () => {
  it(`the SOURCE holds the generated values exactly (seed ${seed})`, async () => {
    const [rows] = await source.query<RowDataPacket[]>({ sql: 'SELECT id, d, f + 0e0 FROM t ORDER BY id', rowsAsArray: true, typeCast: (field, next) => (field.name === 'id' ? next() : field.string()) });
    for (const [id, d, f] of rows as unknown as [number, string | null, string | null][]) {
      const row = seeded[id - 1] as SeedRow;
      // The server's text of every random DOUBLE/FLOAT parses back to the very same bits.
      expect(d === null ? null : Number(d), `d of row ${id}`).toBe(row.d);
      expect(f === null ? null : Number(f), `f of row ${id}`).toBe(row.f);
    }
  });

  it('copies every row and the servers find every row byte-identical', async () => {
    const { runner, inserts } = counting();
    expect(await copyAll(runner)).toBe(ROWS);
    // The 16 KiB byte bound splits batches the 25-row bound alone would not.
    expect(inserts()).toBeGreaterThan(Math.ceil(ROWS / 25));
    expect(await count(target)).toBe(await count(source));
    expect((await rowHashes(source)).length).toBe(ROWS);
    expect(await differingIds()).toEqual([]);
    // The session's zone is restored after the writes.
    const [zone] = await target.query<RowDataPacket[]>('SELECT @@session.time_zone AS z');
    expect(zone[0]?.z).toBe('+05:30');
  });

  it('the all-NULL row stays all NULL (generated columns too)', async () => {
    const [rows] = await target.query<RowDataPacket[]>({ sql: `SELECT ${names.map((n) => `\`${n}\``).join(', ')} FROM t WHERE id = 1`, rowsAsArray: true });
    expect(rows[0]).toEqual(names.map(() => null));
  });

  it('the comparison fails on one DOUBLE ulp and one DATETIME microsecond, at exactly those rows; a second copy overwrites nothing', async () => {
    const candidates = seeded.map((row, i) => ({ row, id: i + 1 })).slice(5);
    const doubleRow = candidates.find(({ row }) => typeof row.d === 'number' && Math.abs(row.d) > 1e-300 && Math.abs(row.d) < 1e300);
    const dateRow = candidates.find(({ row, id }) => typeof row.dtm === 'string' && id !== doubleRow?.id);
    if (doubleRow === undefined || dateRow === undefined) throw new Error('no row to change');
    await target.query('UPDATE t SET d = d + POW(2, -52) * d WHERE id = ?', [doubleRow.id]);
    await target.query('UPDATE t SET dtm = dtm + INTERVAL 1 MICROSECOND WHERE id = ?', [dateRow.id]);
    expect(await differingIds()).toEqual([doubleRow.id, dateRow.id].sort((x, y) => x - y));
    // INSERT IGNORE semantics: rows already on the TARGET (here the changed ones) are kept as they are.
    expect(await copyAll(target)).toBe(0);
    expect(await differingIds()).toEqual([doubleRow.id, dateRow.id].sort((x, y) => x - y));
  });
});

describe('insertIgnoreRows refuses a changed value', () => {
  it('raises CopyChangedValueError when IGNORE would truncate a value, and skips duplicates silently', async () => {
    await target.query('CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(3))');
    const narrow = await loadTable(db.target, db.name, 'narrow', await loadServerSettings(db.target));
    expect(await insertIgnoreRows(target, narrow, ['id', 'v'], [['1', 'abc'], ['2', null]])).toBe(2);
    expect(await insertIgnoreRows(target, narrow, ['id', 'v'], [['1', 'xyz'], ['3', 'def']])).toBe(1);
    await expect(insertIgnoreRows(target, narrow, ['id', 'v'], [['4', 'abcdef']])).rejects.toThrow(CopyChangedValueError);
  });
});

/**
 * Chunk checksums and row hashes against the two real servers: identical rows give identical
 * checksums even when the sessions' time zones differ, and any change of one value — including
 * NULL ↔ '' and NULL ↔ 0 — changes the chunk checksum and the hash of exactly that row.
 * Changes are made on the TARGET inside a transaction that is rolled back, so every case starts
 * from identical sides.
 */
import type { PoolConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKSUM_BUCKETS, chunkChecksum, chunkChecksumQuery, differingBuckets, rowHashes, rowHashesQuery, rowHashExpression, type ChunkChecksum, type KeyRange } from '../../src/migrate/checksum.js';
import { queryExact } from '../../src/migrate/codec.js';
import { loadServerSettings, loadTable, type TableMetadata } from '../../src/schema/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let table: TableMetadata;
let source: PoolConnection;
let target: PoolConnection;

const ALL: KeyRange = { lowerExclusive: null, upperInclusive: null };

/** Random DOUBLE bit patterns (finite), printed with 17 digits so the server parses the same double. */
function randomDoubles(count: number): string[] {
  const out: string[] = [];
  const view = new DataView(new ArrayBuffer(8));
  while (out.length < count) {
    for (let i = 0; i < 8; i++) view.setUint8(i, Math.floor(Math.random() * 256));
    const value = view.getFloat64(0);
    if (Number.isFinite(value)) out.push(value.toPrecision(17));
  }
  return out;
}

beforeAll(async () => {
  db = await createTestDatabases('checksum');
  const ddl = `CREATE TABLE t (
    id INT NOT NULL PRIMARY KEY,
    ti TINYINT, bu BIGINT UNSIGNED, dc DECIMAL(65,30), dbl DOUBLE, flt FLOAT,
    dt DATETIME(6), ts TIMESTAMP(6) NULL, vc VARCHAR(50) CHARACTER SET utf8mb4, lat VARCHAR(20) CHARACTER SET latin1,
    vb VARBINARY(300), js JSON, lt LONGTEXT, bt BIT(64), g INT AS (id * 2) VIRTUAL
  )`;
  const doubles = randomDoubles(3);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const rows: string[] = [
    `(1, 0, 18446744073709551615, -12345678901234567890123456789012345.000000000000000000000000000001, ${doubles[0]}, 0.1, '2024-02-29 23:59:59.999999', '2023-10-29 01:30:00.000001', '', 'ab', X'${allBytes.toString('hex')}', '{"b": 15.0, "a": [1, "x"]}', REPEAT('long', 1000), b'1010')`,
    '(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)',
    `(3, -128, 0, 0.000000000000000000000000000001, ${doubles[1]}, 3.4028234e38, '1000-01-01 00:00:00.000000', '2038-01-19 03:14:07.000000', 'I 😀 utf8 🍕', 'café', X'00', '[]', '', b'0')`,
    `(4, 127, 9007199254740993, 1.5, ${doubles[2]}, -1.17549435e-38, '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01.000000', 'NULL', 'N', X'', 'null', 'NULL', X'FFFFFFFFFFFFFFFF')`,
    "(5, 1, 1, 1, 1, 1, '2000-01-01 00:00:00', '2000-01-01 00:00:00', 'c', 'd', X'20', '{}', 'x', b'1')",
  ];
  for (const side of [db.source, db.target]) {
    await side.query(ddl);
    const connection = await side.getConnection();
    await connection.query("SET time_zone = '+00:00'");
    await connection.query(`INSERT INTO t (id, ti, bu, dc, dbl, flt, dt, ts, vc, lat, vb, js, lt, bt) VALUES ${rows.join(', ')}`);
    await connection.query("SET time_zone = 'SYSTEM'");
    connection.release();
  }
  table = await loadTable(db.source, db.name, 't', await loadServerSettings(db.source));
  // Each side reads in a session of its own time zone, both different from the one that wrote.
  source = await db.source.getConnection();
  target = await db.target.getConnection();
  await source.query("SET time_zone = '+05:30'");
  await target.query("SET time_zone = '-08:00'");
});

afterAll(async () => {
  for (const connection of [source, target]) {
    await connection?.query("SET time_zone = 'SYSTEM'");
    connection?.release();
  }
  await db?.drop();
});

describe('identical rows', () => {
  it('give equal chunk checksums and row hashes although the sessions print TIMESTAMPs differently', async () => {
    const sourceTs = (await queryExact(source, 'SELECT ts FROM t WHERE id = 1'))[0]?.[0];
    const targetTs = (await queryExact(target, 'SELECT ts FROM t WHERE id = 1'))[0]?.[0];
    expect(sourceTs).toBe('2023-10-29 07:00:00.000001');
    expect(targetTs).toBe('2023-10-28 17:30:00.000001');

    const sourceSum = await chunkChecksum(source, table, ALL);
    expect(sourceSum.rows).toBe(5);
    expect(sourceSum.checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(await chunkChecksum(target, table, ALL)).toEqual(sourceSum);
    const hashes = await rowHashes(source, table, ALL);
    expect(hashes.map((row) => row.key)).toEqual([['1'], ['2'], ['3'], ['4'], ['5']]);
    expect(new Set(hashes.map((row) => row.hash)).size).toBe(5);
    expect(await rowHashes(target, table, ALL)).toEqual(hashes);
  });

  it('cover exactly the rows of a range (lower exclusive, upper inclusive) and give zeros for an empty one', async () => {
    const range: KeyRange = { lowerExclusive: ['1'], upperInclusive: ['3'] };
    const sum = await chunkChecksum(source, table, range);
    expect(sum.rows).toBe(2);
    expect(await chunkChecksum(target, table, range)).toEqual(sum);
    expect((await rowHashes(source, table, range)).map((row) => row.key)).toEqual([['2'], ['3']]);
    expect((await rowHashes(source, table, { lowerExclusive: ['3'], upperInclusive: null })).map((row) => row.key)).toEqual([['4'], ['5']]);
    expect(await chunkChecksum(source, table, { lowerExclusive: ['5'], upperInclusive: null })).toEqual({ rows: 0, checksum: '0'.repeat(16), buckets: [], digests: [] });
  });

  it('split the rows into buckets whose counts and checksums add up to the chunk', async () => {
    const sum = await chunkChecksum(source, table, ALL);
    expect(sum.buckets.reduce((rows, bucket) => rows + bucket.rows, 0)).toBe(5);
    expect(sum.buckets.reduce((xor, bucket) => xor ^ BigInt(`0x${bucket.checksum}`), 0n).toString(16).padStart(16, '0')).toBe(sum.checksum);
    for (const bucket of sum.buckets) expect(bucket.bucket).toBeLessThan(CHECKSUM_BUCKETS);
    const all = sum.buckets.map((bucket) => bucket.bucket);
    expect((await rowHashes(source, table, ALL, all)).length).toBe(5);
    expect(() => rowHashesQuery(table, ALL, [CHECKSUM_BUCKETS])).toThrow(/bucket numbers/);
    expect(() => rowHashesQuery(table, ALL, [])).toThrow(/bucket numbers/);
    expect(differingBuckets(sum, sum)).toEqual([]);
  });

  it('hash every non-generated column and only them', () => {
    const expression = rowHashExpression(table);
    for (const column of table.columns) expect(expression.includes(`\`${column.name}\``)).toBe(column.name !== 'g');
    expect(expression).toContain('UNIX_TIMESTAMP(`ts`)');
    expect(expression).toContain('(`flt` + 0e0)');
    expect(chunkChecksumQuery(table, ALL).values).toEqual([]);
  });
});

/** One change on the TARGET: [what it shows, the row, the SET clause]. */
const CHANGES: [string, number, string][] = [
  ['TINYINT +1', 5, 'ti = ti + 1'],
  ['NULL → 0', 2, 'ti = 0'],
  ['0 → NULL', 1, 'ti = NULL'],
  ['BIGINT UNSIGNED near 2^64', 1, 'bu = 18446744073709551614'],
  ['BIGINT UNSIGNED above 2^53', 4, 'bu = 9007199254740992'],
  ['DECIMAL last digit', 3, 'dc = 0.000000000000000000000000000002'],
  ['DOUBLE one ulp', 5, 'dbl = 1.0000000000000002'],
  ['FLOAT one ulp', 5, 'flt = 1.00000012'],
  ['DATETIME(6) one microsecond', 1, "dt = '2024-02-29 23:59:59.999998'"],
  ['TIMESTAMP(6) one microsecond', 3, 'ts = ts - INTERVAL 1 MICROSECOND'],
  ["'' → NULL", 1, 'vc = NULL'],
  ["NULL → ''", 2, "vc = ''"],
  ["the text 'NULL' → NULL", 4, 'vc = NULL'],
  ['a 4-byte character', 3, "vc = 'I 😁 utf8 🍕'"],
  ['text moved across a column boundary (\'\' + ab → a + b)', 1, "vc = 'a', lat = 'b'"],
  ['latin1 accent', 3, "lat = 'cafe'"],
  ['one byte of 256', 1, 'vb = INSERT(vb, 200, 1, X\'00\')'],
  ["X'' → NULL", 4, 'vb = NULL'],
  ['JSON number 15.0 → 15', 1, 'js = \'{"b": 15, "a": [1, "x"]}\''],
  ['LONGTEXT one character', 1, "lt = CONCAT(lt, '.')"],
  ["LONGTEXT '' → NULL", 3, 'lt = NULL'],
  ['BIT one bit', 4, "bt = X'FFFFFFFFFFFFFFFE'"],
];

describe('one changed value', () => {
  const before = { sum: '', hashes: [] as string[], chunk: null as ChunkChecksum | null };
  beforeAll(async () => {
    before.chunk = await chunkChecksum(source, table, ALL);
    before.sum = before.chunk.checksum;
    before.hashes = (await rowHashes(source, table, ALL)).map((row) => row.hash);
  });

  it.each(CHANGES)('%s changes the chunk checksum and the hash of that row only', async (_what, id, assignment) => {
    await target.query('BEGIN');
    try {
      const [result] = await target.query(`UPDATE t SET ${assignment} WHERE id = ?`, [id]);
      expect((result as { changedRows: number }).changedRows).toBe(1);
      const sum = await chunkChecksum(target, table, ALL);
      expect(sum.rows).toBe(5);
      expect(sum.checksum).not.toBe(before.sum);
      const hashes = (await rowHashes(target, table, ALL)).map((row) => row.hash);
      const differing = hashes.flatMap((hash, i) => (hash === before.hashes[i] ? [] : [i + 1]));
      expect(differing).toEqual([id]);
      // Exactly the changed row's bucket differs, and the drill-down of that bucket holds the row.
      const buckets = differingBuckets(before.chunk as ChunkChecksum, sum);
      expect(buckets).toHaveLength(1);
      expect((await rowHashes(target, table, ALL, buckets)).map((row) => row.key)).toContainEqual([String(id)]);
    } finally {
      await target.query('ROLLBACK');
    }
  });

  it('a missing row changes the count and drops its key from the drill-down', async () => {
    await target.query('BEGIN');
    try {
      await target.query('DELETE FROM t WHERE id = 3');
      const sum = await chunkChecksum(target, table, ALL);
      expect(sum.rows).toBe(4);
      expect(sum.checksum).not.toBe(before.sum);
      expect((await rowHashes(target, table, ALL)).map((row) => row.key)).toEqual([['1'], ['2'], ['4'], ['5']]);
      const buckets = differingBuckets(before.chunk as ChunkChecksum, sum);
      expect(buckets).toHaveLength(1);
      expect((await rowHashes(source, table, ALL, buckets)).map((row) => row.key)).toContainEqual(['3']);
      expect((await rowHashes(target, table, ALL, buckets)).map((row) => row.key)).not.toContainEqual(['3']);
      expect(await chunkChecksum(target, table, { lowerExclusive: ['3'], upperInclusive: null })).toEqual(await chunkChecksum(source, table, { lowerExclusive: ['3'], upperInclusive: null }));
    } finally {
      await target.query('ROLLBACK');
    }
  });
});
